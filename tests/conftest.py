"""Fixtures shared by every test: fixture paths and settings that allow loopback feeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobimport.settings import Settings, load_settings
from tests.feedserver import FeedServer

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for tests: a fresh SQLite file, loopback feeds allowed, nothing read from the
    developer's environment by surprise (explicit overrides win)."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'jobimport.db'}",
            "feeds": (),
            "allow_private_addresses": True,
            "fetch_connect_timeout_s": 2.0,
            "fetch_read_timeout_s": 2.0,
            "fetch_timeout_s": 10.0,
        }
        base.update(overrides)
        return load_settings(**base)

    return make


@pytest.fixture
async def server(aiohttp_server: Any) -> FeedServer:
    """A FeedServer (feed documents with validators and 304s) on 127.0.0.1."""
    feeds = FeedServer()
    running = await aiohttp_server(feeds.app())
    feeds.base_url = str(running.make_url("")).rstrip("/")
    return feeds
