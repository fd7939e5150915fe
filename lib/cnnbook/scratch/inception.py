"""Seed 002's Inception module, forward, from the chapter 1-2 functions: four branches of
convolutions (and one average pooling), concatenated along the channel axis."""

from __future__ import annotations

import numpy as np

from cnnbook.scratch.conv import conv2d
from cnnbook.scratch.pool import avg_pool2d

# (name, padding) of each convolution, in the order of the PyTorch module's state_dict.
SEED_INCEPTION_CONVS = [("branch1x1", 0), ("branch5x5.0", 0), ("branch5x5.1", 2),
                        ("branch3x3.0", 0), ("branch3x3.1", 1), ("branch3x3.2", 1),
                        ("branch_pool.1", 0)]


def seed_inception(x, params):
    """x (N, C, H, W) -> (N, 88, H, W): 1x1 (16) | 1x1 -> 5x5 (24) | 1x1 -> 3x3 -> 3x3 (24) |
    3x3 average pool -> 1x1 (24). ``params`` maps ``"<name>.weight"`` and ``"<name>.bias"``
    to arrays, with the names of ``cnnbook.torch.SeedInception`` (its ``state_dict``)."""
    missing = [f"{n}.{p}" for n, _ in SEED_INCEPTION_CONVS for p in ("weight", "bias")
               if f"{n}.{p}" not in params]
    if missing:
        raise ValueError(f"params lacks {missing}")
    padding = dict(SEED_INCEPTION_CONVS)

    def conv(name, h):
        return conv2d(h, params[f"{name}.weight"], params[f"{name}.bias"], padding=padding[name])

    branches = [conv("branch1x1", x),
                conv("branch5x5.1", conv("branch5x5.0", x)),
                conv("branch3x3.2", conv("branch3x3.1", conv("branch3x3.0", x))),
                conv("branch_pool.1", avg_pool2d(x, 3, stride=1, padding=1))]
    return np.concatenate(branches, axis=1)  # every branch kept H x W: stack the channels
