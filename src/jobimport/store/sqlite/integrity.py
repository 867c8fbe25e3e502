"""What the SQLite store says when its file cannot be used: at open (one line naming the file
and what to do) and in the periodic integrity check (`PRAGMA quick_check`)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

from jobimport.errors import StoreDamaged, StoreError
from jobimport.store.sqlite.queries import translate

QUICK_CHECK_ROWS = 5
"""quick_check stops after this many problems: enough to say what is wrong, in one line."""


def cannot_open(path: str, error: StoreError) -> StoreError:
    """`error` (of the same class) with the file named and a hint at the usual cause."""
    detail = str(error).removeprefix("sqlite: ")
    if isinstance(error, StoreDamaged):
        hint = " (the file is damaged or not a SQLite database: restore it from a backup)"
    elif "unable to open" in detail or "readonly" in detail:
        hint = (
            " (the file and its directory must be writable: SQLite keeps its -wal and -shm"
            " files beside it)"
        )
    else:
        hint = ""
    return type(error)(f"cannot open the SQLite database {path}: {detail}{hint}")


def quick_check(conn: sqlite3.Connection) -> str | None:
    """None when the file passes `PRAGMA quick_check`, else its findings on one line."""
    rows = [str(row[0]) for row in conn.execute(f"PRAGMA quick_check({QUICK_CHECK_ROWS})")]
    if rows == ["ok"]:
        return None
    return "; ".join(" ".join(row.split()) for row in rows)


async def run_check(path: str, busy_timeout_ms: int) -> str | None:
    """`quick_check` on a read-only connection of its own, in a thread of its own: the store's
    thread keeps answering meanwhile (in WAL a reader runs beside the writers). Cancelling it
    interrupts the check, so a shutdown never waits for a long one."""
    opened: list[sqlite3.Connection] = []
    cancelled = threading.Event()

    def check() -> str | None:
        uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        try:
            conn = sqlite3.connect(
                uri, uri=True, timeout=busy_timeout_ms / 1000, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise translate(exc) from exc
        opened.append(conn)
        try:
            if cancelled.is_set():
                return None
            return quick_check(conn)
        except sqlite3.Error as exc:
            raise translate(exc) from exc
        finally:
            conn.close()

    checking = asyncio.get_running_loop().run_in_executor(None, check)
    try:
        return await asyncio.shield(checking)
    except asyncio.CancelledError:
        # Interrupt the check and let its thread end by itself. Nothing here may raise: an
        # exception would replace the CancelledError, and the caller's task, its cancellation
        # swallowed, would sleep on "cancelling" forever (a check that already ended has closed
        # its connection, and interrupt() then raises).
        cancelled.set()
        for conn in opened:
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.interrupt()
        checking.add_done_callback(_discard)
        raise


def _discard(checking: asyncio.Future[str | None]) -> None:
    """Mark an abandoned check's outcome as read (an interrupted check raises)."""
    if not checking.cancelled():
        checking.exception()
