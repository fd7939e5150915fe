"""Train chapter 4's NumPy CNN and the same network in PyTorch, same weights, same batches.

Prints one line per seed and, last, ``numpy cnn: test accuracy A in S s (pytorch, same model:
T s)`` with the mean accuracy over the seeds and the median training seconds of each.
Both libraries run with the same number of threads (``--threads``, default: every CPU this
process may use). Usage: python bench/numpy_cnn.py [--seeds 0 1 2] [--threads T]
"""

from __future__ import annotations

import argparse
import statistics

from cnnbook.data import load_mnist
from cnnbook.seeding import default_threads
from cnnbook.torch.benchmarks import numpy_cnn_race


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args()
    data = load_mnist()
    runs = []
    for seed in args.seeds:
        run = numpy_cnn_race(data, seed=seed, threads=args.threads)
        runs.append(run)
        print(f"seed {seed}: numpy {run['numpy_accuracy']:.1%} in {run['numpy_seconds']:.1f} s, "
              f"pytorch {run['torch_accuracy']:.1%} in {run['torch_seconds']:.1f} s "
              f"({args.threads} threads)", flush=True)
    accuracy = statistics.mean(r["numpy_accuracy"] for r in runs)
    numpy_s = statistics.median(r["numpy_seconds"] for r in runs)
    torch_s = statistics.median(r["torch_seconds"] for r in runs)
    print(f"numpy cnn: test accuracy {accuracy:.1%} in {numpy_s:.1f} s "
          f"(pytorch, same model: {torch_s:.1f} s)")


if __name__ == "__main__":
    main()
