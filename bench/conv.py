"""Time cnnbook.scratch.conv2d against PyTorch's CPU conv2d, in the same process.

Prints, for course-sized layers, milliseconds per call and the ratio NumPy / PyTorch
(lower is better; 1.0 = as fast as PyTorch), their median, the same for the backward pass
(``conv2d_backward`` against autograd), and the speedup of the
fast conv over the seven-loop one on a small case. Both libraries run with the same number
of threads (``--threads``, default: the CPUs this process may use), their repeats interleaved.
Usage: python bench/conv.py [--repeats N] [--threads T]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from threadpoolctl import threadpool_info

from cnnbook.scratch import conv2d, conv2d_naive
from cnnbook.seeding import default_threads
from cnnbook.timing import best_times
from cnnbook.torch.benchmarks import (conv_backward_speed_table, conv_speed_table,
                                      pinned_threads)


def loops_speedup(repeats: int = 3) -> float:
    """How many times faster conv2d is than conv2d_naive on a 1x8x14x14 -> 8 ch 3x3 layer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 8, 14, 14), dtype=np.float32)
    w = rng.standard_normal((8, 8, 3, 3), dtype=np.float32)
    loops, fast = best_times([lambda: conv2d_naive(x, w), lambda: conv2d(x, w)], repeats,
                             budget=0.05)
    return loops / fast


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args()
    with pinned_threads(args.threads):
        blas = [i for i in threadpool_info() if i["user_api"] == "blas"][0]
        print(f"torch {torch.__version__}: {torch.get_num_threads()} threads; numpy "
              f"{np.__version__} ({blas['internal_api']} {blas.get('architecture', '')}): "
              f"{blas['num_threads']} threads")
        rows = conv_speed_table(repeats=args.repeats, threads=args.threads)
        print(f"{'layer':34} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}")
        for row in rows:
            print(f"{row['layer']:34} {row['numpy_ms']:9.2f} {row['torch_ms']:9.2f} "
                  f"{row['ratio']:6.2f}")
        print(f"median ratio numpy/torch: {statistics.median(r['ratio'] for r in rows):.2f}")
        backward = conv_backward_speed_table(repeats=args.repeats, threads=args.threads)
        print(f"{'backward (dx, dw, db)':34} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}")
        for row in backward:
            print(f"{row['layer']:34} {row['numpy_ms']:9.2f} {row['torch_ms']:9.2f} "
                  f"{row['ratio']:6.2f}")
        print("median backward ratio numpy/torch: "
              f"{statistics.median(r['ratio'] for r in backward):.2f}")
        print(f"fast conv2d vs the seven loops (1x8x14x14 -> 8 ch 3x3): {loops_speedup():.0f}x "
              "faster")


if __name__ == "__main__":
    main()
