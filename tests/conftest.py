"""Fixtures shared by every test: fixture paths, settings that allow loopback feeds, the `feeds`
server on loopback and the shared Redis; and the markers `redis`, `browser` and `container`, set
here from what a test uses (`make test-fast` deselects them, with `slow`)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from jobimport.settings import Settings, load_settings
from jobimport.store.sqlite import SqliteStore
from tests.feedserver import FeedServer
from tests.support import REDIS_URL, RedisProcess

DATA = Path(__file__).parent / "data"

# `make test-fast` runs hypothesis under this profile (--hypothesis-profile=fast): a fifth of the
# examples of the default profile, which `make test` keeps; tests that set their own count scale
# it with tests.support.examples.
hypothesis_settings.register_profile("fast", max_examples=20)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store file, made (and migrated) once per test process: copying it costs a
    fraction of replaying every migration with its syncs. Migrations are tested on their own
    (tests/store/test_sqlite*.py), and opening a copy still checks the schema version."""
    path = tmp_path_factory.mktemp("template") / "empty.db"

    async def create() -> None:
        store = SqliteStore(path)
        await store.open()
        await store.close()

    asyncio.run(create())
    return path


@pytest.fixture
def make_settings(tmp_path: Path, empty_sqlite: Path) -> Callable[..., Settings]:
    """Settings for tests: a new, empty SQLite file (a copy of `empty_sqlite`), loopback feeds
    allowed, nothing read from the developer's environment by surprise (overrides win)."""
    database = tmp_path / "jobimport.db"

    def make(**overrides: Any) -> Settings:
        if "database_url" not in overrides and not database.exists():
            shutil.copyfile(empty_sqlite, database)
        base: dict[str, Any] = {
            "database_url": f"sqlite:///{database}",
            "feeds": (),
            "allow_private_addresses": True,
            "fetch_connect_timeout_s": 2.0,
            "fetch_read_timeout_s": 2.0,
            "fetch_timeout_s": 10.0,
            # Every test feed is on 127.0.0.1: the default of 2 fetches per host would defer the
            # third feed of a test by a second. The per-host tests set their own limit.
            "max_per_host": 64,
        }
        base.update(overrides)
        return load_settings(**base)

    return make


@pytest.fixture
async def feeds(aiohttp_server: Any) -> FeedServer:
    """A FeedServer on 127.0.0.1 (documents, scripted answers, gates, recorded requests)."""
    return await FeedServer.start(aiohttp_server)


@pytest.fixture
def redis_url() -> str:
    """The shared Redis (JOBIMPORT_TEST_REDIS_URL); a test that uses it is marked `redis`."""
    return REDIS_URL


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[RedisProcess]:
    """A redis-server of the test's own on a free port (to stop, freeze or restart it); never
    the shared one. Killed after the test."""
    server = RedisProcess(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# A test is marked `redis` when it uses one of these fixtures or runs with one of these parameter
# values (the `arq` queue kind, the `redis` event bus); `browser` when it uses the browser.
REDIS_FIXTURES = frozenset({"redis_url", "private_redis"})
REDIS_PARAMS = frozenset({"arq", "redis"})
BROWSER_FIXTURES = frozenset({"browser"})
CONTAINER_FIXTURES = frozenset({"container_image"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = {v for v in callspec.params.values() if isinstance(v, str)} if callspec else set()
        if fixtures & REDIS_FIXTURES or params & REDIS_PARAMS:
            item.add_marker(pytest.mark.redis)
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if fixtures & CONTAINER_FIXTURES:
            item.add_marker(pytest.mark.container)
