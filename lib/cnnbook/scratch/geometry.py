"""The shapes of a convolution, checked once: every NumPy convolution starts here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnbook.shapes import conv_output_size, pair, positive_int, resolve_padding


@dataclass(frozen=True)
class ConvGeometry:
    """Validated sizes of one convolution; every shape below is derived from it."""

    batch: int
    in_channels: int
    height: int
    width: int
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    dilation: tuple[int, int]
    groups: int
    out_size: tuple[int, int]


def conv_geometry(x_shape, w_shape, b_shape=None, stride=1, padding=0, dilation=1,
                  groups=1, layout="NCHW") -> ConvGeometry:
    """Check the shapes and arguments of a convolution; ValueError naming the culprit.

    ``layout`` "NCHW": x (N, C, H, W), w (K, C/groups, FH, FW) as PyTorch;
    "NHWC": x (N, H, W, C), w (FH, FW, C/groups, K) as TensorFlow.
    """
    if len(x_shape) != 4:
        raise ValueError(f"x must be 4-D {layout}, got shape {tuple(x_shape)}")
    w_layout = "(K, C/groups, FH, FW)" if layout == "NCHW" else "(FH, FW, C/groups, K)"
    if len(w_shape) != 4:
        raise ValueError(f"w must be 4-D {w_layout}, got shape {tuple(w_shape)}")
    if layout == "NCHW":
        n, c, h, wd = x_shape
        k, c_per_group, r, s = w_shape
    else:
        n, h, wd, c = x_shape
        r, s, c_per_group, k = w_shape
    groups = positive_int(groups, "groups")
    if c % groups or k % groups:
        raise ValueError(
            f"groups={groups} must divide the input channels ({c}, x shape {tuple(x_shape)}) "
            f"and the output channels ({k}, w shape {tuple(w_shape)})"
        )
    if c_per_group * groups != c:
        raise ValueError(
            f"x has {c} channels (shape {tuple(x_shape)}) but w {w_layout} = {tuple(w_shape)} "
            f"expects C/groups = {c_per_group}, i.e. {c_per_group * groups} channels "
            f"with groups={groups}"
        )
    if b_shape is not None and tuple(b_shape) != (k,):
        raise ValueError(f"b must have shape ({k},) for w of shape {tuple(w_shape)}, "
                         f"got {tuple(b_shape)}")
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    pads = resolve_padding(padding, (h, wd), (r, s), stride, dilation)
    try:
        out_size = conv_output_size((h, wd), (r, s), stride, pads, dilation)
    except ValueError as err:
        raise ValueError(f"x {tuple(x_shape)}, w {tuple(w_shape)}: {err}") from None
    return ConvGeometry(n, c, h, wd, k, (r, s), stride, pads, dilation, groups, out_size)


def check_arrays(x, w, b):
    """TypeError unless x, w and b (or None) are float NumPy arrays of one dtype."""
    for name, arr in (("x", x), ("w", w), ("b", b)):
        if arr is not None and not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array, got {type(arr).__name__}")
        if arr is not None and arr.dtype.kind != "f":
            raise TypeError(f"{name} must be a float array, got dtype {arr.dtype}")
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        raise TypeError(f"x, w and b must share one dtype, got x {x.dtype}, w {w.dtype}"
                        + ("" if b is None else f", b {b.dtype}"))
