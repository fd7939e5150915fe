"""Re-run the notebooks under other CPU kernel paths, as another learner's machine would pick.

PyTorch, TensorFlow, oneDNN, MKL and OpenBLAS each choose vectorised kernels from the CPU,
and each choice changes the last digits of floats. A stored output that prints such digits
passes on its author's machine and fails on the next. This script finds them on one machine:
it asks each library which path it takes here, selects a *different* one through the
library's own switch, prints the switches, and runs ``pytest --nbval`` under them.

Usage: python tests/portability.py PYTEST_ARGS...  (``make portability`` passes the nbval
options and ``chapters``; ``make portability NB=chapters/01-convolution`` runs one chapter)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def probe() -> dict:
    """The paths the libraries take here, under this environment (one subprocess each)."""
    code = (
        "import json, torch, threadpoolctl, numpy\n"
        "blas = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']\n"
        "print(json.dumps({'aten': torch.backends.cpu.get_cpu_capability(),\n"
        "                  'openblas': blas[0].get('architecture') if blas else None}))\n"
    )
    found = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                      capture_output=True, text=True).stdout)
    # TensorFlow says whether its oneDNN kernels are on only in its start-up notice.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    tf = subprocess.run([sys.executable, "-c", "import tensorflow"], env=env,
                        capture_output=True, text=True)
    found["tf_onednn"] = "oneDNN custom operations are on" in tf.stderr
    return found


def other_paths(found: dict, flags: set[str], cpus: int) -> dict[str, str]:
    """Environment switches that select kernels other than the ones ``found`` here.

    Each was seen to change the last digits of the course's convolutions on an AVX-512
    machine; each runs on this CPU (AVX2 on any AVX-512 one, SSE4.1 and MKL's compatible path
    on every x86-64 CPU).
    """
    aten = found["aten"].lower()
    env = {
        # PyTorch's own vectorised kernels (elementwise ops, reductions, softmax, pooling).
        "ATEN_CPU_CAPABILITY": "avx2" if aten == "avx512" else "default",
        # oneDNN: PyTorch's float32 convolutions, TensorFlow's where its oneDNN is on. AVX2
        # where AVX-512 is this CPU's own: SSE4.1 would make the training notebooks 2x slower.
        "ONEDNN_MAX_CPU_ISA": "AVX2" if "avx512f" in flags else "SSE41",
        # MKL (PyTorch's matmul and float64 convolution): the path that is the same on
        # every CPU, so not this CPU's own.
        "MKL_CBWR": "COMPATIBLE",
        # TensorFlow: oneDNN kernels on where they are off by default, and off where on.
        "TF_ENABLE_ONEDNN_OPTS": "0" if found["tf_onednn"] else "1",
    }
    # NumPy's OpenBLAS: another core's GEMM kernels (one this CPU can run).
    if found["openblas"] in ("SkylakeX", "Cooperlake", "SapphireRapids"):
        env["OPENBLAS_CORETYPE"] = "Haswell"
    elif "avx512f" in flags:
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    else:
        env["OPENBLAS_CORETYPE"] = "Sandybridge" if found["openblas"] != "Sandybridge" else "Nehalem"
    # Another thread count wherever a notebook does not fix its own.
    threads = "1" if cpus > 1 else "2"
    env.update(CNNBOOK_THREADS=threads, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
    return env


def main(argv: list[str]) -> int:
    found = probe()
    env = other_paths(found, cpu_flags(), len(os.sched_getaffinity(0)))
    print(f"kernel paths on this machine: {found}")
    print("portability run with: " + " ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    command = [sys.executable, "-m", "pytest", *argv]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **env}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
