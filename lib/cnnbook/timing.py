"""Timing helpers shared by the benchmarks and the chapters' live timing tables."""

from __future__ import annotations

import timeit


def best_time(fn, repeats: int = 5, budget: float = 0.2) -> float:
    """Seconds per call of ``fn()``: the best of ``repeats`` rounds of about ``budget`` s each.

    The minimum is the least-disturbed measurement; the first call (warm-up:
    allocations, thread pools) is not counted.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    first = timeit.timeit(fn, number=1)
    number = max(1, int(budget / max(first, 1e-6)))
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number
