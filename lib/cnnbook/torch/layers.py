"""Layers written out on top of ``torch.nn.functional``, to show what ``nn`` does for you."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnnbook.shapes import conv_params, pair


class Conv2D(nn.Module):
    """A conv layer on ``F.conv2d``: the PyTorch twin of ``cnnbook.tf.Conv2D``.

    weight (K, C/groups, FH, FW) = (out_channels, in_channels/groups, kernel height, kernel
    width), bias (K,); x (N, C, H, W) -> (N, K, OH, OW). Initialised as ``nn.Conv2d`` is.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True):
        super().__init__()
        conv_params(in_channels, out_channels, kernel_size, groups, bias)  # validates
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        kh, kw = pair(kernel_size, "kernel_size")
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, kh, kw))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        # nn.Conv2d's default: Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), ...).
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels // groups * kh * kw)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.weight.shape[1] * self.groups:
            raise ValueError(f"expected input (N, {self.weight.shape[1] * self.groups}, H, W), "
                             f"got {tuple(x.shape)}")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)
