"""Plots the chapters share: image grids, feature maps, stepping animations."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np


def _grid(arrays, titles, ncols, size, show, fontsize):
    """One small axes per array, ``show(ax, array)`` drawing each; returns the figure."""
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"{len(titles)} titles for {len(arrays)} images")
    nrows = -(-len(arrays) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(arrays):
            show(ax, arrays[i])
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=fontsize)
    fig.tight_layout()
    return fig


def image_grid(images, titles=None, ncols: int = 10, size: float = 1.0, cmap: str = "gray_r"):
    """Show images (N, H, W), (N, 1, H, W) or (N, H, W, 1) in a grid; returns the figure."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    elif images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W) or one-channel 4-D, got shape {images.shape}")
    return _grid(images, titles, ncols, size, lambda ax, im: ax.imshow(im, cmap=cmap), 8)


def feature_maps(maps, titles=None, ncols: int = 4, size: float = 1.6, cmap: str = "RdBu_r",
                 symmetric: bool = True):
    """Show feature maps (K, H, W) side by side; ``symmetric``: a colour scale centred on 0
    (for signed maps and kernels), else each map's own range (for ReLU outputs)."""
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (K, H, W), got shape {maps.shape}")

    def show(ax, m):
        limit = float(np.abs(m).max()) or 1.0
        ax.imshow(m, cmap=cmap, **({"vmin": -limit, "vmax": limit} if symmetric else {}))

    return _grid(maps, titles, ncols, size, show, 9)


# --- stepping animations ---------------------------------------------------------------------

_CDN_STYLESHEET = re.compile(r"<link[^>]+href=\"https?://[^\"]+\"[^>]*>\s*")


def html_animation(anim) -> str:
    """A matplotlib animation as self-contained HTML with play/step controls.

    ``to_jshtml`` embeds every frame as a PNG and its player's JavaScript, so it plays in
    the static book with no kernel. It also links Font Awesome from a CDN for its button
    icons; the book must not reach the internet, so that link is removed (the book's theme
    ships Font Awesome itself).
    """
    return _CDN_STYLESHEET.sub("", anim.to_jshtml(default_mode="once"))


def _draw_grid(ax, values, title, highlight=(), color="tab:orange", hidden=(), fmt="{:g}"):
    """Draw a 2-D array as a table of numbers; ``highlight`` cells get ``color``."""
    rows, cols = values.shape
    ax.clear()
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    for (i, j), v in np.ndenumerate(values):
        face = color if (i, j) in highlight else "white"
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=face, edgecolor="0.4",
                                   alpha=0.9 if face != "white" else 1.0))
        if (i, j) not in hidden:
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=9)


def _window_animation(padded, pad_cells, out, window, caption, kernel=None, padding_label="",
                      interval=900, cell_inches=0.42) -> str:
    """Shared stepping animation: input (window highlighted), optional kernel, output.

    ``window(i, j)`` gives the set of padded-input cells under output (i, j); ``caption(i, j,
    cells)`` the line shown above. One frame per output cell, in row-major order.
    """
    from matplotlib.animation import FuncAnimation

    grids = [padded] + ([kernel] if kernel is not None else []) + [out]
    # Width ratios = column counts and a height that fits the tallest grid: equal-sized cells.
    widths = [g.shape[1] for g in grids]
    rows = max(g.shape[0] for g in grids)
    fig, axes = plt.subplots(1, len(grids), figsize=(cell_inches * (sum(widths) + len(grids)),
                                                     cell_inches * rows + 0.9),
                             gridspec_kw={"width_ratios": widths, "wspace": 0.6})
    cells = list(np.ndindex(*out.shape))

    def frame(t):
        oi, oj = cells[t]
        under = window(oi, oj)
        _draw_grid(axes[0], padded, "input" + padding_label, under)
        for i, j in pad_cells:  # grey out the padding
            axes[0].add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color="0.85", alpha=0.5))
        if kernel is not None:
            _draw_grid(axes[1], kernel, "kernel", set(np.ndindex(*kernel.shape)))
        _draw_grid(axes[-1], out, "output", {(oi, oj)}, color="tab:green",
                   hidden=set(cells[t + 1:]))
        fig.suptitle(caption(oi, oj, sorted(under)), fontsize=9)

    fig.subplots_adjust(top=1 - 0.75 / fig.get_figheight(), bottom=0.02, left=0.02, right=0.98)
    anim = FuncAnimation(fig, frame, frames=len(cells), interval=interval)
    html = html_animation(anim)
    plt.close(fig)
    return html


def _padded_with_cells(image, ph, pw, value=0.0):
    padded = np.pad(image, ((ph, ph), (pw, pw)), constant_values=value)
    pad_cells = {(i, j) for i, j in np.ndindex(*padded.shape)
                 if not (ph <= i < ph + image.shape[0] and pw <= j < pw + image.shape[1])}
    return padded, pad_cells


def conv_animation(image, kernel, stride=1, padding=0, dilation=1, interval=900,
                   cell_inches: float = 0.42) -> str:
    """Step a 2-D cross-correlation through its output cells, one frame per cell.

    Shows the (zero-padded) input with the window highlighted, the kernel, and the output
    filling up; returns HTML that plays in the static book (see :func:`html_animation`).
    Uses the library's :func:`cnnbook.scratch.conv2d` for the values it shows.
    """
    from cnnbook.scratch import conv2d
    from cnnbook.shapes import pair

    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got {image.shape} and {kernel.shape}")
    out = conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding,
                 dilation=dilation)[0, 0]
    (sh, sw), (dh, dw), (ph, pw) = (pair(stride, "stride"), pair(dilation, "dilation"),
                                    pair(padding, "padding", minimum=0))
    padded, pad_cells = _padded_with_cells(image, ph, pw)

    def window(oi, oj):
        return {(oi * sh + a * dh, oj * sw + b * dw) for a, b in np.ndindex(*kernel.shape)}

    def caption(oi, oj, under):
        terms = " + ".join(f"{padded[i, j]:g}*{kernel[a, b]:g}"
                           for (a, b), (i, j) in zip(np.ndindex(*kernel.shape), under))
        return (f"output[{oi}, {oj}] = {terms} = {out[oi, oj]:g}" if len(terms) < 90
                else f"output[{oi}, {oj}] = {out[oi, oj]:g}")

    return _window_animation(padded, pad_cells, out, window, caption, kernel=kernel,
                             padding_label=" (zero-padded)" if ph or pw else "",
                             interval=interval, cell_inches=cell_inches)


def pool_animation(image, kernel_size, stride=None, padding=0, mode="max", interval=900,
                   cell_inches: float = 0.42) -> str:
    """Step max or average pooling through its output cells, one frame per cell.

    Padding is shown as it acts: -inf for max pooling (it never wins), 0 for average
    pooling (counted, as PyTorch's default ``count_include_pad=True`` does).
    """
    from cnnbook.scratch import avg_pool2d, max_pool2d
    from cnnbook.shapes import pair

    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    image = np.asarray(image, float)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D, got {image.shape}")
    pool = max_pool2d if mode == "max" else avg_pool2d
    out = pool(image[None, None], kernel_size, stride, padding)[0, 0]
    (kh, kw), (ph, pw) = pair(kernel_size, "kernel_size"), pair(padding, "padding", minimum=0)
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    padded, pad_cells = _padded_with_cells(image, ph, pw, -np.inf if mode == "max" else 0.0)

    def window(oi, oj):
        return {(oi * sh + a, oj * sw + b) for a, b in np.ndindex(kh, kw)}

    def caption(oi, oj, under):
        values = ", ".join(f"{padded[i, j]:g}" for i, j in under)
        return f"output[{oi}, {oj}] = {mode}({values}) = {out[oi, oj]:.3g}"

    label = {"max": " (padded with -inf)", "avg": " (zero-padded)"}[mode] if ph or pw else ""
    return _window_animation(padded, pad_cells, out, window, caption, padding_label=label,
                             interval=interval, cell_inches=cell_inches)


# --- training ---------------------------------------------------------------------------------

def learning_curves(histories, size=(9, 3)):
    """Loss and test accuracy per epoch for one or more runs: {name: History}."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=size)
    for i, (name, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h.seconds) + 1)
        color = f"C{i}"
        ax_loss.plot(epochs, h.train_loss, color=color, label=f"{name}: train")
        ax_loss.plot(epochs, h.test_loss, color=color, linestyle="--", label=f"{name}: test")
        ax_acc.plot(epochs, np.asarray(h.test_accuracy) * 100, color=color, label=name)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss (solid: train, dashed: test)")
    ax_acc.set(xlabel="epoch", ylabel="%", title="test accuracy")
    ax_acc.legend(fontsize=8)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_matrix(labels, predictions, num_classes=10):
    """counts[true, predicted] for integer labels and predictions."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ")
    return np.bincount(labels * num_classes + predictions,
                       minlength=num_classes ** 2).reshape(num_classes, num_classes)


def plot_confusion(counts, size=4.5):
    """Show a confusion matrix with its counts; the diagonal is what the model got right."""
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(counts, cmap="Blues")
    for (i, j), v in np.ndenumerate(counts):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > counts.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(len(counts)), yticks=range(len(counts)))
    fig.tight_layout()
    return fig
