"""Plots the chapters share: image grids, feature maps, stepping animations."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np


def image_grid(images, titles=None, ncols: int = 10, size: float = 1.0, cmap: str = "gray_r"):
    """Show images (N, H, W), (N, 1, H, W) or (N, H, W, 1) in a grid; returns the figure."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    elif images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W) or one-channel 4-D, got shape {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig


def feature_maps(maps, titles=None, ncols: int = 4, size: float = 1.6, cmap: str = "RdBu_r"):
    """Show feature maps (K, H, W) side by side, each on a colour scale symmetric about 0."""
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (K, H, W), got shape {maps.shape}")
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(maps):
            limit = float(np.abs(maps[i]).max()) or 1.0
            ax.imshow(maps[i], cmap=cmap, vmin=-limit, vmax=limit)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    return fig


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
