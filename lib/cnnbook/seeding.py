"""One call that makes a notebook reproducible: ``seed_everything(seed)``.

It seeds Python, NumPy and every framework *already imported*, switches the
frameworks to deterministic algorithms and fixes their thread count.  It never
imports PyTorch or TensorFlow itself (that would cost seconds in every
notebook); instead ``cnnbook.torch`` and ``cnnbook.tf`` call
:func:`apply_to_framework` when they are first imported, so the order of
``seed_everything`` and the imports does not matter.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

from cnnbook.shapes import positive_int

_current: dict | None = None  # the last seed_everything() settings, or None
_generator = np.random.default_rng()  # re-seeded by seed_everything()


def generator() -> np.random.Generator:
    """The NumPy generator the library draws from when a caller passes none (``rng=None``).

    ``seed_everything(seed)`` replaces it with ``np.random.default_rng(seed)``, so such draws
    repeat from one run to the next.
    """
    return _generator


def default_threads() -> int:
    """``$CNNBOOK_THREADS`` if set, else the number of CPUs this process may run on.

    ``os.cpu_count()`` counts the host's CPUs: a container limited to 2 of a 64-core host
    would start 64 threads on 2 cores. The affinity mask counts the ones it may use.
    """
    value = os.environ.get("CNNBOOK_THREADS")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"CNNBOOK_THREADS must be an int >= 1, got {value!r}")
        return int(value)
    if hasattr(os, "sched_getaffinity"):  # Linux; macOS and Windows have no affinity call
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def seed_everything(seed: int = 0, threads: int | None = None) -> None:
    """Seed Python, NumPy, PyTorch and TensorFlow and make them deterministic.

    Args:
        seed: a non-negative integer.
        threads: intra-op thread count for the frameworks; default: ``$CNNBOOK_THREADS`` if
            set, else every CPU this process may run on (see :func:`default_threads`).
    """
    global _current, _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    threads = default_threads() if threads is None else positive_int(threads, "threads")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this one is already hashed
    random.seed(seed)
    np.random.seed(seed)
    _generator = np.random.default_rng(seed)
    _current = {"seed": seed, "threads": threads}
    for name in ("torch", "tensorflow"):
        if name in sys.modules:
            apply_to_framework(name)


def apply_to_framework(name: str) -> None:
    """Apply the current seed settings to ``"torch"`` or ``"tensorflow"`` (if any)."""
    if _current is None:
        return
    seed, threads = _current["seed"], _current["threads"]
    if name == "torch":
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
    elif name == "tensorflow":
        import tensorflow as tf

        tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TF in one call
        tf.config.experimental.enable_op_determinism()
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            # The TF runtime is already running: its thread pools are fixed.
            pass
    else:
        raise ValueError(f"unknown framework {name!r}; expected 'torch' or 'tensorflow'")
