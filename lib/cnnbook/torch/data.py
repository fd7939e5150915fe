"""PyTorch ``DataLoader``s over the course's NumPy arrays."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from cnnbook.data import Mnist


def data_loaders(data: Mnist, batch_size: int = 64, seed: int = 0):
    """(train, test) loaders: train shuffled by a generator seeded with ``seed``, test in order.

    ``data`` holds channels-first images (N, 1, 28, 28), as ``load_mnist()`` returns.
    """
    if data.x_train.ndim != 4 or data.x_train.shape[1] != 1:
        raise ValueError(
            f"PyTorch wants channels-first images (N, 1, H, W), got {data.x_train.shape}; "
            "use load_mnist() (not channels_last=True)"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    train = TensorDataset(torch.from_numpy(data.x_train), torch.from_numpy(data.y_train))
    test = TensorDataset(torch.from_numpy(data.x_test), torch.from_numpy(data.y_test))
    generator = torch.Generator().manual_seed(seed)
    return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator),
            DataLoader(test, batch_size=batch_size, shuffle=False))
