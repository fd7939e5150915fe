"""The NumPy convolution timed against PyTorch's, in the same process.

Used by ``bench/conv.py`` and by the chapter that reports the figures.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnbook.scratch import conv2d
from cnnbook.timing import best_time

# (batch, in_channels, size, out_channels, kernel): course-sized layers, 'same' padding.
CONV_LAYERS = [
    (64, 1, 28, 16, 3),
    (64, 16, 14, 32, 3),
    (32, 64, 28, 64, 3),
    (8, 192, 28, 32, 5),
]


def conv_speed_table(layers=CONV_LAYERS, repeats: int = 5):
    """One row per layer: name, NumPy ms, PyTorch ms, and their ratio (NumPy / PyTorch)."""
    rng = np.random.default_rng(0)
    rows = []
    for n, c, size, k, r in layers:
        x = rng.standard_normal((n, c, size, size), dtype=np.float32)
        w = rng.standard_normal((k, c, r, r), dtype=np.float32)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        t_numpy = best_time(lambda: conv2d(x, w, padding=r // 2), repeats)
        with torch.no_grad():
            t_torch = best_time(lambda: F.conv2d(xt, wt, padding=r // 2), repeats)
        rows.append({"layer": f"{n}x{c}x{size}x{size} -> {k} ch {r}x{r}",
                     "numpy_ms": t_numpy * 1e3, "torch_ms": t_torch * 1e3,
                     "ratio": t_numpy / t_torch})
    return rows
