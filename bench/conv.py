"""Time cnnbook.scratch.conv2d against PyTorch's CPU conv2d, in the same process.

Prints, for course-sized layers, milliseconds per call and the ratio NumPy / PyTorch
(lower is better; 1.0 = as fast as PyTorch), their median, and the speedup of the
fast conv over the seven-loop one on a small case.  Usage: python bench/conv.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
import torch.nn.functional as F

from cnnbook.scratch import conv2d, conv2d_naive
from cnnbook.timing import best_time

# (batch, in_channels, size, out_channels, kernel): 'same' padding, stride 1.
LAYERS = [
    (64, 1, 28, 16, 3),
    (64, 16, 14, 32, 3),
    (32, 64, 28, 64, 3),
    (8, 192, 28, 32, 5),
]


def conv_layer_table(repeats: int = 5, threads: int | None = None):
    """Rows of (layer, numpy_ms, torch_ms, ratio) for LAYERS."""
    if threads:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for n, c, size, k, r in LAYERS:
        x = rng.standard_normal((n, c, size, size), dtype=np.float32)
        w = rng.standard_normal((k, c, r, r), dtype=np.float32)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        t_numpy = best_time(lambda: conv2d(x, w, padding=r // 2), repeats)
        with torch.no_grad():
            t_torch = best_time(lambda: F.conv2d(xt, wt, padding=r // 2), repeats)
        rows.append((f"{n}x{c}x{size}x{size} -> {k} ch {r}x{r}", t_numpy * 1e3, t_torch * 1e3,
                     t_numpy / t_torch))
    return rows


def loops_speedup(repeats: int = 3) -> float:
    """How many times faster conv2d is than conv2d_naive on seed 004's 1x1x3x3 * 16x1x3x3 case."""
    rng = np.random.default_rng(0)
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = rng.standard_normal((16, 1, 3, 3), dtype=np.float32)
    return best_time(lambda: conv2d_naive(x, w), repeats) / best_time(lambda: conv2d(x, w), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    rows = conv_layer_table(args.repeats)
    print(f"{'layer':34} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}")
    for name, t_np, t_torch, ratio in rows:
        print(f"{name:34} {t_np:9.2f} {t_torch:9.2f} {ratio:6.2f}")
    print(f"median ratio numpy/torch: {statistics.median(r[-1] for r in rows):.2f}")
    print(f"fast conv2d vs seven loops on seed 004's case: {loops_speedup():.0f}x faster")


if __name__ == "__main__":
    main()
