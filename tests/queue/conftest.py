"""Fixtures of the queue tests: settings per queue kind, and per-test Redis isolation.

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
from tests.support import REDIS_URL, delete_keys, queue_key_patterns

QUEUES = ["local", "arq"]


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
async def queue_name(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[str]:
    """A queue of this test's own; on the shared Redis (tests marked `redis`), its keys are
    deleted afterwards."""
    name = f"jobimport-test:{uuid.uuid4().hex}"
    yield name
    if request.node.get_closest_marker("redis"):
        await delete_keys(REDIS_URL, queue_key_patterns(name, run_ids_in(db_path)))


@pytest.fixture
def queue_settings(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    db_path: Path,
    queue_name: str,
) -> Callable[..., Settings]:
    """Settings for a queue kind: `local` (in-process) or `arq` (the real Redis, this test's
    queue; only for tests marked `redis`). Fast retries and a one-second tick; overrides win."""

    def make(kind: str, **overrides: Any) -> Settings:
        assert kind in QUEUES
        if kind == "arq" and not request.node.get_closest_marker("redis"):
            pytest.fail("a test on the arq queue needs the `redis` marker (or `queue_kind`)")
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
