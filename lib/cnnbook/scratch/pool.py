"""Pooling in NumPy, with the semantics of the PyTorch functions of the same names.

x (N, C, H, W) -> (N, C, OH, OW) for a kernel FH x FW; the stride defaults to the
kernel size; padding is an int, an (h, w) pair or explicit ((top, bottom), (left, right)),
at most floor(F / 2) per side: PyTorch's limit (see ``cnnbook.shapes.pool_output_size``).
"""

from __future__ import annotations

import numpy as np

from cnnbook.scratch._validate import upstream
from cnnbook.shapes import pair, pool_output_size, resolve_padding


def _pool_geometry(x, kernel_size, stride, padding, ceil_mode):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float NumPy array, got {type(x).__name__}"
                        + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {x.shape}")
    try:  # with the caller's own spelling of the arguments in any message
        out = pool_output_size(x.shape[2:], kernel_size, stride, padding, ceil_mode)
    except ValueError as err:
        raise ValueError(f"x {x.shape}: {err}") from None
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    return kernel, stride, resolve_padding(padding, x.shape[2:], kernel, stride), out


def _tap(xp, tap, stride, out):
    """View (N, C, OH, OW) of padded xp under kernel tap (i, j) of every window."""
    (i, j), (sh, sw), (oh, ow) = tap, stride, out
    return xp[:, :, i: i + sh * (oh - 1) + 1: sh, j: j + sw * (ow - 1) + 1: sw]


def _taps(kernel):
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _window_sums(xp, kernel, stride, out):
    """(N, C, OH, OW) sums of the windows of padded xp, one strided add per kernel tap."""
    sums = np.zeros((*xp.shape[:2], *out), dtype=xp.dtype)
    for tap in _taps(kernel):
        sums += _tap(xp, tap, stride, out)
    return sums


def _window_maxima(xp, taps, stride, out):
    """(N, C, OH, OW) maxima of the windows of padded xp, one strided maximum per tap."""
    y = _tap(xp, taps[0], stride, out).copy()
    for t in taps[1:]:
        np.maximum(y, _tap(xp, t, stride, out), out=y)  # NaN propagates, as in PyTorch
    return y


def _pad(x, pads, kernel, stride, out, value):
    """Pad with ``value``, plus enough at the bottom/right for ceil_mode's partial windows."""
    extra = [max(0, (o - 1) * s + k - (size + before + after))
             for o, s, k, size, (before, after) in zip(out, stride, kernel, x.shape[2:], pads)]
    (top, bottom), (left, right) = pads
    if top == bottom + extra[0] == left == right + extra[1] == 0:
        return x  # nothing to pad (the common 2x2, stride-2 pooling): no copy
    return np.pad(x, ((0, 0), (0, 0), (top, bottom + extra[0]), (left, right + extra[1])),
                  constant_values=value)


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, return_indices=False):
    """The largest value in each window; padding never wins (it is -inf, not 0).

    x (N, C, H, W) -> (N, C, OH, OW). A NaN in a window makes its maximum NaN. With
    ``return_indices`` also the position of each maximum as a flat index h * W + w into its
    input channel, as PyTorch returns it: ties go to the first in row-major window order,
    NaN to the last NaN, and a window of nothing but -inf names its first pixel inside the
    input, never the padding.
    """
    kernel, stride, pads, out = _pool_geometry(x, kernel_size, stride, padding, ceil_mode)
    xp = _pad(x, pads, kernel, stride, out, -np.inf)
    # One pass per kernel tap over a strided view of the whole input: FH*FW vectorised
    # comparisons instead of a reduction over a copied (..., FH*FW) window array.
    taps = _taps(kernel)
    if not return_indices:
        return _window_maxima(xp, taps, stride, out)
    y = _tap(xp, taps[0], stride, out).copy()
    local = np.zeros(y.shape, dtype=np.int64)  # which tap won, row-major in the window
    for number, t in enumerate(taps[1:], 1):
        value = _tap(xp, t, stride, out)
        wins = (value > y) | np.isnan(value)  # strict: a tie keeps the first; NaN: the last
        np.copyto(y, value, where=wins)
        np.copyto(local, number, where=wins)
    top = np.arange(out[0])[:, None] * stride[0] - pads[0][0]  # each window's first row
    left = np.arange(out[1])[None, :] * stride[1] - pads[1][0]  # and column, maybe < 0
    empty = y == -np.inf  # the argmax may sit in the padding: take the first input pixel
    rows = np.where(empty, np.maximum(top, 0), top + local // kernel[1])
    cols = np.where(empty, np.maximum(left, 0), left + local % kernel[1])
    return y, (rows * x.shape[3] + cols).astype(np.int64)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window. x (N, C, H, W) -> (N, C, OH, OW).

    ``count_include_pad``: divide by the window's size including padding zeros (PyTorch's
    default) or only by the number of real input pixels it covers (TensorFlow's 'SAME').
    The overhang of a ceil_mode window beyond the padding is never counted.
    """
    kernel, stride, pads, out = _pool_geometry(x, kernel_size, stride, padding, ceil_mode)
    sums = _window_sums(_pad(x, pads, kernel, stride, out, 0.0), kernel, stride, out)
    return (sums / _divisors(x, kernel, stride, pads, out, count_include_pad)).astype(x.dtype)


def _divisors(x, kernel, stride, pads, out, count_include_pad):
    """What each average-pooling window divides by, (1, 1, OH, OW): pool a mask of the
    positions that count (the padding too, or only the real pixels)."""
    mask = np.ones((1, 1, *x.shape[2:]), x.dtype)
    if count_include_pad:
        mask = np.pad(mask, ((0, 0), (0, 0), *pads), constant_values=1.0)
        mask_pads = ((0, 0), (0, 0))
    else:
        mask_pads = pads
    return _window_sums(_pad(mask, mask_pads, kernel, stride, out, 0.0), kernel, stride, out)


def max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Gradient of max pooling: dy (N, C, OH, OW) -> dx (N, C, H, W), given the input x.

    Each window's gradient goes to the one input pixel that won it ("max unpooling"): the
    first maximum in row-major order on a tie, as PyTorch does. Where windows overlap, a
    pixel that wins several of them receives the sum of their gradients.
    """
    kernel, stride, pads, out = _pool_geometry(x, kernel_size, stride, padding, ceil_mode)
    upstream(dy, (*x.shape[:2], *out), x.dtype, "max_pool2d")
    xp = _pad(x, pads, kernel, stride, out, -np.inf)
    taps = _taps(kernel)
    y = _window_maxima(xp, taps, stride, out)  # the forward's, again
    if not (np.isfinite(y).all() and np.isfinite(dy).all()):
        # A NaN, or a window of nothing but -inf: PyTorch's rules need the indices.
        return _max_pool2d_backward_by_index(dy, x, kernel_size, stride, padding, ceil_mode)
    # Tap by tap in window order, each window's gradient goes to the first tap equal to its
    # maximum; `unrouted` is zero from then on, so a later tie gets nothing.
    dxp, unrouted = np.zeros_like(xp), dy.copy()
    for tap in taps:
        routed = unrouted * (_tap(xp, tap, stride, out) == y)
        view = _tap(dxp, tap, stride, out)
        view += routed
        unrouted -= routed
    (top, _), (left, _) = pads
    return dxp[:, :, top: top + x.shape[2], left: left + x.shape[3]]


def _max_pool2d_backward_by_index(dy, x, kernel_size, stride, padding, ceil_mode):
    """The general route: scatter-add dy at the indices ``max_pool2d`` returns."""
    _, index = max_pool2d(x, kernel_size, stride, padding, ceil_mode, return_indices=True)
    n, c, h, w = x.shape
    # index is a position h * W + w inside each channel; offset it to the whole array.
    channel_start = (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
    dx = np.bincount((index + channel_start).ravel(), weights=dy.ravel(), minlength=x.size)
    return dx.reshape(x.shape).astype(x.dtype)


def avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    """Gradient of average pooling: dy (N, C, OH, OW) -> dx (N, C, H, W), given the input x.

    Each window spreads its gradient evenly, dy / divisor, over the input pixels it covers;
    padding takes its share (with ``count_include_pad``) but passes nothing on. Overlapping
    windows add.
    """
    kernel, stride, pads, out = _pool_geometry(x, kernel_size, stride, padding, ceil_mode)
    upstream(dy, (*x.shape[:2], *out), x.dtype, "avg_pool2d")
    share = dy / _divisors(x, kernel, stride, pads, out, count_include_pad)
    padded = np.zeros_like(_pad(x, pads, kernel, stride, out, 0.0))
    for tap in _taps(kernel):  # every window's tap (i, j) at once
        view = _tap(padded, tap, stride, out)
        view += share
    (top, _), (left, _) = pads
    return padded[:, :, top: top + x.shape[2], left: left + x.shape[3]].astype(x.dtype)


def global_avg_pool2d(x, keepdims=False):
    """The mean of each channel: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims."""
    _pool_geometry(x, 1, 1, 0, False)
    return x.mean(axis=(2, 3), keepdims=keepdims)


def global_max_pool2d(x, keepdims=False):
    """The maximum of each channel: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims."""
    _pool_geometry(x, 1, 1, 0, False)
    return x.max(axis=(2, 3), keepdims=keepdims)


def _every_window(x, kernel_size, stride, padding, ceil_mode):
    """For the loop versions: the output array to fill, and for every output value its
    index (n, c, oh, ow) with the top-left corner of its window in input coordinates."""
    kernel, stride, pads, out = _pool_geometry(x, kernel_size, stride, padding, ceil_mode)
    y = np.empty((*x.shape[:2], *out), dtype=x.dtype)
    windows = ((index, index[2] * stride[0] - pads[0][0], index[3] * stride[1] - pads[1][0])
               for index in np.ndindex(*y.shape))
    return y, windows, kernel, pads


def max_pool2d_naive(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Max pooling as loops over every output value: slow, obvious, the test oracle."""
    y, windows, kernel, _ = _every_window(x, kernel_size, stride, padding, ceil_mode)
    h, w = x.shape[2:]
    for (i, ch, oh, ow), top, left in windows:
        best = -np.inf  # padding never wins
        for row in range(max(top, 0), min(top + kernel[0], h)):
            for col in range(max(left, 0), min(left + kernel[1], w)):
                value = x[i, ch, row, col]
                if value > best or np.isnan(value):  # NaN propagates, as in PyTorch
                    best = value
        y[i, ch, oh, ow] = best
    return y


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                     count_include_pad=True):
    """Average pooling as loops over every output value: the test oracle."""
    y, windows, kernel, pads = _every_window(x, kernel_size, stride, padding, ceil_mode)
    h, w = x.shape[2:]
    for (i, ch, oh, ow), top, left in windows:
        # The window clipped to the padded input (ceil_mode may overhang it) ...
        bottom = min(top + kernel[0], h + pads[0][1])
        right = min(left + kernel[1], w + pads[1][1])
        rows = range(max(top, 0), min(bottom, h))
        cols = range(max(left, 0), min(right, w))
        total = sum(x[i, ch, row, col] for row in rows for col in cols)
        # ... and counted with its padding, or only its real pixels.
        count = (bottom - top) * (right - left) if count_include_pad else len(rows) * len(cols)
        y[i, ch, oh, ow] = total / count
    return y
