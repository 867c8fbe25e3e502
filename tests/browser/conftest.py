"""Browser tests: Playwright (async API, inside pytest-asyncio's loop) drives Debian's Chromium
against the whole app on a real loopback server, with a real SQLite store and feeds served on
loopback. Waits are on elements and URLs, never on `networkidle` (the open EventSource keeps the
network busy)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page, async_playwright

from jobimport.settings import Settings
from jobimport.web.app import create_app

CHROMIUM = os.environ.get("JOBIMPORT_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
StartApp = Callable[..., Awaitable["Live"]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert shutil.which(CHROMIUM), (
        f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)"
    )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A desktop-sized page that fails the test on any script error."""
    context = await browser.new_context(viewport=DESKTOP)
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.set_default_timeout(10_000)
    try:
        yield opened
    finally:
        await context.close()
    assert not errors, errors


@dataclass
class Live:
    """The app on a real server, and an API client of it (for setting up and waiting)."""

    server: TestServer
    client: TestClient[Any, Any]

    def url(self, path: str = "/") -> str:
        return str(self.server.make_url(path))


@pytest.fixture
def start_app(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> StartApp:
    """`await start_app(**settings)`: the whole app on 127.0.0.1, a random port."""

    async def start(**overrides: Any) -> Live:
        base: dict[str, Any] = {"retry_base_delay_s": 0.05, "max_tries": 2}
        app = create_app(make_settings(**{**base, **overrides}))
        client: TestClient[Any, Any] = await aiohttp_client(app)
        assert isinstance(client.server, TestServer)
        return Live(client.server, client)

    return start


async def open_live(page: Page, address: str) -> None:
    """Open a page and wait until its event stream is connected."""
    await page.goto(address, wait_until="load")
    await page.locator('#live[data-state="live"]').wait_for()
