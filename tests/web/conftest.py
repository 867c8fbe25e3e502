"""Fixtures of the web tests: an app client over a real server
(`aiohttp_client(create_app(settings))`, real SQLite), and per-test Redis isolation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.settings import Settings
from jobimport.web.app import create_app
from tests.support import delete_keys, queue_key_patterns

TOKEN = "test-admin-token-0123456789"
AppClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def web_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings for an app under test: fast retries, no tick-driven surprises within a test
    (the tick runs at start, then once a minute)."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {"retry_base_delay_s": 0.05, "max_tries": 2}
        base.update(overrides)
        return make_settings(**base)

    return make


@pytest.fixture
def app_client(aiohttp_client: Any, web_settings: Callable[..., Settings]) -> AppClient:
    """`await app_client(role="all", **settings)`: a client of create_app on a real server."""

    async def make(role: str = "all", **overrides: Any) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = await aiohttp_client(
            create_app(web_settings(**overrides), role)
        )
        return client

    return make


@pytest.fixture
async def queue_name(redis_url: str) -> AsyncIterator[str]:
    """A queue (and events stream) of this test's own on the shared Redis, deleted after."""
    name = f"jobimport-webtest:{uuid.uuid4().hex}"
    yield name
    await delete_keys(redis_url, queue_key_patterns(name))
