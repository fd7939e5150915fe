"""Every core NumPy's BLAS may use, for work that NumPy runs on one: blocks of a batch in threads.

NumPy's elementwise operations and copies run on one core, but they release the GIL, so
Python threads can run them side by side. ``map_blocks`` gives each of T threads its own
blocks and limits NumPy's BLAS to one thread meanwhile, T being the threads BLAS had: the
blocks' GEMMs then run side by side too, and the process never uses more cores than the
caller allowed NumPy (``threadpoolctl`` limits and ``OPENBLAS_NUM_THREADS`` are respected).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _blas():
    """NumPy's BLAS libraries, found once (finding them costs milliseconds)."""
    return ThreadpoolController().select(user_api="blas")


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="cnnbook")


def map_blocks(work, blocks) -> None:
    """Call ``work(block)`` for every block, on as many threads as NumPy's BLAS may use.

    ``work`` must write its results into arrays of its own (blocks must not overlap)."""
    blocks = list(blocks)
    blas = _blas()
    threads = min(len(blocks), max((c.num_threads for c in blas.lib_controllers), default=1))
    if threads <= 1:
        for block in blocks:
            work(block)
        return
    with blas.limit(limits=1):
        # list() waits for every block and re-raises the first error any of them raised.
        list(_pool(threads).map(work, blocks))
