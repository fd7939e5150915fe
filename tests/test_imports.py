"""The package's import contract: framework-free core, one framework per subpackage."""

import os
import subprocess
import sys

import pytest


def run_python(code: str, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=300)


def test_core_imports_no_framework():
    result = run_python(
        "import sys, cnnbook, cnnbook.data, cnnbook.shapes, cnnbook.scratch, cnnbook.viz, "
        "cnnbook.exercises\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("subpackage, own, other", [("torch", "torch", "tensorflow"),
                                                    ("tf", "tensorflow", "torch")])
def test_subpackage_imports_only_its_framework(subpackage, own, other):
    result = run_python(f"import sys, cnnbook.{subpackage}\n"
                        f"print({own!r} in sys.modules, {other!r} in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_tensorflow_start_up_log_is_silenced():
    # No TF_CPP_MIN_LOG_LEVEL in the environment: cnnbook.tf must set it before importing TF.
    result = run_python("import cnnbook.tf as ctf; ctf.tf.constant(1.0) + 1")
    assert result.returncode == 0, result.stderr
    noisy = [line for line in result.stderr.splitlines()
             if "cpu_feature_guard" in line or "oneDNN" in line or line.startswith(("I0", "W0"))]
    assert noisy == []
