"""The NumPy convolution timed against PyTorch's, in the same process.

Used by ``bench/conv.py`` and by the chapter that reports the figures.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from cnnbook.scratch import conv2d
from cnnbook.seeding import default_threads
from cnnbook.timing import best_times

# (batch, in_channels, size, out_channels, kernel): course-sized layers, 'same' padding.
CONV_LAYERS = [
    (64, 1, 28, 16, 3),
    (64, 16, 14, 32, 3),
    (32, 64, 28, 64, 3),
    (8, 192, 28, 32, 5),
]


@contextlib.contextmanager
def pinned_threads(threads: int):
    """NumPy's BLAS and PyTorch both limited to ``threads`` threads inside the block."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def conv_speed_table(layers=CONV_LAYERS, repeats: int = 5, threads: int | None = None):
    """One row per layer: name, NumPy ms, PyTorch ms, and their ratio (NumPy / PyTorch).

    Both libraries run with the same number of threads (default: the CPUs this process
    may use), their repeats interleaved; the NumPy result is made contiguous inside the
    clock, as PyTorch's is.
    """
    threads = default_threads() if threads is None else threads
    rng = np.random.default_rng(0)
    rows = []
    with pinned_threads(threads), torch.no_grad():
        for n, c, size, k, r in layers:
            x = rng.standard_normal((n, c, size, size), dtype=np.float32)
            w = rng.standard_normal((k, c, r, r), dtype=np.float32)
            xt, wt = torch.from_numpy(x), torch.from_numpy(w)
            t_numpy, t_torch = best_times(
                [lambda: np.ascontiguousarray(conv2d(x, w, padding=r // 2)),
                 lambda: F.conv2d(xt, wt, padding=r // 2)], repeats)
            rows.append({"layer": f"{n}x{c}x{size}x{size} -> {k} ch {r}x{r}",
                         "numpy_ms": t_numpy * 1e3, "torch_ms": t_torch * 1e3,
                         "ratio": t_numpy / t_torch, "threads": threads})
    return rows
