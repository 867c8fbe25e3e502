"""The `store` fixture runs every contract test once per backend.

The MongoDB leg uses a real server when JOBIMPORT_TEST_MONGO_URL is set. Otherwise it runs the
MongoDB backend's real queries on mongomock's in-memory engine through a test-only async adapter,
and the test id says `mongomock`, never `mongodb`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from jobimport.models import utc_now
from jobimport.store.base import Store

MONGO_URL = os.environ.get("JOBIMPORT_TEST_MONGO_URL")
BACKENDS = ["sqlite", "mongodb-server" if MONGO_URL else "mongomock"]


async def open_backend(
    kind: str,
    tmp_path: Path,
    template: Path | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    client: Any = None,
) -> Store:
    """The store of backend `kind`, opened. SQLite starts from a copy of `template` (an empty
    file the store made: opening it still checks and migrates the schema) when given. `clock`
    is the store's clock; `client`, a mongomock client to reuse (to reopen the same data)."""
    if kind == "sqlite":
        from jobimport.store.sqlite import SqliteStore

        if template is not None:
            shutil.copyfile(template, tmp_path / "contract.db")
        store: Store = SqliteStore(tmp_path / "contract.db", clock=clock)
    elif kind == "mongodb-server":
        from jobimport.store.mongo import MongoStore

        assert MONGO_URL is not None
        store = MongoStore(
            MONGO_URL, database=f"jobimport_test_{uuid.uuid4().hex[:12]}", clock=clock
        )
    else:
        from jobimport.store.mongo import MongoStore
        from tests.store.mongomock_adapter import MongomockAsyncClient

        store = MongoStore(
            "mongodb://mongomock.invalid",
            database="jobimport_test",
            client=client or MongomockAsyncClient(),
            clock=clock,
        )
    await store.open()
    return store


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, empty_sqlite: Path
) -> AsyncIterator[Store]:
    backend = await open_backend(request.param, tmp_path, empty_sqlite)
    try:
        yield backend
    finally:
        await backend.close()
