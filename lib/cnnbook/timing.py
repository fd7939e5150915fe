"""Timing helpers shared by the benchmarks and the chapters' live timing tables."""

from __future__ import annotations

import timeit


def best_times(fns, repeats: int = 5, budget: float = 0.2) -> list[float]:
    """Seconds per call of each ``fn()`` in ``fns``: the best of ``repeats`` rounds each.

    The rounds take turns (``fns[0]``, ``fns[1]``, ..., then again), so that a disturbance
    of the machine (another process, a clock change) falls on every contender alike rather
    than on whichever happened to run then. Each round calls a function about ``budget``
    seconds' worth of times, as timed on its second call: the first (warm-up: allocations,
    thread pools, a kernel compiled for the shape) is not counted and may be far slower. The
    minimum is the least-disturbed measurement.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for fn in fns:
        fn()
    numbers = [max(1, int(budget / max(timeit.timeit(fn, number=1), 1e-6))) for fn in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, (fn, number) in enumerate(zip(fns, numbers)):
            best[i] = min(best[i], timeit.timeit(fn, number=number) / number)
    return best


def best_time(fn, repeats: int = 5, budget: float = 0.2) -> float:
    """Seconds per call of ``fn()``: :func:`best_times` of one function."""
    return best_times([fn], repeats, budget)[0]
