"""Staged batches of the SQLite store: what a run's fetch task wrote for its batch tasks to apply.
Each function runs inside the caller's transaction on the store thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from jobimport.models import StagedEntry
from jobimport.store import codec
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.runs import known_run

Conn = sqlite3.Connection


def reset(conn: Conn, run_id: str) -> None:
    """Store.reset_staging: only while the run is not yet fetched."""
    conn.execute(
        "DELETE FROM staged_batches WHERE run_id = ? AND run_id IN (SELECT id FROM"
        " import_logs WHERE id = ? AND batches_total IS NULL)",
        (run_id, run_id),
    )


def stage(conn: Conn, run_id: str, n: int, entries: Sequence[StagedEntry], stamp: str) -> None:
    run = known_run(conn, run_id)
    # Once fetched, the staged batches are what the batch tasks apply: a late fetch task (a
    # redelivery racing the first) must not change them. A final run (cancelled) takes none.
    if run.staged or run.status.is_final:
        return
    conn.execute(
        "INSERT OR REPLACE INTO staged_batches (run_id, n, entries, staged_at) VALUES (?, ?, ?, ?)",
        (run_id, n, q.dumps([codec.entry_to_dict(e) for e in entries]), stamp),
    )


def load(conn: Conn, run_id: str, n: int) -> list[StagedEntry] | None:
    row = conn.execute(
        "SELECT entries FROM staged_batches WHERE run_id = ? AND n = ?", (run_id, n)
    ).fetchone()
    return None if row is None else [codec.entry_from_dict(d) for d in q.loads(row[0])]


def pending(conn: Conn, run_id: str) -> list[int]:
    """Store.pending_batches."""
    row = conn.execute("SELECT batches_total FROM import_logs WHERE id = ?", (run_id,)).fetchone()
    done = {r[0] for r in conn.execute("SELECT n FROM batch_results WHERE run_id = ?", (run_id,))}
    if row is not None and row[0] is not None:
        return [n for n in range(row[0]) if n not in done]
    # Not fetched yet: the batches staged so far.
    staged = conn.execute("SELECT n FROM staged_batches WHERE run_id = ? ORDER BY n", (run_id,))
    return [r[0] for r in staged if r[0] not in done]
