"""Harness for the web app's browser tests: the real server on loopback (embedded mode, paying
through the sandbox it mounts) and Debian's Chromium driven headless by Playwright.

Chromium comes from the system (``apt-get install chromium``), never from Playwright's CDN; a
missing browser fails the tests with instructions unless ``OPEN12306_SKIP_BROWSER=1`` is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from open12306.bootstrap import Container, build
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.shared.clock import Clock
from tests.integration.payments_support import LiveServer

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
INSTALL_HINT = (
    "the web tests need Debian's Chromium and the Python playwright package: "
    "`apt-get install -y chromium` and `pip install playwright` (do not run `playwright "
    "install`); set OPEN12306_CHROMIUM to another binary, or OPEN12306_SKIP_BROWSER=1 to skip"
)


def chromium_path() -> str | None:
    """The Chromium binary to drive: OPEN12306_CHROMIUM, else the Debian package's."""
    chosen = os.environ.get("OPEN12306_CHROMIUM")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def browser_missing(reason: str) -> None:
    """Skip when asked to, else fail saying how to install what is missing."""
    if os.environ.get("OPEN12306_SKIP_BROWSER") == "1":
        pytest.skip(f"browser tests skipped (OPEN12306_SKIP_BROWSER=1): {reason}")
    pytest.fail(f"{reason}: {INSTALL_HINT}", pytrace=False)


@dataclass
class Site:
    """The running server: its base URL and its container (for the service date)."""

    url: str
    container: Container


class _Late:
    """An ASGI app set once the port is known (the app needs its own public URL)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def serve(demo_settings: Settings, clock: Clock | None = None) -> Iterator[Site]:
    """The app over uvicorn on a free loopback port, for as long as the generator lives;
    ``clock`` is the server's (default: the system clock)."""
    late = _Late()
    server = LiveServer(late)
    settings = replace(demo_settings, host="127.0.0.1", port=server.port)
    container = build(settings, clock=clock)
    late.app = create_app(container)
    server.start()
    try:
        yield Site(server.url, container)
    finally:
        server.stop()


def launch_chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright ``Browser``), closed afterwards."""
    executable = chromium_path()
    if executable is None:
        browser_missing("no Chromium binary found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def passenger_tab(browser: Any, site: Site) -> Iterator[Any]:
    """A tab on the passenger pages (zh-CN, Shanghai time); fails the test on a script error."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(site.url + "/")
    yield tab
    context.close()
    assert errors == [], f"script errors on the page: {errors}"
