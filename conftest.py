"""Repository-wide pytest set-up, shared by the unit tests and the nbval run."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OFFLINE = ROOT / "tests" / "offline"  # its sitecustomize.py blocks the network


def pytest_configure(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if config.getoption("nbval", default=False):
        # Notebook kernels inherit this environment: run them with the network blocked.
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(OFFLINE), os.environ.get("PYTHONPATH")) if p
        )


def pytest_collectstart(collector):
    # nbval compares stored and fresh outputs; leave stderr out (a library's
    # deprecation warning must not fail a cell) -- asserts check what matters.
    if type(collector).__name__ == "IPyNbFile":
        collector.skip_compare = collector.skip_compare + ("stderr",)


_notebook_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    # Sum the cells' run times per notebook, for the summary below.
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] = _notebook_seconds.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("slowest notebooks (the budget is about 90 s each)")
    for path, seconds in sorted(_notebook_seconds.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}")
