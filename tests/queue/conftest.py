"""Fixtures of the queue tests: a feed server on loopback, and per-test Redis isolation.

Every test that touches Redis gets its own arq queue name (`jobimport-test:<uuid>`) on the real
Redis (JOBIMPORT_TEST_REDIS_URL, default redis://127.0.0.1:6379/0); its keys are deleted after the
test: the queue, its health key and cron jobs, and arq's keys of the test's runs (job ids carry the
run id, which is random).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from jobimport.settings import Settings
from tests.queue.support import REDIS_URL, ScriptedFeedServer, delete_keys, queue_key_patterns

QUEUES = ["local", "arq"]


@pytest.fixture
async def feeds(aiohttp_server: Any) -> ScriptedFeedServer:
    server = ScriptedFeedServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "jobimport.db"


def run_ids_in(db_path: Path) -> list[str]:
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as conn:
        try:
            return [row[0] for row in conn.execute("SELECT id FROM import_logs")]
        except sqlite3.Error:
            return []


@pytest.fixture
async def queue_name(db_path: Path) -> AsyncIterator[str]:
    """A queue of this test's own on the shared Redis; its keys are deleted afterwards."""
    name = f"jobimport-test:{uuid.uuid4().hex}"
    yield name
    await delete_keys(REDIS_URL, queue_key_patterns(name, run_ids_in(db_path)))


@pytest.fixture
def queue_settings(
    make_settings: Callable[..., Settings], db_path: Path, queue_name: str
) -> Callable[..., Settings]:
    """Settings for a queue kind: `local` (in-process) or `arq` (the real Redis, this test's
    queue). Fast retries and a one-second tick; overrides win."""

    def make(kind: str, **overrides: Any) -> Settings:
        assert kind in QUEUES
        base: dict[str, Any] = {
            "database_url": f"sqlite:///{db_path}",
            "redis_url": REDIS_URL if kind == "arq" else None,
            "queue_name": queue_name,
            "retry_base_delay_s": 0.05,
            "tick_interval_s": 1,
        }
        base.update(overrides)
        return make_settings(**base)

    return make


@pytest.fixture(params=QUEUES)
def queue_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind
