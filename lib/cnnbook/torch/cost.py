"""What a network costs: parameters and multiply-adds per image."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def parameters(model: torch.nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers: not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def weighted_layers(model: torch.nn.Module) -> int:
    """Convolutions and linear layers in ``model``: what a name like "ResNet-50" counts, plus
    any projection shortcuts (BatchNorm and pooling are not counted as layers)."""
    return sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in model.modules())


@torch.no_grad()
def multiply_adds(model: torch.nn.Module, input_shape) -> int:
    """Multiply-adds of one forward pass on one image of ``input_shape`` (C, H, W), counted by
    PyTorch's ``FlopCounterMode`` (2 FLOPs per multiply-add in convolutions and matrix
    products; additions of biases, BatchNorm and pooling are not counted, as papers do)."""
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {tuple(input_shape)}")
    training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(training)
    return counter.get_total_flops() // 2
