"""Where the PyTorch code runs: ``device()`` picks the fastest accelerator present."""

from __future__ import annotations

import os

import torch


def device() -> torch.device:
    """CUDA if a GPU is visible, else Apple's MPS, else the CPU.

    ``$CNNBOOK_DEVICE`` ("cpu", "cuda", "cuda:1", "mps") overrides the choice, for example to
    compare a GPU run with the CPU's on the same machine. Move a model with
    ``model.to(device())``; ``fit``, ``evaluate`` and ``predict`` then move each batch to the
    model's device themselves.
    """
    chosen = os.environ.get("CNNBOOK_DEVICE")
    if chosen:
        return torch.device(chosen)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter (or buffer); the CPU for a model with none."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")
