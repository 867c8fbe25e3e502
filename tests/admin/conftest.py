"""Fixtures of the admin page tests: a client of the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.settings import Settings
from jobimport.web.app import create_app

AdminClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def admin_client(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> AdminClient:
    """`await admin_client(**settings)`: a client of the whole app on a real server."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        base: dict[str, Any] = {"retry_base_delay_s": 0.05, "max_tries": 2}
        client: TestClient[Any, Any] = await aiohttp_client(
            create_app(make_settings(**{**base, **overrides}))
        )
        return client

    return make
