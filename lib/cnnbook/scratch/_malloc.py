"""Keep freed memory in the process, so that NumPy's large temporaries cost no page faults.

glibc's ``malloc`` serves a large block (over its ``mmap`` threshold, a few hundred kB to
32 MB) with a fresh ``mmap`` and gives it back to the kernel on ``free``. A layer's forward and
backward allocate and free several multi-megabyte arrays per call (im2col matrices, their
gradients), so every call faults each of their pages in again: measured here, more than half
of ``conv2d_backward``'s time on a course layer. Raising the thresholds makes ``free`` keep
the memory for the next call. It changes nothing but speed; elsewhere than glibc (macOS,
Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters, from glibc's <malloc.h>
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MB = 1 << 20


def keep_freed_memory() -> bool:
    """Ask glibc to keep up to 512 MB of freed memory; True if it agreed."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # no C library by that name, or no mallopt
        return False
    settings = ((M_MMAP_THRESHOLD, 256 * MB), (M_TRIM_THRESHOLD, 512 * MB), (M_TOP_PAD, 64 * MB))
    return all(mallopt(param, value) == 1 for param, value in settings)


TUNED = keep_freed_memory()
