"""Open the Microsoft 365 Agents Playground page in Debian's Chromium through Playwright.

Recipe: ../shared/REAL-CLIENTS.md. Never run `playwright install`: the browser is the system one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
COMPOSER = '[data-lexical-editor="true"][role="textbox"]'
CARD = ".ac-adaptiveCard"  # the root element the Adaptive Cards renderer draws for each card


def require_chromium() -> Path:
    """The browser tests must fail, never skip, when the system Chromium is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install the Debian package 'chromium' "
            "(the browser tests use the system browser; do not run `playwright install`)",
            pytrace=False,
        )
    return CHROMIUM


def _local_only(route: Route) -> None:
    """Let loopback traffic through; abort the rest (the page asks a CDN for fonts, animations)."""
    url = urlsplit(route.request.url)
    if url.scheme in {"data", "blob"} or url.hostname in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort()


@contextlib.contextmanager
def open_page(url: str, *, timeout_ms: float = 30_000) -> Iterator[Page]:
    """A fresh headless Chromium profile showing `url`, with every non-loopback request aborted."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
            context.set_default_timeout(timeout_ms)
            page = context.new_page()
            page.route("**/*", _local_only)
            page.goto(url, wait_until="load")
            yield page
        finally:
            browser.close()


def composer(page: Page) -> Locator:
    return page.locator(COMPOSER)


def send(page: Page, text: str) -> None:
    """Type a message into the chat composer and send it, as a user would."""
    box = composer(page)
    box.click()
    box.type(text)
    box.press("Enter")


def card_with_heading(page: Page, heading: str) -> Locator:
    """The last rendered Adaptive Card whose heading is exactly `heading`.

    Reply texts can appear up to three times on the page (chat list, message, log panel): keeping
    to the rendered cards and taking the last picks the newest message.
    """
    title = page.get_by_role("heading", name=heading, exact=True)
    return page.locator(CARD).filter(has=title).last


def screenshot(page: Page, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path
