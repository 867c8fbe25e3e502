"""Run bookkeeping of the SQLite store: loading runs with their failures, and every step that writes
a run (import log) apart from adding a batch result (batches.py). Each function runs inside the
caller's transaction on the store thread (`BEGIN IMMEDIATE` for writes), so a step is all or
nothing and no other process interleaves with it. Every write sets `updated_at` to `now`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from jobimport.errors import StoreError
from jobimport.models import (
    FeedErrorInfo,
    FetchInfo,
    ImportRun,
    RunStatus,
    add_counts,
    final_status,
    new_run_id,
)
from jobimport.store import codec
from jobimport.store.sqlite import expiry, rollups
from jobimport.store.sqlite import queries as q

Conn = sqlite3.Connection

# Written exactly as in the partial indexes' WHERE (schema.py), so the planner can use them.
IN_FLIGHT_SQL = "status IN ('queued', 'running')"


def load_run(conn: Conn, run_id: str) -> ImportRun | None:
    row = conn.execute("SELECT * FROM import_logs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    failures = conn.execute("SELECT * FROM run_failures WHERE run_id = ? ORDER BY seq", (run_id,))
    return q.run_from_row(row, map(q.failure_from_row, failures))


def runs_from_rows(conn: Conn, rows: list[sqlite3.Row]) -> list[ImportRun]:
    """Runs of a listing, with their stored failures fetched in one query."""
    ids = [row["id"] for row in rows]
    failures = q.rows_by_parent(conn, "run_failures", "run_id", ids, "run_id, seq")
    return [q.run_from_row(row, map(q.failure_from_row, failures[row["id"]])) for row in rows]


def known_run(conn: Conn, run_id: str) -> ImportRun:
    run = load_run(conn, run_id)
    if run is None:
        raise StoreError(f"unknown run {run_id!r}")
    return run


def close_run(
    conn: Conn,
    run: ImportRun,
    status: RunStatus,
    now: datetime,
    expire_after_runs: int,
    error: FeedErrorInfo | None,
) -> None:
    """Make the run final with `status` (its error as stored: `error`), expire jobs in the same
    transaction when the run read the whole document, and add the run to its hour's rollup.
    Every way a run becomes final comes through here, once: its callers check it is in flight."""
    stamp = q.ts(now)
    assert stamp is not None
    expired = expiry.on_close(conn, run, status, error, stamp, expire_after_runs)
    # duration_ms is stored (not computed) so the history can sort by it on an index.
    started = run.started_at
    duration = None if started is None else int((now - started).total_seconds() * 1000)
    conn.execute(
        "UPDATE import_logs SET status = ?, finished_at = ?, duration_ms = ?, updated_at = ?,"
        " expired = ? WHERE id = ?",
        (status.value, stamp, duration, stamp, expired, run.id),
    )
    rollups.add_run(conn, run.id)


def maybe_close(conn: Conn, run_id: str, now: datetime, expire_after_runs: int) -> ImportRun:
    """Close the run if it is fetched, every batch has a result and it is still in flight
    (a cancelled run is final: it is never closed again)."""
    run = known_run(conn, run_id)
    total = run.batches_total
    if total is not None and run.batches_done >= total and not run.status.is_final:
        status = final_status(run.counts, run.error)
        close_run(conn, run, status, now, expire_after_runs, run.error)
        run = known_run(conn, run_id)
    return run


def start_or_get(
    conn: Conn,
    feed_url: str,
    trigger: str,
    retry_of: str | None,
    now: datetime,
    unless_closed_since: datetime | None = None,
) -> tuple[ImportRun, bool]:
    """Store.start_or_get_run; the partial unique index on in-flight runs backs the check. Both
    checks and the insert share the caller's write transaction, so no run closes in between."""
    row = conn.execute(
        f"SELECT id FROM import_logs WHERE feed_url = ? AND {IN_FLIGHT_SQL}", (feed_url,)
    ).fetchone()
    if row is not None:
        return known_run(conn, row["id"]), False
    if unless_closed_since is not None:
        row = conn.execute(
            "SELECT id FROM import_logs WHERE feed_url = ? AND finished_at >= ?"
            " ORDER BY finished_at DESC, id DESC LIMIT 1",
            (feed_url, q.ts(unless_closed_since)),
        ).fetchone()
        if row is not None:
            return known_run(conn, row["id"]), False
    run_id = new_run_id(now)
    conn.execute(
        "INSERT INTO import_logs (id, feed_url, status, trigger, created_at, updated_at, retry_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (run_id, feed_url, RunStatus.QUEUED.value, trigger, q.ts(now), q.ts(now), retry_of),
    )
    return known_run(conn, run_id), True


def mark_running(conn: Conn, run_id: str, now: datetime) -> ImportRun | None:
    cursor = conn.execute(
        "UPDATE import_logs SET status = 'running', attempts = attempts + 1,"
        " started_at = coalesce(started_at, ?), updated_at = ?"
        f" WHERE id = ? AND {IN_FLIGHT_SQL}",
        (q.ts(now), q.ts(now), run_id),
    )
    return load_run(conn, run_id) if cursor.rowcount else None


def close_early(
    conn: Conn,
    run_id: str,
    status: RunStatus,
    error: FeedErrorInfo | None,
    fetch: FetchInfo | None,
    now: datetime,
    expire_after_runs: int,
) -> ImportRun | None:
    run = load_run(conn, run_id)
    if run is None or run.staged or run.status.is_final:
        return None
    conn.execute(
        "UPDATE import_logs SET error = ?, fetch = ? WHERE id = ?",
        (q.dumps_opt(codec.error_to_dict(error)), q.dumps_opt(codec.fetch_to_dict(fetch)), run_id),
    )
    close_run(conn, run, status, now, expire_after_runs, error)
    conn.execute("DELETE FROM staged_batches WHERE run_id = ?", (run_id,))
    return load_run(conn, run_id)


@dataclass(frozen=True, slots=True)
class Staged:
    """What `Store.mark_run_staged` records on a run."""

    batches_total: int
    fetch: FetchInfo | None
    error: FeedErrorInfo | None
    warnings: dict[str, int]


def mark_staged(
    conn: Conn, run_id: str, staged: Staged, now: datetime, expire_after_runs: int
) -> ImportRun:
    run = known_run(conn, run_id)
    if run.staged or run.status.is_final:  # a cancelled run stays as it is
        return run
    conn.execute(
        "UPDATE import_logs SET batches_total = ?, fetch = ?, error = ?, warnings = ?,"
        " updated_at = ? WHERE id = ?",
        (
            staged.batches_total,
            q.dumps_opt(codec.fetch_to_dict(staged.fetch)),
            q.dumps_opt(codec.error_to_dict(staged.error)),
            q.dumps(add_counts(run.warnings, staged.warnings)),
            q.ts(now),
            run_id,
        ),
    )
    return maybe_close(conn, run_id, now, expire_after_runs)


def cancel(conn: Conn, run_id: str, now: datetime) -> ImportRun | None:
    """Store.cancel_run: final at once; the recorded batch results and their counts stay."""
    run = load_run(conn, run_id)
    if run is None or run.status.is_final:
        return None
    close_run(conn, run, RunStatus.CANCELLED, now, 0, run.error)  # cancelled: never expires
    conn.execute("DELETE FROM staged_batches WHERE run_id = ?", (run_id,))
    return load_run(conn, run_id)


def prune(conn: Conn, finished_before: datetime) -> int:
    """Store.prune_runs. Failures, batch results and staged batches go with their run (ON DELETE
    CASCADE); jobs, job links and feeds only name run ids and stay. The runs leave their hours'
    rollups in the same transaction."""
    cutoff = q.ts(finished_before)
    where = (
        f"NOT ({IN_FLIGHT_SQL}) AND (finished_at < ? OR (finished_at IS NULL AND created_at < ?))"
    )
    rollups.remove_pruned(conn, where, (cutoff, cutoff))
    return conn.execute(f"DELETE FROM import_logs WHERE {where}", (cutoff, cutoff)).rowcount


def note_requeue(conn: Conn, run_id: str, now: datetime) -> ImportRun | None:
    """Store.note_requeue: one conditional update, then the run as it is after it."""
    cursor = conn.execute(
        "UPDATE import_logs SET requeues = requeues + 1, updated_at = ?"
        f" WHERE id = ? AND {IN_FLIGHT_SQL}",
        (q.ts(now), run_id),
    )
    return load_run(conn, run_id) if cursor.rowcount else None


def stale_runs(conn: Conn, idle_since: datetime) -> list[ImportRun]:
    """Store.list_stale_runs, oldest first. Without statistics the planner would pick the status
    index and sort; the partial index holds exactly the candidates, already in order."""
    rows = conn.execute(
        "SELECT * FROM import_logs INDEXED BY import_logs_stale"
        f" WHERE {IN_FLIGHT_SQL} AND updated_at < ? ORDER BY updated_at, id",
        (q.ts(idle_since),),
    ).fetchall()
    return runs_from_rows(conn, rows)


def runs_version(conn: Conn) -> str:
    """Store.runs_version: count(*) and max(created_at) from indexes, the rows in flight from
    the partial index on them."""
    count, newest = conn.execute("SELECT count(*), max(created_at) FROM import_logs").fetchone()
    flying = conn.execute(f"SELECT * FROM import_logs WHERE {IN_FLIGHT_SQL} ORDER BY id")
    return repr((count, newest, [tuple(row) for row in flying.fetchall()]))


def run_version(conn: Conn, run_id: str) -> str | None:
    """Store.run_version: the run's row; its failures (another table) only grow with it."""
    row = conn.execute("SELECT * FROM import_logs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else repr(tuple(row))
