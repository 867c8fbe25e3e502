"""The store package: one `Store` protocol (base.py) and the factory that picks a backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jobimport.errors import StoreError
from jobimport.models import utc_now

if TYPE_CHECKING:
    from jobimport.store.base import Store

SQLITE_PREFIX = "sqlite:///"
MONGO_PREFIXES = ("mongodb://", "mongodb+srv://")


def sqlite_path(database_url: str) -> str:
    """`sqlite:///var/x.db` → `var/x.db` (relative to the working directory);
    `sqlite:////srv/x.db` → `/srv/x.db`; `sqlite:///:memory:` → `:memory:`."""
    if not database_url.startswith(SQLITE_PREFIX):
        raise ValueError(f"not a SQLite URL: {database_url!r}")
    path = database_url[len(SQLITE_PREFIX) :]
    if not path:
        raise ValueError("a SQLite URL needs a path: sqlite:///var/jobimport.db")
    return path


def open_store(
    database_url: str,
    *,
    clock: Callable[[], datetime] = utc_now,
    expire_after_runs: int = 3,
) -> Store:
    """The store a database URL names, not yet opened (call `await store.open()`).
    Backends are imported here, lazily, so a SQLite deployment never imports pymongo.
    `expire_after_runs`: EXPIRE_AFTER_RUNS (see the expiry rule in `store.base`)."""
    if database_url.startswith(SQLITE_PREFIX):
        from jobimport.store.sqlite import SqliteStore

        return SqliteStore(
            sqlite_path(database_url), clock=clock, expire_after_runs=expire_after_runs
        )
    if database_url.startswith(MONGO_PREFIXES):
        from jobimport.store.mongo import MongoStore

        return MongoStore(database_url, clock=clock, expire_after_runs=expire_after_runs)
    raise ValueError(
        f"unsupported database URL {database_url.split('://')[0]!r}://…;"
        " use sqlite:///path, mongodb:// or mongodb+srv://"
    )


def backup_database(database_url: str, target: Path, *, force: bool = False) -> int:
    """`jobimport backup`: copy a SQLite store to `target` while it serves (SQLite's online
    backup API); returns the copy's size. Raises StoreError (one line) when it cannot, and for
    MongoDB, whose backups are `mongodump`'s."""
    if not database_url.startswith(SQLITE_PREFIX):
        raise StoreError(
            "jobimport backup copies the SQLite store; for MongoDB use mongodump"
            " (docs/operations.md, Backups)"
        )
    from jobimport.store.sqlite.backup import backup

    return backup(sqlite_path(database_url), target, force=force)
