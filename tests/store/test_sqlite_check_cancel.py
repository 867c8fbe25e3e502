"""Cancelling the background integrity check always cancels: a shutdown that cancels it after its
thread has finished (its connection closed) must not turn the cancellation into an error, or
the check loop sleeps on, "cancelling", and the shutdown waits forever."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from jobimport.store.sqlite import integrity


async def test_a_check_cancelled_after_its_connection_closed_is_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    closed, proceed = threading.Event(), threading.Event()

    def check_then_wait(conn: sqlite3.Connection) -> str | None:
        conn.close()  # as the check's own `finally` does once it has run
        closed.set()
        proceed.wait(10)
        return None

    monkeypatch.setattr(integrity, "quick_check", check_then_wait)
    task = asyncio.create_task(integrity.run_check(str(db), 1000))
    assert await asyncio.to_thread(closed.wait, 10)
    task.cancel()
    try:
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        proceed.set()
    assert task.cancelled()
