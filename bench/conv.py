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

from cnnbook.scratch import conv2d, conv2d_naive
from cnnbook.timing import best_time
from cnnbook.torch.benchmarks import conv_speed_table


def loops_speedup(repeats: int = 3) -> float:
    """How many times faster conv2d is than conv2d_naive on a 1x8x14x14 -> 8 ch 3x3 layer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 8, 14, 14), dtype=np.float32)
    w = rng.standard_normal((8, 8, 3, 3), dtype=np.float32)
    return best_time(lambda: conv2d_naive(x, w), repeats, budget=0.05) / best_time(
        lambda: conv2d(x, w), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    rows = conv_speed_table(repeats=args.repeats)
    print(f"{'layer':34} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}")
    for row in rows:
        print(f"{row['layer']:34} {row['numpy_ms']:9.2f} {row['torch_ms']:9.2f} {row['ratio']:6.2f}")
    print(f"median ratio numpy/torch: {statistics.median(r['ratio'] for r in rows):.2f}")
    print(f"fast conv2d vs the seven loops (1x8x14x14 -> 8 ch 3x3): {loops_speedup():.0f}x faster")


if __name__ == "__main__":
    main()
