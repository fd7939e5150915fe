import random
import subprocess
import sys

import numpy as np
import pytest

import cnnbook
from cnnbook import seeding


def draws():
    return random.random(), np.random.rand()


def test_python_and_numpy_repeat():
    cnnbook.seed_everything(3)
    first = draws()
    cnnbook.seed_everything(3)
    assert draws() == first
    cnnbook.seed_everything(4)
    assert draws() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        cnnbook.seed_everything(bad)


@pytest.mark.parametrize("bad", [0, 1.5, True])
def test_bad_threads(bad):
    with pytest.raises(ValueError, match="threads"):
        cnnbook.seed_everything(0, threads=bad)


def test_default_threads_are_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.delenv("CNNBOOK_THREADS", raising=False)
    # A container on a big host: the affinity mask, not the host's CPU count, decides.
    monkeypatch.setattr(seeding.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(seeding.os, "cpu_count", lambda: 64)
    assert seeding.default_threads() == 2
    monkeypatch.setenv("CNNBOOK_THREADS", "3")
    assert seeding.default_threads() == 3
    monkeypatch.setenv("CNNBOOK_THREADS", "zero")
    with pytest.raises(ValueError, match="CNNBOOK_THREADS"):
        seeding.default_threads()


def test_library_generator_repeats_after_seeding():
    cnnbook.seed_everything(5)
    first = seeding.generator().random(3)
    cnnbook.seed_everything(5)
    np.testing.assert_array_equal(seeding.generator().random(3), first)


# Whether seed_everything runs before or after a framework import, the framework is seeded.
FRAMEWORKS = {
    "torch": ("import cnnbook.torch, torch", "print(torch.rand(3).tolist())"),
    "tf": ("import cnnbook.tf as ctf", "print(ctf.tf.random.uniform((3,)).numpy().tolist())"),
}
SEED = "import cnnbook\ncnnbook.seed_everything(7)"


def run_python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_framework_seeded_in_either_order(framework):
    imports, draw = FRAMEWORKS[framework]
    seed_first = run_python("\n".join([SEED, imports, draw]))
    seed_after = run_python("\n".join([imports, SEED, draw]))
    assert seed_first == seed_after


def test_torch_deterministic_and_threads():
    out = run_python("import cnnbook, cnnbook.torch, torch\ncnnbook.seed_everything(0, threads=1)\n"
                     "print(torch.are_deterministic_algorithms_enabled(), torch.get_num_threads())")
    assert out.split() == ["True", "1"]
