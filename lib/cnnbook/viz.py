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


def _draw_grid(ax, values, title, highlight=(), color="tab:orange", hidden=(), fmt="{:g}",
               fills=None):
    """Draw a 2-D array as a table of numbers; ``highlight`` cells get ``color``, and
    ``fills`` (a dict (i, j) -> colour) gives cells colours of their own."""
    rows, cols = values.shape
    ax.clear()
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fills = fills or {}
    for (i, j), v in np.ndenumerate(values):
        face = fills.get((i, j), color if (i, j) in highlight else "white")
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


# --- convolution diagrams ---------------------------------------------------------------------

def channel_sum(x, w, channel_names=None, size: float = 1.25):
    """One filter over a C-channel input: each channel with its own kernel, then the sum.

    x (C, H, W), w (C, FH, FW): the filter is C kernels deep. Row c shows input channel c,
    kernel c and their cross-correlation (valid, stride 1); the right column shows the sum
    over the rows, which is the filter's one output map, (H - FH + 1, W - FW + 1). Values are
    computed with :func:`cnnbook.scratch.conv2d`. Returns the figure.
    """
    from cnnbook.scratch import conv2d

    x, w = np.asarray(x, float), np.asarray(w, float)
    if x.ndim != 3 or w.ndim != 3 or x.shape[0] != w.shape[0]:
        raise ValueError(f"x must be (C, H, W) and w (C, FH, FW) with the same C, got "
                         f"x {x.shape} and w {w.shape}")
    c = x.shape[0]
    names = channel_names or [f"channel {i}" for i in range(c)]
    if len(names) != c:
        raise ValueError(f"{len(names)} channel names for {c} channels")
    partial = conv2d(x[None], w[:, None], groups=c)[0]  # (C, OH, OW): channel c, kernel c
    total = conv2d(x[None], w[None])[0, 0]              # (OH, OW): one filter, C deep
    fig = plt.figure(figsize=(4.6 * size, c * size + 0.3))
    grid = fig.add_gridspec(c, 4, width_ratios=[1, 0.8, 1, 1.5], wspace=0.45, hspace=0.35)

    def show(ax, image, title):
        limit = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)

    for i in range(c):
        show(fig.add_subplot(grid[i, 0]), x[i], f"input: {names[i]}")
        show(fig.add_subplot(grid[i, 1]), w[i], f"kernel {i}")
        show(fig.add_subplot(grid[i, 2]), partial[i], f"{names[i]} \u22c6 kernel {i}")
    ax_sum = fig.add_subplot(grid[:, 3])
    show(ax_sum, total, f"sum over the {c} channels:\none output map")
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - 0.45 / fig.get_figheight(), bottom=0.03)
    return fig


def channel_connections(masks, titles=None, size: float = 2.3):
    """Which input channels each output channel sees, as lines, one panel per mask.

    ``masks``: a list of (K, C) boolean arrays, ``mask[k, c]`` true when output channel k
    depends on input channel c (all true for an ordinary convolution, block-diagonal with
    groups, one-to-one for a depthwise convolution with K = C). Returns the figure.
    """
    masks = [np.asarray(m, bool) for m in masks]
    if not masks or any(m.ndim != 2 for m in masks):
        raise ValueError(f"masks must be a non-empty list of (K, C) arrays, got shapes "
                         f"{[m.shape for m in masks]}")
    if titles is not None and len(titles) != len(masks):
        raise ValueError(f"{len(titles)} titles for {len(masks)} masks")
    fig, axes = plt.subplots(1, len(masks), figsize=(size * len(masks), size * 1.15),
                             squeeze=False)
    for i, (ax, mask) in enumerate(zip(axes[0], masks)):
        k, c = mask.shape
        y_in = np.linspace(1, 0, c) if c > 1 else np.array([0.5])
        y_out = np.linspace(1, 0, k) if k > 1 else np.array([0.5])
        for kk, cc in zip(*np.nonzero(mask)):
            ax.plot([0, 1], [y_in[cc], y_out[kk]], color="0.45", lw=1)
        ax.scatter(np.zeros(c), y_in, s=90, color="tab:blue", zorder=3)
        ax.scatter(np.ones(k), y_out, s=90, color="tab:orange", zorder=3)
        ax.text(0, 1.12, f"in: C={c}", ha="center", fontsize=8)
        ax.text(1, 1.12, f"out: K={k}", ha="center", fontsize=8)
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylim(-0.1, 1.2)
        ax.axis("off")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig


def memory_order(channels: int, height: int, width: int, layout: str = "NCHW"):
    """The (c, h, w) index of each element of one image, in the order memory holds them.

    Returns an int array (C*H*W, 3). ``layout`` "NCHW": a whole channel after another
    (PyTorch's default); "NHWC": the C values of a pixel after another (TensorFlow's).
    """
    for name, value in (("channels", channels), ("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    index = np.stack(np.meshgrid(np.arange(channels), np.arange(height), np.arange(width),
                                 indexing="ij"), axis=-1)         # (C, H, W, 3): (c, h, w)
    if layout == "NCHW":
        return index.reshape(-1, 3)
    if layout == "NHWC":
        return index.transpose(1, 2, 0, 3).reshape(-1, 3)          # pixel by pixel
    raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")


def draw_memory_order(channels: int = 3, height: int = 2, width: int = 3,
                      cell_inches: float = 0.42):
    """Both memory orders of one (C, H, W) image as strips of cells, coloured by channel.

    Each cell is labelled with its channel (R, G, B for three channels) and pixel (h, w).
    Returns the figure.
    """
    names = "RGB" if channels == 3 else [str(i) for i in range(channels)]
    colors = ["#e45756", "#54a24b", "#4c78a8"] if channels == 3 else [
        f"C{i}" for i in range(channels)]
    n = channels * height * width
    fig, axes = plt.subplots(2, 1, figsize=(cell_inches * n + 0.4, 2.0))
    titles = {"NCHW": "NCHW (PyTorch): all of channel R, then all of G, then B",
              "NHWC": "NHWC (TensorFlow): the channels of pixel (0, 0), then of (0, 1), ..."}
    if channels != 3:
        titles = {"NCHW": "NCHW: one whole channel after another",
                  "NHWC": "NHWC: the channels of one pixel after another"}
    for ax, layout in zip(axes, ("NCHW", "NHWC")):
        order = memory_order(channels, height, width, layout)
        for pos, (c, h, w) in enumerate(order):
            ax.add_patch(plt.Rectangle((pos, 0), 1, 1, facecolor=colors[c], edgecolor="white",
                                       alpha=0.8))
            ax.text(pos + 0.5, 0.5, f"{names[c]}\n{h},{w}", ha="center", va="center",
                    fontsize=7, color="white")
        ax.set_xlim(0, n)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(titles[layout], fontsize=9, loc="left")
    fig.text(0.5, 0.01, "memory address \u2192", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def im2col_diagram(x, w, rows=(0, 1, -1)):
    """im2col + GEMM on one small image: windows become rows, filters become columns.

    x (H, W): one channel; w (K, FH, FW): K filters. Four panels: the input with the windows
    of the output pixels ``rows`` outlined; the im2col matrix (OH*OW, FH*FW) with those rows
    in the same colours; the kernel matrix (FH*FW, K), one filter per column; and their
    product (OH*OW, K), which reshapes to the K output maps. Values come from
    :func:`cnnbook.scratch.im2col` and :func:`cnnbook.scratch.conv2d`. Returns the figure.
    """
    from cnnbook.scratch import conv2d, im2col

    x, w = np.asarray(x, float), np.asarray(w, float)
    if x.ndim != 2 or w.ndim != 3:
        raise ValueError(f"x must be (H, W) and w (K, FH, FW), got {x.shape} and {w.shape}")
    k, fh, fw = w.shape
    cols = im2col(x[None, None], (fh, fw))                        # (OH*OW, FH*FW)
    kernel = w.reshape(k, -1).T                                  # (FH*FW, K)
    y = conv2d(x[None, None], w[:, None])[0]                     # (K, OH, OW)
    product = y.reshape(k, -1).T                                 # (OH*OW, K)
    oh, ow = y.shape[1:]
    picked = [r % len(cols) for r in rows]
    row_colors = dict(zip(picked, ["tab:orange", "tab:green", "tab:purple", "tab:red"]))
    filter_colors = [f"C{i}" for i in (0, 9, 5, 6, 8)]
    widths = [x.shape[1], cols.shape[1], k, k]
    fig, axes = plt.subplots(1, 4, figsize=(0.33 * (sum(widths) + 7), 0.3 * len(cols) + 1.0),
                             gridspec_kw={"width_ratios": widths, "wspace": 0.9})
    _draw_grid(axes[0], x, f"input {x.shape[0]}x{x.shape[1]}")
    for n, (r, color) in enumerate(row_colors.items()):
        i, j = divmod(r, ow)
        inset = 0.08 * (n + 1)
        axes[0].add_patch(plt.Rectangle((j - 0.5 + inset, i - 0.5 + inset), fw - 2 * inset,
                                        fh - 2 * inset, fill=False, edgecolor=color, lw=2.2))
    _draw_grid(axes[1], cols, f"im2col: one window\nper row ({len(cols)}, {cols.shape[1]})",
               fills={(r, j): c for r, c in row_colors.items() for j in range(cols.shape[1])})
    _draw_grid(axes[2], kernel, f"kernel: one filter\nper column ({fh * fw}, {k})",
               fills={(i, j): filter_colors[j % 5] for i in range(fh * fw) for j in range(k)})
    _draw_grid(axes[3], product, f"one GEMM:\n({len(cols)}, {k})",
               fills={(r, j): c for r, c in row_colors.items() for j in range(k)})
    for ax in axes:
        ax.apply_aspect()  # the final positions, so that the symbols land between panels
    for left, symbol in ((0, "\u2192"), (1, "@"), (2, "=")):
        a, b = axes[left].get_position(), axes[left + 1].get_position()
        fig.text((a.x1 + b.x0) / 2, (a.y0 + a.y1) / 2, symbol, ha="center", va="center",
                 fontsize=14)
    below = axes[3].get_position()
    fig.text(below.x1, below.y0 - 0.04, f"reshape: ({len(cols)}, {k}) \u2192 {k} output maps "
             f"{oh}x{ow}", ha="right", va="top", fontsize=8)
    return fig


# --- backward passes ---------------------------------------------------------------------------

def value_grids(arrays, titles=None, fills=None, between=None, fmt="{:g}",
                cell_inches: float = 0.42):
    """Small 2-D arrays side by side as tables of numbers, cells of one size in every panel.

    ``arrays``: a list of 2-D arrays; ``titles``: one per array; ``fills``: one dict
    (i, j) -> colour per array (or None) colouring chosen cells; ``between``: one symbol per
    gap between panels (such as an arrow), drawn centred in it. Returns the figure.
    """
    arrays = [np.asarray(a) for a in arrays]
    if not arrays or any(a.ndim != 2 for a in arrays):
        raise ValueError(f"arrays must be a non-empty list of 2-D arrays, got shapes "
                         f"{[a.shape for a in arrays]}")
    for name, extra, want in (("titles", titles, len(arrays)), ("fills", fills, len(arrays)),
                              ("between", between, len(arrays) - 1)):
        if extra is not None and len(extra) != want:
            raise ValueError(f"{name} needs {want} entries for {len(arrays)} arrays, "
                             f"got {len(extra)}")
    # Width ratios = column counts, gaps of 1.2 cells and a height that fits the tallest
    # array: cells of one size in every panel.
    widths = [a.shape[1] for a in arrays]
    rows = max(a.shape[0] for a in arrays)
    fig_w = cell_inches * (sum(widths) + 1.2 * (len(arrays) - 1)) + 0.3
    fig_h = cell_inches * rows + 0.5
    fig, axes = plt.subplots(1, len(arrays), squeeze=False, figsize=(fig_w, fig_h),
                             gridspec_kw={"width_ratios": widths,
                                          "wspace": 1.2 * len(arrays) / sum(widths)})
    fig.subplots_adjust(left=0.15 / fig_w, right=1 - 0.15 / fig_w, top=1 - 0.4 / fig_h,
                        bottom=0.1 / fig_h)
    axes = axes[0]
    for i, (ax, a) in enumerate(zip(axes, arrays)):
        _draw_grid(ax, a, "" if titles is None else titles[i], fmt=fmt,
                   fills=None if fills is None else fills[i])
        ax.set_anchor("N")  # shorter arrays hang from the top, like the tallest one
    if between is not None:
        for ax in axes:
            ax.apply_aspect()  # the final positions, so that the symbols land between panels
        for i, symbol in enumerate(between):
            a, b = axes[i].get_position(), axes[i + 1].get_position()
            # Centred in the gap, at the middle of the rows the two panels share.
            fig.text((a.x1 + b.x0) / 2, (max(a.y0, b.y0) + min(a.y1, b.y1)) / 2, symbol,
                     ha="center", va="center", fontsize=13)
    return fig


def conv1d_graph(in_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, ax=None, title=None):
    """A 1-D convolution as a graph: which input x_k each tap w_j connects to output y_i.

    Inputs x_0 ... x_{I-1} on the bottom row (padding zeros grey at either end), outputs
    y_0 ... y_{O-1} on top, one line per multiplication y_i += w_j x_{iS + jD - P}, coloured
    by the tap j. Read backwards it is the backward pass: dL/dw_j sums over the lines of one
    colour, dL/dx_k over the lines that end at x_k. Returns the figure.
    """
    from cnnbook.shapes import conv_output_size

    for name, value, least in (("in_size", in_size, 1), ("kernel_size", kernel_size, 1),
                               ("stride", stride, 1), ("padding", padding, 0),
                               ("dilation", dilation, 1)):
        if not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
    out_size = conv_output_size(int(in_size), int(kernel_size), int(stride), int(padding),
                                int(dilation))
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * (in_size + 2 * padding) + 1.2, 2.1))
    colors = [f"C{j}" for j in range(kernel_size)]
    centre = dilation * (kernel_size - 1) / 2  # an output sits above the middle of its window
    for i in range(out_size):
        for j in range(kernel_size):
            k = i * stride + j * dilation  # in padded coordinates
            ax.plot([k, i * stride + centre], [0, 1], color=colors[j], lw=1.6,
                    label=f"$w_{j}$" if i == 0 else None, zorder=1)
    inputs = np.arange(in_size + 2 * padding)
    real = (inputs >= padding) & (inputs < padding + in_size)
    ax.scatter(inputs, np.zeros(len(inputs)), s=330, zorder=2,
               c=np.where(real, "white", "0.85"), edgecolors="0.3")
    for k in inputs:
        ax.text(k, 0, f"$x_{{{k - padding}}}$" if real[k] else "0", ha="center", va="center",
                fontsize=8, zorder=3)
    tops = np.arange(out_size) * stride + centre
    ax.scatter(tops, np.ones(out_size), s=330, zorder=2, c="white", edgecolors="0.3")
    for i, t in enumerate(tops):
        ax.text(t, 1, f"$y_{{{i}}}$", ha="center", va="center", fontsize=8, zorder=3)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax.set_xlim(-0.7, len(inputs) - 0.3)
    ax.set_ylim(-0.3, 1.3)
    ax.axis("off")
    ax.set_title(title if title is not None else
                 f"I={in_size}, F={kernel_size}, S={stride}, P={padding}, D={dilation}: "
                 f"O={out_size}", fontsize=9)
    return ax.figure


def _slide_outputs(padded, kernel):
    """The valid cross-correlation of 1-D ``padded`` with ``kernel``, one window at a time."""
    f = len(kernel)
    return np.array([np.dot(padded[t:t + f], kernel) for t in range(len(padded) - f + 1)])


def _signed(value) -> str:
    """A number for a sum of products: -2 in parentheses, (-2), so that 1\u00b7(-2) reads well."""
    return f"({value:g})" if value < 0 else f"{value:g}"


def slide_animation_1d(signal, kernel, padding: int = 0, names=("input", "kernel", "output"),
                       grey=(), interval=1100, cell_inches: float = 0.5) -> str:
    """Slide a 1-D kernel along a signal, one frame per output: a cross-correlation, stride 1.

    Top row: the signal with ``padding`` zeros at each end (grey, as are the positions in
    ``grey``, indices into the unpadded signal: zeros that were inserted, say); middle row:
    the kernel, under the window it multiplies; bottom row: the outputs so far, each under
    the middle of its window. ``names`` label the three rows and the caption. Returns HTML
    that plays in the static book (see :func:`html_animation`).
    """
    from matplotlib.animation import FuncAnimation

    signal, kernel = np.asarray(signal, float), np.asarray(kernel, float)
    if signal.ndim != 1 or kernel.ndim != 1:
        raise ValueError(f"signal and kernel must be 1-D, got shapes {signal.shape} and "
                         f"{kernel.shape}")
    if not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    padded = np.pad(signal, padding)
    f = len(kernel)
    if len(padded) < f:
        raise ValueError(f"kernel of size {f} does not fit the padded signal of size "
                         f"{len(padded)} (signal {signal.shape}, padding {padding})")
    if len(names) != 3:
        raise ValueError(f"names must give 3 labels (signal, kernel, output), got {names!r}")
    outputs = _slide_outputs(padded, kernel)
    greyed = set(range(padding)) | set(range(padding + len(signal), len(padded))) | {
        padding + int(g) for g in grey}
    fig, ax = plt.subplots(figsize=(cell_inches * (len(padded) + 3), cell_inches * 3 + 0.7))

    def cell(x, y, value, face):
        ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=face, edgecolor="0.4"))
        ax.text(x, y, f"{value:g}", ha="center", va="center", fontsize=9)

    def frame(t):
        ax.clear()
        ax.set_xlim(-3.2, len(padded) - 0.4)
        ax.set_ylim(2.6, -0.6)
        ax.set_aspect("equal")
        ax.axis("off")
        for k, v in enumerate(padded):
            inside = t <= k < t + f  # the window: orange, paler where the value is a filler
            face = ({True: "#f8c38f", False: "tab:orange"} if inside else
                    {True: "0.85", False: "white"})[k in greyed]
            cell(k, 0, v, face)
        for j, v in enumerate(kernel):
            cell(t + j, 1, v, "#9ecae1")
        for i in range(t + 1):
            cell(i + (f - 1) / 2, 2, outputs[i], "tab:green" if i == t else "white")
        for y, label in enumerate(names):
            ax.text(-0.9, y, label, ha="right", va="center", fontsize=9)
        products = " + ".join(f"{_signed(a)}\u00b7{_signed(b)}"
                              for a, b in zip(padded[t:t + f], kernel))
        ax.set_title(f"{names[2]}[{t}] = {products} = {outputs[t]:g}", fontsize=9)

    anim = FuncAnimation(fig, frame, frames=len(outputs), interval=interval)
    html = html_animation(anim)
    plt.close(fig)
    return html


# --- training ---------------------------------------------------------------------------------

def learning_curves(histories, size=(9, 3)):
    """Loss and accuracy per epoch for one or more runs: {name: History}.

    Solid lines: the training digits, measured in evaluation mode after each epoch; dashed:
    the validation digits. Both are measured the same way, so the gap between them is the
    generalisation gap (the running training loss, in training mode, is not plotted).
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=size)
    for i, (name, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h.seconds) + 1)
        color = f"C{i}"
        ax_loss.plot(epochs, h.train_eval_loss, color=color, label=f"{name}: train")
        ax_loss.plot(epochs, h.val_loss, color=color, linestyle="--", label=f"{name}: validation")
        ax_acc.plot(epochs, np.asarray(h.train_eval_accuracy) * 100, color=color, label=name)
        ax_acc.plot(epochs, np.asarray(h.val_accuracy) * 100, color=color, linestyle="--")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy",
                title="loss (solid: train, dashed: validation)")
    ax_acc.set(xlabel="epoch", ylabel="%", title="accuracy (solid: train, dashed: validation)")
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
