"""What the dashboard's browser tests share: the system Chromium, a recording tab, signing in.

The fixtures (``browser``, ``tab``, ``page``) are in ``tests/web/conftest.py``; a test serves its
app with :func:`tests.live.serve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class BrowserTab:
    """A fresh browser page that records every request and every script error."""

    page: Page
    requests: list[str]
    errors: list[str]

    def assert_local_and_clean(self) -> None:
        hosts = {urlsplit(url).hostname for url in self.requests}
        assert hosts <= {"127.0.0.1"}, f"requests left the machine: {self.requests}"
        assert not self.errors, self.errors


def sign_in(page: Page, base: str, token: str) -> None:
    """Sign in on the dashboard's login page with ``token``."""
    page.goto(f"{base}/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("button[type=submit]")
