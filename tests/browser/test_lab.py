"""Run one notebook of each chapter in JupyterLab, in headless Chromium, as a learner would.

JupyterLab starts from the course environment with ``make lab``'s configuration
(``jupyter_lab_config.py``), on 127.0.0.1 behind a random token, over a copy of the pages (the
test saves the notebooks it runs; the repository's stay as they are). Its user settings differ
in two ways only: every cell stays in the page (Lab otherwise leaves cells out of view
unrendered, and the test could not see them) and autosave is off (so that the saved file is the
one the test saves). For each notebook it checks what a learner sees:

- the MyST renders as in the book: no raw directive text (``:label:``, ``:class: dropdown``,
  ``{solution}``, ...), one box per exercise and one per solution;
- each solution stays collapsed until its title is clicked;
- Run All runs every cell and none raises (read back from the saved notebook);
- a link to another section opens that notebook in Lab;
- nothing reaches beyond the machine: the page's requests are confined to 127.0.0.1, and the
  server and kernels run with ``tests/offline`` (as nbval does), which refuses other hosts;
- the page raises and logs no JavaScript error.

Screenshots (the top of each notebook after the run, and its first solution opened) are kept
under ``_build/lab-screenshots/``.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "lab-screenshots"
# One notebook per chapter: the quickest of each, so that the test adds minutes, not tens.
NOTEBOOKS = [
    "chapters/00-data/data.ipynb",
    "chapters/01-convolution/00-why-convolution.ipynb",
    "chapters/02-pooling/01-max-and-average.ipynb",
    "chapters/03-cnn/01-layers.ipynb",
    "chapters/04-backprop/01-chain-rule.ipynb",
    "chapters/05-inception/01-one-by-one.ipynb",
    "chapters/06-resnet/02-residual-block.ipynb",
    "chapters/07-scaling/01-where-the-time-goes.ipynb",
]
# MyST source that shows only when a directive or role did not render.
RAW_MYST = re.compile(r":label:|:class:|\{(exercise|solution|admonition|note|term|cite|doc)\}"
                      r"|^```", re.M)
# Lab's user settings for the test: every cell in the page (not only those scrolled into view),
# no autosave, no news prompt covering the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
START_TIMEOUT_S = 60
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of the pages; yields (base URL, token, copy's root)."""
    work = tmp_path_factory.mktemp("lab")
    course = work / "course"
    shutil.copytree(ROOT / "chapters", course / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for page in ("intro.md", "glossary.md", "bibliography.md", "notation.md", "setup.md"):
        shutil.copy(ROOT / page, course / page)
    for name, values in LAB_SETTINGS.items():
        (work / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (work / "settings" / name).write_text(json.dumps(values))
    token = secrets.token_hex(24)
    # Settings, workspaces and Jupyter's user folders of its own: nothing of this user's setup.
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
               JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_DATA_DIR=str(work / "data"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests" / "offline"),
                                                        os.environ.get("PYTHONPATH")])))
    log = (work / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", f"--config={ROOT / 'jupyter_lab_config.py'}",
         "--no-browser", "--port=0",  # a free port, which Lab writes into its runtime file
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    runtime_file = work / "runtime" / f"jpserver-{server.pid}.json"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                base = json.loads(runtime_file.read_text())["url"]
                urllib.request.urlopen(f"{base}api/status?token={token}", timeout=5)
                break
            except (OSError, ValueError, KeyError):  # not written, or not serving yet
                if server.poll() is not None or time.monotonic() > deadline:
                    log_text = (work / "lab.log").read_text()
                    pytest.fail(f"JupyterLab did not start; its log:\n{log_text}")
                time.sleep(0.5)
        yield base, token, course
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def stop_kernels(base: str, token: str):
    """Shut down the kernels Lab started, so that each notebook runs alone on the CPUs."""
    def call(method, path):
        request = urllib.request.Request(f"{base}api/{path}", method=method,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    for kernel in call("GET", "kernels"):
        call("DELETE", f"kernels/{kernel['id']}")


def menu(page, menu_name: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu_name}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def prompts(page) -> list[str]:
    return page.eval_on_selector_all(".jp-CodeCell .jp-InputPrompt",
                                     "els => els.map(e => e.textContent.trim())")


def wait_until_run(page):
    """Until no cell is queued or running and the kernel is idle (an error stops Run All)."""
    deadline, idle_polls = time.monotonic() + RUN_TIMEOUT_S, 0
    while time.monotonic() < deadline:
        shown = prompts(page)
        busy = any("*" in p for p in shown)
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
        if idle and not busy and all(re.search(r"\d", p) for p in shown):
            return
        idle_polls = idle_polls + 1 if (idle and not busy) else 0
        if idle_polls >= 5:
            return
        page.wait_for_timeout(1000)
    pytest.fail(f"Run All did not finish in {RUN_TIMEOUT_S} s; prompts: {prompts(page)}")


def assert_rendered(page, n_markdown: int):
    rendered = page.locator(".jp-MarkdownCell .myst")
    assert rendered.count() == n_markdown, (
        f"{rendered.count()} of {n_markdown} Markdown cells rendered as MyST")
    raw = [m.group(0) for text in rendered.all_inner_texts() for m in RAW_MYST.finditer(text)]
    assert not raw, f"raw MyST shows in Lab: {sorted(set(raw))}"


def save(page, path: Path) -> dict:
    """Save the notebook with Ctrl+S, as a learner would, and read it back from disk."""
    before = time.time()
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime <= before:
        if time.monotonic() > deadline:
            page.screenshot(path=str(SCREENSHOTS / f"{path.stem}-not-saved.png"))
            pytest.fail(f"{path.name} was not saved (screenshot {path.stem}-not-saved.png)")
        # Not time.sleep: the save request passes the page's route only while Playwright runs.
        page.wait_for_timeout(500)
    return json.loads(path.read_text())  # Jupyter writes the file whole (atomically)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_in_lab(offline_page, lab, notebook):
    page, outside = offline_page
    page.set_viewport_size({"width": 1300, "height": 1000})
    base, token, course = lab
    js_errors = []
    page.on("pageerror", lambda err: js_errors.append(str(err)))
    page.on("console", lambda msg: js_errors.append(msg.text) if msg.type == "error" else None)
    name = Path(notebook).stem
    source = json.loads((ROOT / notebook).read_text())
    cells = [c for c in source["cells"] if c["cell_type"] == "markdown"]
    markdown, n_markdown = "\n".join("".join(c["source"]) for c in cells), len(cells)
    n_exercises = len(re.findall(r"^```\{exercise\}", markdown, re.M))
    n_solutions = len(re.findall(r"^```\{solution\}", markdown, re.M))

    # A workspace of its own, so that Lab does not reopen the notebooks of earlier tests.
    page.goto(f"{base}lab/workspaces/{name}/tree/{notebook}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=START_TIMEOUT_S * 1000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=START_TIMEOUT_S * 1000)

    # The MyST rendered: nothing raw, every exercise and solution in its box, solutions closed.
    # jupyterlab-myst renders each cell a moment after the notebook opens: wait for the boxes.
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-MarkdownCell .myst details.myst-exercise')"
            ".length >= n", arg=n_solutions, timeout=START_TIMEOUT_S * 1000)
    except PlaywrightTimeout:
        pass  # the count is reported below
    assert_rendered(page, n_markdown)
    exercises = page.locator(".jp-MarkdownCell aside.myst-exercise")
    solutions = page.locator(".jp-MarkdownCell details.myst-exercise")
    assert (exercises.count(), solutions.count()) == (n_exercises, n_solutions), (
        f"{exercises.count()} exercise and {solutions.count()} solution boxes for "
        f"{n_exercises} exercises and {n_solutions} solutions")
    assert n_solutions > 0, f"{notebook} has no solution to check"
    assert page.eval_on_selector_all(".jp-MarkdownCell details.myst-exercise",
                                     "els => els.every(d => !d.open)"), "a solution shows open"
    first = solutions.first
    body = first.locator(":scope > :not(summary)").first
    assert not body.is_visible(), "a solution's text is visible before its title is clicked"

    # Run All from a clean slate, then save: the saved file says what ran and what raised.
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function("() => Array.from(document.querySelectorAll("
                           "'.jp-CodeCell .jp-InputPrompt'))"
                           ".every(e => !/\\d/.test(e.textContent))")
    menu(page, "Run", "Run All Cells")
    wait_until_run(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = save(page, course / notebook)
    assert_rendered(page, n_markdown)  # Run All re-renders the Markdown cells too
    page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    first.locator("summary").click()
    body.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"{name}-solution.png"))
    assert first.evaluate("d => d.open") and body.is_visible(), "a clicked solution did not open"

    # A link to another section (where the notebook has one) opens that notebook in a Lab tab.
    links = page.locator(".jp-MarkdownCell .myst a[href*='.ipynb']")
    if links.count():
        target = Path(urllib.parse.urlparse(links.first.get_attribute("href")).path).name
        links.first.click()
        page.locator(".lm-TabBar-tabLabel", has_text=re.compile(f"^{re.escape(target)}$")) \
            .wait_for(timeout=START_TIMEOUT_S * 1000)
    stop_kernels(base, token)

    code = [c for c in saved["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    raised = [f"cell {i}: {o['ename']}: {o['evalue']}" for i, c in enumerate(code, 1)
              for o in c["outputs"] if o["output_type"] == "error"]
    assert not raised, f"cells raised in Lab: {raised}"
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), (
        "Run All did not run every code cell once, in order")
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not js_errors, f"JavaScript errors: {js_errors}"
