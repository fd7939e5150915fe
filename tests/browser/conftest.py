"""Fixtures the browser tests share: Chromium driven by Playwright, kept off the network."""

import pytest

from browser_support import LAUNCH_ARGS, chromium_path, is_local
from playwright.sync_api import sync_playwright


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(browser):
    """A new page whose requests beyond 127.0.0.1 are blocked; returns (page, blocked URLs)."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    outside = []

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page, outside
    page.close()
