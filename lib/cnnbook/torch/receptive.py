"""Measure a network's receptive field by backpropagation, to check the calculator."""

from __future__ import annotations

import copy

import torch
from torch import nn


def input_gradient_map(model: nn.Module, in_channels: int = 1, size: int = 129):
    """(size, size) map: how much one central output depends on each input pixel.

    Works on a copy of ``model`` made linear and positive, so that no contribution can
    cancel another: conv weights set to 1 and biases to 0, max pooling replaced by average
    pooling over the same windows (a max passes gradient to one pixel of its window, but
    which pixel depends on the data: every pixel of the window *can* be the one). The
    gradient of the central output with respect to an all-ones input is then nonzero
    exactly on the receptive field, and larger where more paths lead. A dilated max pool
    has no average-pooling twin: ValueError.
    """
    probe = copy.deepcopy(model).eval()
    for name, module in list(probe.named_modules()):
        if isinstance(module, nn.MaxPool2d):
            if module.dilation not in (1, (1, 1)):
                raise ValueError(f"{name}: max pooling with dilation {module.dilation} is not "
                                 "supported (nn.AvgPool2d, its stand-in here, has no dilation)")
            parent = probe.get_submodule(name.rpartition(".")[0]) if "." in name else probe
            setattr(parent, name.rpartition(".")[2], nn.AvgPool2d(
                module.kernel_size, module.stride, module.padding, module.ceil_mode))
        elif isinstance(module, nn.Conv2d):
            with torch.no_grad():
                module.weight.fill_(1.0)
                if module.bias is not None:
                    module.bias.zero_()
    x = torch.ones(1, in_channels, size, size, dtype=torch.float64, requires_grad=True)
    y = probe.double()(x)
    y[0, :, y.shape[2] // 2, y.shape[3] // 2].sum().backward()
    return x.grad[0].abs().sum(0)


def measured_receptive_field(model: nn.Module, in_channels: int = 1, size: int = 129):
    """(height, width) of the input region one central output depends on (see above).

    ``size`` must be large enough that the field is not clipped by the input's border.
    """
    grad = input_gradient_map(model, in_channels, size)
    rows = torch.nonzero(grad.sum(1)).flatten()
    cols = torch.nonzero(grad.sum(0)).flatten()
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == size - 1 or cols[-1] == size - 1:
        raise ValueError(f"the receptive field reaches the border of a {size}x{size} input; "
                         "pass a larger size")
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
