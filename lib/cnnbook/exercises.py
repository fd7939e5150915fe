"""Check a reader's answer to an exercise, in a notebook cell."""

from __future__ import annotations

import numpy as np


def check(answer, expected, rtol: float = 1e-6) -> None:
    """Print whether ``answer`` matches ``expected``; ``None`` means "not answered yet".

    Numbers and arrays compare to a relative tolerance, anything else by ``==``.
    It prints rather than raises, so that a wrong answer is a hint, not a crash.
    """
    if answer is None:
        print("Not answered yet: replace None with your answer and run the cell again.")
        return
    try:
        ok = bool(np.allclose(np.asarray(answer, dtype=float), np.asarray(expected, dtype=float),
                              rtol=rtol, atol=0.0)) and np.shape(answer) == np.shape(expected)
    except (TypeError, ValueError):
        ok = answer == expected
    print("Correct!" if ok else f"Not quite: {answer!r} is not the expected answer. Try again.")
