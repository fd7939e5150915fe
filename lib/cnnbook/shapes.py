"""Shape arithmetic for convolution layers, framework-free.

Every function takes a size, kernel, stride, padding or dilation either as one
int (the same for height and width) or as a (height, width) pair; results are
ints when every argument was, else (height, width) pairs.
"""

from __future__ import annotations

import math
from numbers import Integral

Size = int | tuple[int, int]
Padding = int | tuple[int, int] | str


def pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a (height, width) pair of ints >= ``minimum``; ValueError naming ``name`` otherwise."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def positive_int(value, name: str) -> int:
    """``value`` as an int >= 1 (NumPy integers too); ValueError naming ``name`` otherwise."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _like(values, result: tuple):
    """The pair ``result``, or one int if every argument in ``values`` was a single int."""
    if any(isinstance(v, (tuple, list)) for v in values) or result[0] != result[1]:
        return result
    return result[0]


def same_padding(size: Size, kernel_size: Size, stride: Size = 1, dilation: Size = 1):
    """Padding 'same' adds: ((top, bottom), (left, right)), TensorFlow's rule.

    The output is ceil(size / stride); the total padding that needs is split
    with the extra pixel, if any, at the bottom/right (as TF and PyTorch do).
    """
    pads = []
    for i, k, s, d in zip(pair(size, "size"), pair(kernel_size, "kernel_size"),
                          pair(stride, "stride"), pair(dilation, "dilation")):
        total = max((math.ceil(i / s) - 1) * s + d * (k - 1) + 1 - i, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def resolve_padding(padding: Padding, size: Size, kernel_size: Size, stride: Size = 1,
                    dilation: Size = 1):
    """Any accepted padding spelling as ((top, bottom), (left, right)).

    Accepted: an int, an (h, w) pair, 'valid', 'same', or the explicit
    ((top, bottom), (left, right)) itself.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0), (0, 0))
        if mode == "same":
            return same_padding(size, kernel_size, stride, dilation)
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
            isinstance(p, (tuple, list)) for p in padding):
        # Explicit, possibly asymmetric: ((top, bottom), (left, right)).
        return pair(padding[0], "padding (top, bottom)", 0), pair(padding[1], "padding (left, right)", 0)
    ph, pw = pair(padding, "padding", minimum=0)
    return ((ph, ph), (pw, pw))


def conv_output_size(size: Size, kernel_size: Size, stride: Size = 1, padding: Padding = 0,
                     dilation: Size = 1) -> Size:
    """Output height/width of a convolution (or pooling) window sweep.

    Returns an int when every argument is one int, else an (height, width) pair.

    floor((I + P_total - D*(F-1) - 1) / S) + 1, with P_total = 2P for symmetric
    padding. For D = 1 this is the familiar floor((I - F + 2P) / S) + 1.
    """
    sizes = pair(size, "size")
    kernels = pair(kernel_size, "kernel_size")
    strides, dilations = pair(stride, "stride"), pair(dilation, "dilation")
    pads = resolve_padding(padding, sizes, kernels, strides, dilations)
    out = []
    for i, k, s, d, (before, after), axis in zip(sizes, kernels, strides, dilations, pads,
                                                 ("height", "width")):
        span = d * (k - 1) + 1  # how many input pixels one (dilated) window covers
        if i + before + after < span:
            raise ValueError(
                f"kernel_size {kernel_size!r} with dilation {dilation!r} spans {span} pixels, "
                f"more than the padded input {axis} {i + before + after} (size {size!r}, "
                f"padding {padding!r})"
            )
        out.append((i + before + after - span) // s + 1)
    return _like((size, kernel_size, stride, padding, dilation), tuple(out))


def conv_params(in_channels: int, out_channels: int, kernel_size: Size, groups: int = 1,
                bias: bool = True) -> int:
    """Trainable parameters of a conv layer: K * (C/groups) * FH * FW (+ K biases).

    ``in_channels`` C, ``out_channels`` K, ``kernel_size`` FH x FW (an int for square).
    """
    _check_groups(in_channels, out_channels, groups)
    kh, kw = pair(kernel_size, "kernel_size")
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def conv_macs(in_channels: int, out_channels: int, kernel_size: Size, output_size: Size,
              batch: int = 1, groups: int = 1) -> int:
    """Multiply-accumulates of a conv layer: FH*FW*(C/groups)*K*OH*OW*N.

    Each of the N*K*OH*OW outputs sums FH*FW*C/groups products (seed 004 writes the
    same product as kw*kh*kc*oc*ow*oh*b). ``output_size`` is OH x OW, ``batch`` N.
    """
    _check_groups(in_channels, out_channels, groups)
    kh, kw = pair(kernel_size, "kernel_size")
    oh, ow = pair(output_size, "output_size")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    return kw * kh * (in_channels // groups) * out_channels * ow * oh * batch


def _check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
        positive_int(value, name)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide in_channels={in_channels} and "
            f"out_channels={out_channels}"
        )


def pool_output_size(size: Size, kernel_size: Size, stride: Size | None = None,
                     padding: Padding = 0, ceil_mode: bool = False) -> Size:
    """Output height/width of a pooling window sweep, PyTorch's rule.

    Per axis, O = floor((I + P_before + P_after - F) / S) + 1 for input size I, kernel F,
    stride S (default: F) and padding P. With ``ceil_mode`` the last, partial window is
    kept, as long as it starts inside the input or its top/left padding.

    Padding beyond floor(F / 2) on a side raises ValueError, as PyTorch refuses it. That is
    PyTorch's own limit, not geometry: every window still reaches the input as long as
    P <= F - 1 (with F = 3, P = 2 the first window covers rows -2, -1, 0).
    """
    kernels = pair(kernel_size, "kernel_size")
    strides = kernels if stride is None else pair(stride, "stride")
    sizes = pair(size, "size")
    pads = resolve_padding(padding, sizes, kernels, strides)
    out = []
    for i, k, s, (before, after) in zip(sizes, kernels, strides, pads):
        if max(before, after) > k // 2:
            # PyTorch's limit (pooling_output_shape: pad <= half the window); windows would
            # still hold input pixels up to padding k - 1, so say whose rule this is.
            raise ValueError(f"padding {padding!r} must be at most half the kernel size "
                             f"{kernel_size!r}, as PyTorch requires (its limit: to pad more, "
                             "pad the input first and pool with padding 0)")
        if i + before + after < k:
            raise ValueError(f"kernel_size {kernel_size!r} is larger than the padded input "
                             f"{i + before + after} (size {size!r}, padding {padding!r})")
        steps = i + before + after - k
        o = (-(-steps // s) if ceil_mode else steps // s) + 1
        if ceil_mode and (o - 1) * s >= i + before:  # last window would start in the padding
            o -= 1
        out.append(o)
    return _like((size, kernel_size, stride, padding), tuple(out))


def receptive_field(layers) -> int:
    """Receptive field (in input pixels, per side) of one output of a stack of layers.

    ``layers``: a sequence of (kernel_size, stride) or (kernel_size, stride, dilation)
    tuples, first layer first; pooling layers count like convolutions. Each layer widens
    the field by (k - 1) * d times the product of the strides before it (the "jump").
    """
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(f"layer {i} must be (kernel, stride) or (kernel, stride, dilation), "
                             f"got {layer!r}")
        kernel, stride, dilation = (*layer, 1) if len(layer) == 2 else layer
        for name, v in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
            if not isinstance(v, Integral) or v < 1:
                raise ValueError(f"layer {i}: {name} must be a positive int, got {v!r}")
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return field
