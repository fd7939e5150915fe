"""Checks shared by the backward functions: the upstream gradient must fit the forward."""

from __future__ import annotations

import numpy as np


def upstream(dy, shape, dtype, forward: str) -> np.ndarray:
    """``dy`` as the gradient of a forward output of ``shape`` and ``dtype``, or a clear error.

    A mismatched ``dy`` would otherwise broadcast silently or fail deep inside a reshape.
    """
    if not isinstance(dy, np.ndarray):
        raise TypeError(f"dy must be a NumPy array, got {type(dy).__name__}")
    if dy.shape != tuple(shape):
        raise ValueError(f"dy has shape {dy.shape}, but {forward} produces {tuple(shape)} "
                         "for these inputs")
    if dy.dtype != dtype:
        raise TypeError(f"dy must have the input's dtype {dtype}, got {dy.dtype}")
    return dy
