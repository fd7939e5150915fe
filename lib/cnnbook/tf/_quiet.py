"""Import TensorFlow without its C++ start-up notices.

``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's own log, but on CPUs where TensorFlow turns
its oneDNN kernels on (many Intel and AVX-512 CPUs) it prints "oneDNN custom operations are
on ..." through absl *before* that log is configured, and absl writes everything to the
process's stderr until then. The notice is straight to file descriptor 2, not through
Python, so the only way to hold it back is at that level: send fd 2 to a temporary file for
the import, then pass on every line that is not one of the known notices.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

# Lines TensorFlow prints at start-up that say nothing a reader can act on.
START_UP_NOTICES = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
    "cpu_feature_guard",
    "This TensorFlow binary is optimized to use available CPU instructions",
)


@contextlib.contextmanager
def start_up_notices_held_back():
    """Within the block, fd 2 goes to a file; after it, the lines that are not notices go on."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            kept = [line for line in lines if not any(n in line for n in START_UP_NOTICES)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
