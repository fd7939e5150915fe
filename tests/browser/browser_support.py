"""Helpers the browser tests share: Debian's Chromium, and what counts as staying on the machine."""

import os
import shutil
from urllib.parse import urlparse

import pytest

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    """Chromium's path; without it the test is skipped, or fails under CI=true."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = ("Chromium is not installed, so the browser test cannot run. On Debian/Ubuntu: "
               "`sudo apt-get install chromium` (CI's .ci/run installs it).")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def is_local(url: str) -> bool:
    return urlparse(url).hostname in ("127.0.0.1", None) or url.startswith(("data:", "blob:"))
