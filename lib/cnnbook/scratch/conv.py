"""2-D convolution in NumPy, three ways: loops, im2col + GEMM, and fast.

All three follow ``torch.nn.functional.conv2d``:

    x (N, C, H, W)  *  w (K, C/groups, FH, FW)  (+ b (K,))  ->  y (N, K, OH, OW)

and, like every deep-learning framework, compute a *cross-correlation* (the
kernel is not flipped). In the book's notation: FH x FW kernels, output OH x OW, strides
(SH, SW).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnbook.scratch import winograd
from cnnbook.scratch._parallel import map_blocks
from cnnbook.scratch._validate import upstream
from cnnbook.scratch.geometry import ConvGeometry, check_arrays, conv_geometry
from cnnbook.scratch.norm import channel_sum
from cnnbook.shapes import conv_output_size, pair, resolve_padding


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The seven-loop sliding-window convolution: slow, obvious, the test oracle.

    x (N, C, H, W), w (K, C/groups, FH, FW), b (K,) or None -> (N, K, OH, OW).
    (In the loops, ``r`` and ``s`` index the kernel's rows and columns; ``sh, sw`` are the
    strides.)
    """
    check_arrays(x, w, b)
    g = conv_geometry(x.shape, w.shape, None if b is None else b.shape, stride, padding,
                      dilation, groups)
    (top, bottom), (left, right) = g.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (sh, sw), (dh, dw), (oh_size, ow_size) = g.stride, g.dilation, g.out_size
    c_per_group, k_per_group = g.in_channels // groups, g.out_channels // groups
    y = np.zeros((g.batch, g.out_channels, oh_size, ow_size), dtype=x.dtype)
    for n in range(g.batch):
        for k in range(g.out_channels):
            first_channel = (k // k_per_group) * c_per_group  # this filter's group of inputs
            for oh in range(oh_size):
                for ow in range(ow_size):
                    acc = 0.0 if b is None else b[k]
                    for c in range(c_per_group):
                        for r in range(g.kernel[0]):
                            for s in range(g.kernel[1]):
                                acc += (xp[n, first_channel + c, oh * sh + r * dh, ow * sw + s * dw]
                                        * w[k, c, r, s])
                    y[n, k, oh, ow] = acc
    return y


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Unfold every window of x into a row: x (N, C, H, W) -> cols (N*OH*OW, C*FH*FW).

    Row ``(n*OH + oh)*OW + ow`` holds the window under output pixel (oh, ow) of
    image n, ordered (c, kernel row, kernel column) like ``w.reshape(K, C*FH*FW)``, so that
    ``cols @ w.reshape(K, -1).T`` is the convolution, (N*OH*OW, K).
    """
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {x.shape}")
    n, c, h, w = x.shape
    r, s = pair(kernel_size, "kernel_size")
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    pads = resolve_padding(padding, (h, w), (r, s), stride, dilation)
    oh, ow = conv_output_size((h, w), (r, s), stride, pads, dilation)
    (sh, sw), (dh, dw), ((top, bottom), (left, right)) = stride, dilation, pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    cols = _tap_planes(xp, (r, s), stride, dilation, (oh, ow))
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * r * s)


def _tap_planes(xp, kernel, stride, dilation, out):
    """Padded xp (N, C, Hp, Wp) -> (N, C, FH, FW, OH, OW): for each kernel tap (i, j), the
    input pixels it multiplies, one strided copy per tap."""
    (fh, fw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    cols = np.empty((*xp.shape[:2], fh, fw, oh, ow), dtype=xp.dtype)
    for i in range(fh):
        for j in range(fw):
            cols[:, :, i, j] = xp[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                                  j * dw: j * dw + sw * (ow - 1) + 1: sw]
    return cols


def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """The adjoint of :func:`im2col`: cols (N*OH*OW, C*FH*FW) -> (N, C, H, W).

    Each window's values are added back where they came from; pixels shared by
    overlapping windows receive the sum (exactly what backprop needs).
    """
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be 4-D (N, C, H, W), got {tuple(x_shape)}")
    n, c, h, w = x_shape
    r, s = pair(kernel_size, "kernel_size")
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    pads = resolve_padding(padding, (h, w), (r, s), stride, dilation)
    oh, ow = conv_output_size((h, w), (r, s), stride, pads, dilation)
    if cols.shape != (n * oh * ow, c * r * s):
        raise ValueError(f"cols must have shape (N*OH*OW, C*FH*FW) = {(n * oh * ow, c * r * s)} "
                         f"for x_shape {tuple(x_shape)}, got {cols.shape}")
    (sh, sw), (dh, dw), ((top, bottom), (left, right)) = stride, dilation, pads
    windows = cols.reshape(n, oh, ow, c, r, s).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    for i in range(r):
        for j in range(s):
            xp[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh,
               j * dw: j * dw + sw * (ow - 1) + 1: sw] += windows[:, :, i, j]
    return xp[:, :, top: top + h, left: left + w]


def conv2d_im2col(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolution as one matrix product: im2col(x) @ w.reshape(K, -1).T.

    x (N, C, H, W), w (K, C/groups, FH, FW), b (K,) or None -> (N, K, OH, OW).
    """
    check_arrays(x, w, b)
    g = conv_geometry(x.shape, w.shape, None if b is None else b.shape, stride, padding,
                      dilation, groups)
    c_g, k_g = g.in_channels // groups, g.out_channels // groups
    outs = []
    for group in range(groups):  # each group is an independent, smaller convolution
        cols = im2col(x[:, group * c_g:(group + 1) * c_g], g.kernel, g.stride, g.padding,
                      g.dilation)
        outs.append(cols @ w[group * k_g:(group + 1) * k_g].reshape(k_g, -1).T)
    y = np.concatenate(outs, axis=1) if groups > 1 else outs[0]
    if b is not None:
        y += b
    oh, ow = g.out_size
    return y.reshape(g.batch, oh, ow, g.out_channels).transpose(0, 3, 1, 2)


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, input_grad=True):
    """Gradients of a convolution: dy (N, K, OH, OW) -> (dx, dw, db), given its inputs.

    x (N, C, H, W) and w (K, C/groups, FH, FW) are the forward's inputs (no cache: the
    backward recomputes what it needs). With cols = im2col(x) and y = cols @ w.T per group:

    - dw = dy.T @ cols: every weight meets every input value it multiplied, a correlation of
      the input with dy;
    - dx = col2im(dy @ w): each window's gradient added back where the window came from, a
      "full" convolution of dy with the flipped kernel;
    - db = dy summed over the batch and every position.

    dw is computed channels-last, as the forward's im2col is: the windows are runs of memory.
    With stride 1 (no dilation or groups), dx *is* that full convolution, computed by
    :func:`conv2d` (so Winograd's F(2x2, 3x3) where it pays); otherwise col2im adds one strided
    slice per kernel tap. ``input_grad=False`` skips dx (returned as None) when nothing needs
    it, as for a network's input. Returns dx (N, C, H, W), dw (K, C/groups, FH, FW), db (K,),
    in x's dtype.
    """
    check_arrays(x, w, None)
    g = conv_geometry(x.shape, w.shape, None, stride, padding, dilation, groups)
    (oh, ow), (fh, fw), (sh, sw), (dh, dw_) = g.out_size, g.kernel, g.stride, g.dilation
    upstream(dy, (g.batch, g.out_channels, oh, ow), x.dtype, "conv2d")
    n, m, c_g, k_g = g.batch, g.batch * oh * ow, g.in_channels // groups, g.out_channels // groups
    xp = _padded_nhwc(x, g)
    cols = _windows_nhwc(xp, g).reshape(m, fh * fw, groups, c_g)          # im2col: one copy
    dy_rows = dy.transpose(0, 2, 3, 1).reshape(m, g.out_channels)         # (M, K)
    dw = np.empty_like(w)
    for group in range(groups):  # each group an independent convolution: one 2-D GEMM each
        ks = slice(group * k_g, (group + 1) * k_g)
        group_cols = cols[:, :, group].reshape(m, fh * fw * c_g)
        dw[ks] = (dy_rows[:, ks].T @ group_cols).reshape(k_g, fh, fw, c_g).transpose(0, 3, 1, 2)
    db = channel_sum(dy)
    if not input_grad:  # nothing needs dx (the network's input): skip half the work
        return None, dw, db
    (top, bottom), (left, right) = g.padding
    full = ((fh - 1 - top, fh - 1 - bottom), (fw - 1 - left, fw - 1 - right))
    if (sh, sw, dh, dw_, groups) == (1, 1, 1, 1, 1) and min(*full[0], *full[1]) >= 0:
        # Stride 1: dx is dy correlated with the flipped kernel, in and out channels swapped,
        # padded to a "full" correlation; the forward's fast paths (Winograd) then apply.
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        return conv2d(dy, flipped, padding=full), dw, db
    kernels = w.transpose(0, 2, 3, 1)                                     # (K, FH, FW, Cg)
    dxp = np.zeros_like(xp)
    for group in range(groups):
        ks, cs = slice(group * k_g, (group + 1) * k_g), slice(group * c_g, (group + 1) * c_g)
        dcols = (dy_rows[:, ks] @ kernels[ks].reshape(k_g, -1)).reshape(n, oh, ow, fh, fw, c_g)
        # col2im, channels-last: tap (i, j) of every window adds back where it was read.
        for i in range(fh):
            for j in range(fw):
                dxp[:, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                    j * dw_: j * dw_ + sw * (ow - 1) + 1: sw, cs] += dcols[:, :, :, i, j]
    dx = dxp[:, top: top + g.height, left: left + g.width]
    return np.ascontiguousarray(dx.transpose(0, 3, 1, 2)), dw, db


def conv2d_nhwc(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The fast convolution, channels-last as TensorFlow: ``tf.nn.conv2d`` semantics.

    x (N, H, W, C), w (FH, FW, C/groups, K), b (K,) or None -> (N, OH, OW, K).
    """
    check_arrays(x, w, b)
    g = conv_geometry(x.shape, w.shape, None if b is None else b.shape, stride, padding,
                      dilation, groups, layout="NHWC")
    return _conv_nhwc(np.pad(x, ((0, 0), *g.padding, (0, 0))), w, b, g)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The fast convolution with ``torch.nn.functional.conv2d`` semantics.

    x (N, C, H, W), w (K, C/groups, FH, FW), b (K,) or None -> (N, K, OH, OW).
    stride, dilation: int or (h, w); padding: int, (h, w), 'valid', 'same'
    (TensorFlow's rule, so also for stride > 1), or ((top, bottom), (left, right)).
    Keeps the input's float dtype.

    Four paths (``conv2d_path`` says which a layer takes), each where it measured fastest
    on the course's layers:

    - "winograd": Winograd's F(2x2, 3x3) (``winograd.py``), 2.25x fewer multiplies, for 3x3
      kernels with stride 1, no dilation, groups 1, float32 or float64, and at least 32 input
      and 32 output channels;
    - "nchw": fewer than 4 input channels (a network's first layer) and groups 1: im2col in
      NCHW per block of images, whose GEMM writes NCHW directly (``_conv_nchw``);
    - "gemm-first": groups 1 and K * SH * SW < C (few output channels per input channel): the
      GEMM first, then shifted adds (``_conv_nhwc_gemm_first``);
    - "im2col": otherwise, channels-last: one im2col copy from a strided view, then one GEMM
      (per group).
    """
    check_arrays(x, w, b)
    g = conv_geometry(x.shape, w.shape, None if b is None else b.shape, stride, padding,
                      dilation, groups)
    path = _path(g, x.dtype)
    if path == "winograd":
        return winograd.winograd_conv(x, w, b, g)
    if path == "nchw":
        return _conv_nchw(x, w, b, g)
    y = _conv_nhwc(_padded_nhwc(x, g), w.transpose(2, 3, 1, 0), b, g)
    # Back to NCHW, in memory too (as PyTorch returns it): a transposed view would make
    # every later per-channel reduction (BatchNorm's statistics) stride through memory.
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2))


# Where each path wins, measured on the course's layers (chapter 1, "How fast can a
# convolution be?"): Winograd once there are enough channels for its GEMMs to dominate its
# transforms; NCHW im2col when there are too few input channels for channels-last to help.
WINOGRAD_MIN_CHANNELS = 32, 32  # (C, K)
NCHW_BELOW_CHANNELS = 4
IMAGES_BYTES = 1 << 20  # im2col bytes per block of images in the NCHW path


def conv2d_path(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1,
                dtype=np.float32) -> str:
    """Which path :func:`conv2d` takes for these shapes and arguments: "winograd", "nchw",
    "gemm-first" or "im2col" (see its docstring)."""
    return _path(conv_geometry(x_shape, w_shape, None, stride, padding, dilation, groups),
                 np.dtype(dtype))


def _path(g: ConvGeometry, dtype) -> str:
    if _winograd_pays(g, dtype):
        return "winograd"
    if g.groups == 1 and g.in_channels < NCHW_BELOW_CHANNELS:
        return "nchw"
    return "gemm-first" if _gemm_first_pays(g) else "im2col"


def _gemm_first_pays(g: ConvGeometry) -> bool:
    """Multiplying first moves fewer bytes than im2col when K * SH * SW < C (groups 1)."""
    return g.groups == 1 and g.out_channels * g.stride[0] * g.stride[1] < g.in_channels


def _winograd_pays(g: ConvGeometry, dtype) -> bool:
    """F(2x2, 3x3) applies (3x3, stride 1, no dilation or groups) and pays: enough channels,
    and float32 or float64 (float16 would lose to its transforms' rounding)."""
    return (g.kernel == (3, 3) and g.stride == (1, 1) and g.dilation == (1, 1) and g.groups == 1
            and dtype in (np.float32, np.float64)
            and g.in_channels >= WINOGRAD_MIN_CHANNELS[0]
            and g.out_channels >= WINOGRAD_MIN_CHANNELS[1])


def _conv_nchw(x, w, b, g: ConvGeometry):
    """Per block of images: im2col in NCHW order, (C FH FW, OH OW) per image, then
    W (K, C FH FW) @ cols, which is the output already in NCHW (groups 1)."""
    (oh, ow), ((top, bottom), (left, right)) = g.out_size, g.padding
    k = g.out_channels
    wm = w.reshape(k, -1)
    y = np.empty((g.batch, k, oh * ow), x.dtype)
    step = max(1, IMAGES_BYTES // (wm.shape[1] * oh * ow * x.itemsize))

    def block(start):
        xb = x[start: start + step]
        n = len(xb)
        xp = np.zeros((n, g.in_channels, g.height + top + bottom, g.width + left + right), x.dtype)
        xp[:, :, top: top + g.height, left: left + g.width] = xb
        cols = _tap_planes(xp, g.kernel, g.stride, g.dilation, g.out_size)
        np.matmul(wm, cols.reshape(n, -1, oh * ow), out=y[start: start + n])

    map_blocks(block, range(0, g.batch, step))
    if b is not None:
        y += b[:, None]
    return y.reshape(g.batch, k, oh, ow)


def _padded_nhwc(x, g: ConvGeometry):
    """x (N, C, H, W) -> padded channels-last (N, Hp, Wp, C). One copy does two jobs: pad,
    and move channels last so that each window is a few contiguous runs of memory."""
    xp = np.zeros((g.batch, g.height + sum(g.padding[0]), g.width + sum(g.padding[1]),
                   g.in_channels), dtype=x.dtype)
    (top, _), (left, _) = g.padding
    xp[:, top:top + g.height, left:left + g.width] = x.transpose(0, 2, 3, 1)
    return xp


def _windows_nhwc(xp, g: ConvGeometry):
    """View (N, OH, OW, FH, FW, C) of every window of padded xp, no copy:
    windows[n, oh, ow, i, j, c] = xp[n, oh*SH + i*DH, ow*SW + j*DW, c]."""
    (fh, fw), (sh, sw), (dh, dw), (oh, ow) = g.kernel, g.stride, g.dilation, g.out_size
    sn, sy, sx, sc = xp.strides
    return as_strided(xp, (xp.shape[0], oh, ow, fh, fw, xp.shape[3]),
                      (sn, sy * sh, sx * sw, sy * dh, sx * dw, sc), writeable=False)


def _conv_nhwc(xp, w, b, g: ConvGeometry):
    """xp padded (N, Hp, Wp, C), w (FH, FW, C/groups, K) -> (N, OH, OW, K).

    Here ``(r, s)`` hold the kernel size FH, FW.
    """
    n, _, _, c = xp.shape
    (r, s), (oh, ow) = g.kernel, g.out_size
    if _gemm_first_pays(g):
        return _conv_nhwc_gemm_first(xp, w, b, g)
    windows = _windows_nhwc(xp, g)
    if g.groups == 1:
        # The reshape copies the windows into the im2col matrix (M, FH*FW*C): the one
        # big memory pass; then a single BLAS GEMM with the (FH*FW*C, K) kernel.
        y = windows.reshape(n * oh * ow, r * s * c) @ w.reshape(r * s * c, -1)
    else:
        c_g, k_g = c // g.groups, g.out_channels // g.groups
        cols = windows.reshape(n * oh * ow, r * s, g.groups, c_g).transpose(2, 0, 1, 3)
        kernels = w.reshape(r * s, c_g, g.groups, k_g).transpose(2, 0, 1, 3)
        # Batched GEMM over groups: (G, M, FH*FW*Cg) @ (G, FH*FW*Cg, Kg) -> (G, M, Kg).
        y = np.matmul(cols.reshape(g.groups, n * oh * ow, r * s * c_g),
                      kernels.reshape(g.groups, r * s * c_g, k_g))
        y = y.transpose(1, 0, 2).reshape(n * oh * ow, g.out_channels)
    if b is not None:
        y += b
    return y.reshape(n, oh, ow, g.out_channels)


def _conv_nhwc_gemm_first(xp, w, b, g: ConvGeometry):
    """Multiply first, shift after: the better order when K * stride^2 < C.

    One GEMM applies every kernel tap to every padded pixel, (N*Hp*Wp, C) @ (C, FH*FW*K),
    reading the input in place with no im2col copy. Output pixel (i, j) then sums, over
    the taps (a, b), the tap-(a, b) product computed at pixel (i*sh + a*dh, j*sw + b*dw):
    FH*FW shifted, strided adds. The intermediate holds N*Hp*Wp*FH*FW*K values, fewer than
    im2col's N*OH*OW*FH*FW*C exactly when K * SH * SW < C (roughly, as Hp*Wp ~ OH*OW*SH*SW).
    """
    n, hp, wp, c = xp.shape
    (r, s), (sh, sw), (dh, dw), (oh, ow) = g.kernel, g.stride, g.dilation, g.out_size
    k = g.out_channels
    taps = np.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(c, r * s * k)  # (C, FH*FW*K)
    z = (xp.reshape(n * hp * wp, c) @ taps).reshape(n, hp, wp, r, s, k)
    y = np.zeros((n, oh, ow, k), dtype=xp.dtype) if b is None else np.broadcast_to(
        b, (n, oh, ow, k)).copy()
    for a in range(r):
        for bb in range(s):
            y += z[:, a * dh: a * dh + sh * (oh - 1) + 1: sh,
                   bb * dw: bb * dw + sw * (ow - 1) + 1: sw, a, bb]
    return y
