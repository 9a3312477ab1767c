"""Browser fixtures for the dashboard tests: one headless Chromium per session (per xdist
worker), a fresh tab in a fresh context per test (see ``tests/web/browser.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, BrowserTab


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Chromium, started once per session (per xdist worker): a launch (Playwright's Node
    driver and the browser) costs about 1.5 s of CPU, and one per module (per test in two of
    them) made thirteen in a session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The session's Chromium for one test: every context the test opens (cookies, storage,
    cache of its own) is closed after it, so tests share nothing through the browser."""
    before = set(chromium.contexts)
    yield chromium
    for context in chromium.contexts:
        if context not in before:
            context.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[BrowserTab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    recorded = BrowserTab(page, [], [])
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on("pageerror", lambda error: recorded.errors.append(str(error)))
    page.on(
        "console",
        lambda message: recorded.errors.append(message.text) if message.type == "error" else None,
    )
    yield recorded
    context.close()


@pytest.fixture
def page(tab: BrowserTab) -> Page:
    """The tab's page, for tests that do not look at its requests or errors."""
    return tab.page
