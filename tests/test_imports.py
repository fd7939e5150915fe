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


# oneDNN on (the default on many Intel and AVX-512 CPUs) prints a notice through absl
# before TF_CPP_MIN_LOG_LEVEL applies; off, it prints nothing. Both paths are tried here.
@pytest.mark.parametrize("onednn", ["0", "1"])
def test_tensorflow_start_up_log_is_silenced(onednn):
    # No TF_CPP_MIN_LOG_LEVEL in the environment: cnnbook.tf must quiet TF on its own.
    result = run_python("import cnnbook.tf as ctf; ctf.tf.constant(1.0) + 1",
                        TF_ENABLE_ONEDNN_OPTS=onednn)
    assert result.returncode == 0, result.stderr
    noisy = [line for line in result.stderr.splitlines()
             if "cpu_feature_guard" in line or "oneDNN" in line or "absl" in line
             or line.startswith(("I0", "W0"))]
    assert noisy == []


def test_start_up_filter_passes_other_lines_on():
    # What TF prints that is not a known notice (a real error) must still reach stderr.
    result = run_python(
        "import os\n"
        "from cnnbook.tf._quiet import start_up_notices_held_back\n"
        "with start_up_notices_held_back():\n"
        "    os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "    os.write(2, b'E0000 something real went wrong\\n')\n"
        "print('done')")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert result.stderr.splitlines() == ["E0000 something real went wrong"]
