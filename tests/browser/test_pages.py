"""Open every page of the built book in headless Chromium, offline.

Run after the book is built (``make test`` does). Each page must: have the book's title, render
every math element with no TeX error, load every image and script, raise no JavaScript error (beyond the theme's benign
"invalid theme mode" notice) and make no request that leaves 127.0.0.1. A screenshot of each
page is kept under ``_build/screenshots/``.
"""

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from browser_support import is_local
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
BOOK_TITLE = "cnnbook"
BENIGN_CONSOLE = ("Got invalid theme mode",)
NO_BOOK = "(no built book)"
PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
               if not p.relative_to(HTML).parts[0].startswith("_")) or [NO_BOOK]


@pytest.fixture(scope="module")
def base_url():
    if PAGES == [NO_BOOK]:
        pytest.fail(f"no built book in {HTML}: run `make book` first")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def is_favicon(url: str) -> bool:
    return urlparse(url).path.endswith("/favicon.ico")


@pytest.mark.parametrize("page_path", PAGES)
def test_page(offline_page, base_url, page_path):
    page, outside = offline_page
    failed, js_errors = [], []
    page.on("pageerror", lambda err: js_errors.append(str(err)))
    page.on("console", lambda msg: js_errors.append(f"{msg.text} ({msg.location.get('url')})")
            if msg.type == "error" and not any(b in msg.text for b in BENIGN_CONSOLE)
            and not is_favicon(msg.location.get("url", "")) else None)
    page.on("requestfailed", lambda req: None if (not is_local(req.url) or is_favicon(req.url))
            else failed.append(f"{req.url}: {req.failure}"))
    page.on("response", lambda resp: failed.append(f"{resp.url}: HTTP {resp.status}")
            if resp.status >= 400 and not is_favicon(resp.url) else None)

    page.goto(base_url + page_path, wait_until="networkidle")
    html = (HTML / page_path).read_text()
    math_errors, untypeset = [], []
    if 'class="math' in html:
        page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
        # Every math element typeset (it holds MathJax's output), none with a TeX error.
        try:
            page.wait_for_function("document.querySelectorAll('.math:not(:has(mjx-container))')"
                                   ".length === 0", timeout=15_000, polling=200)
        except PlaywrightTimeout:
            pass  # reported below, with the math that was left
        untypeset = page.evaluate(
            "Array.from(document.querySelectorAll('.math:not(:has(mjx-container))'))"
            ".map(e => e.textContent.slice(0, 80))")
        math_errors = page.evaluate(
            "Array.from(document.querySelectorAll('mjx-merror'))"
            ".map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120))")
    broken_images = page.evaluate(
        "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.src)")
    title = page.title()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (page_path.replace("/", "__") + ".png")),
                    full_page=False)

    assert BOOK_TITLE in title, f"title {title!r}"
    assert not untypeset, f"math left untypeset: {untypeset}"
    assert not math_errors, f"MathJax errors: {math_errors}"
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not failed, f"resources failed to load: {failed}"
    assert not broken_images, f"images did not load: {broken_images}"
    assert not js_errors, f"JavaScript errors: {js_errors}"
