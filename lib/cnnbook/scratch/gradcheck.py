"""Checking gradients numerically: the tool every backward pass in the book is tested with.

A backward function claims the gradient of a scalar loss L = sum(f(x) * dy) with respect to
each input. Centred differences measure it directly, one element at a time:

    dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / 2h,

with an error of order h^2 from the Taylor series and of order eps / h from rounding. In
float64 (eps ~ 1e-16) and h = 1e-5 both are around 1e-10 relative: a correct backward agrees
to about 1e-8 or better. In float32 (eps ~ 1e-7) rounding alone is around 1e-2: too coarse to
tell a subtle bug from noise, so the check refuses float32.
"""

from __future__ import annotations

import numpy as np


def rel_error(a, b) -> float:
    """CS231n's relative error: max over elements of |a - b| / max(1e-8, |a| + |b|)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs two arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, dy=None, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of L = sum(f(x) * dy) with respect to the float64 array x.

    ``f`` is called 2 * x.size times with ``x`` changed in place (and restored after each
    element); ``dy`` defaults to ones (the gradient of sum(f(x))).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("numerical_gradient needs a float64 NumPy array: in float32 rounding "
                        f"swamps the differences, got {getattr(x, 'dtype', type(x).__name__)}")
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        original = x[i]
        x[i] = original + h
        plus = np.sum(f(x) * (1.0 if dy is None else dy))
        x[i] = original - h
        minus = np.sum(f(x) * (1.0 if dy is None else dy))
        x[i] = original
        grad[i] = (plus - minus) / (2 * h)
    return grad


def gradcheck(f, inputs, grads, dy=None, h: float = 1e-5) -> list[float]:
    """Relative errors between analytic gradients and centred differences, one per input.

    ``f(*inputs)`` is the forward function; ``grads[i]`` is the analytic gradient of
    sum(f(*inputs) * dy) with respect to ``inputs[i]`` (``None``: not checked, error 0.0).
    """
    if len(inputs) != len(grads):
        raise ValueError(f"need one gradient per input, got {len(inputs)} inputs and "
                         f"{len(grads)} gradients")
    errors = []
    for i, grad in enumerate(grads):
        if grad is None:
            errors.append(0.0)
            continue

        def f_of_input(value, i=i):
            return f(*inputs[:i], value, *inputs[i + 1:])

        errors.append(rel_error(grad, numerical_gradient(f_of_input, inputs[i].copy(), dy, h)))
    return errors
