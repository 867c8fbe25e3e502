"""The batch steps of the SQLite store, which span several tables: applying one batch (upsert its
jobs, record its result, add it to the run) or failing it whole, and loading jobs with their
feeds. Every function runs inside the caller's transaction on the store thread (`BEGIN IMMEDIATE`
for writes), so a write step is all or nothing and no other process interleaves with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from jobimport.errors import StoreError
from jobimport.models import (
    MAX_STORED_FAILURES,
    BatchResult,
    ImportRun,
    ItemFailure,
    ItemFailureReason,
    Job,
    RunCounts,
    StagedEntry,
)
from jobimport.store import codec, sqlite_expiry
from jobimport.store import sqlite_queries as q
from jobimport.store.base import ApplyOutcome, JobRecord
from jobimport.store.batches import fail_entries
from jobimport.store.sqlite_runs import known_run, maybe_close

Conn = sqlite3.Connection


def job_records(conn: Conn, rows: list[sqlite3.Row]) -> list[JobRecord]:
    """Job records with their feeds (in the order first listed), fetched in one query."""
    feeds: dict[str, list[str]] = {row["id"]: [] for row in rows}
    if rows:
        marks = ", ".join("?" * len(rows))
        for f in conn.execute(
            f"SELECT job_id, feed_url FROM job_feeds WHERE job_id IN ({marks}) ORDER BY rowid",
            list(feeds),
        ):
            feeds[f[0]].append(f[1])
    return [q.job_record_from_row(row, feeds[row["id"]]) for row in rows]


def apply_batch(
    conn: Conn,
    run_id: str,
    n: int,
    entries: Sequence[StagedEntry],
    now: datetime,
    expire_after_runs: int,
) -> ApplyOutcome:
    """Store.apply_batch inside one transaction: replay → the first result, untouched counts."""
    run = known_run(conn, run_id)
    replay = _replay(conn, run, n)
    if replay is not None:
        return replay
    stamp = q.ts(now)
    assert stamp is not None
    kinds = {"new": 0, "updated": 0, "unchanged": 0}
    failures: list[ItemFailure] = []
    seen: set[str] = set()
    for entry in entries:
        if isinstance(entry, ItemFailure):
            failures.append(entry)
        elif entry.id in seen:
            # Counting it twice would break the totals; the parser should have caught it.
            failures.append(_duplicate(entry))
        else:
            seen.add(entry.id)
            kinds[_upsert_job(conn, entry, run_id, run.feed_url, stamp)] += 1
    counts = RunCounts(fetched=len(entries), failed=len(failures), **kinds)
    return _record(conn, run, n, counts, failures, now, expire_after_runs)


def fail_batch(
    conn: Conn,
    run_id: str,
    n: int,
    reason: str,
    message: str,
    now: datetime,
    expire_after_runs: int,
) -> ApplyOutcome:
    """Store.fail_batch inside one transaction: the staged batch is recorded as its result with
    every entry failed; a batch that already has a result is a replay, as in apply_batch."""
    run = known_run(conn, run_id)
    replay = _replay(conn, run, n)
    if replay is not None:
        return replay
    row = conn.execute(
        "SELECT entries FROM staged_batches WHERE run_id = ? AND n = ?", (run_id, n)
    ).fetchone()
    if row is None:
        raise StoreError(f"batch {n} of run {run_id} is neither staged nor recorded")
    entries = [codec.entry_from_dict(d) for d in q.loads(row[0])]
    failures = fail_entries(entries, reason, message)
    counts = RunCounts(fetched=len(entries), failed=len(failures))
    return _record(conn, run, n, counts, failures, now, expire_after_runs)


def _replay(conn: Conn, run: ImportRun, n: int) -> ApplyOutcome | None:
    """The recorded result of batch n, if any, with the run untouched (its staged copy, if one
    is left, is dropped). A final run without one (cancelled before the batch applied) takes
    no more batches: an empty result, nothing written."""
    existing = conn.execute(
        "SELECT * FROM batch_results WHERE run_id = ? AND n = ?", (run.id, n)
    ).fetchone()
    if existing is None and not run.status.is_final:
        return None
    conn.execute("DELETE FROM staged_batches WHERE run_id = ? AND n = ?", (run.id, n))
    if existing is None:
        return ApplyOutcome(BatchResult(run_id=run.id, n=n, counts=RunCounts()), False, run)
    return ApplyOutcome(q.batch_result_from_row(existing), False, run)


def _record(
    conn: Conn,
    run: ImportRun,
    n: int,
    counts: RunCounts,
    failures: list[ItemFailure],
    now: datetime,
    expire_after_runs: int,
) -> ApplyOutcome:
    """The step shared by apply_batch and fail_batch: record batch n's result, add it to the run,
    drop the staged batch, and close the run if this was its last batch."""
    stamp = q.ts(now)
    kept = tuple(failures[:MAX_STORED_FAILURES])
    conn.execute(
        "INSERT INTO batch_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run.id, n, counts.fetched, counts.new, counts.updated, counts.unchanged, counts.failed,
         q.dumps([codec.failure_to_dict(f) for f in kept]), stamp),
    )  # fmt: skip
    _add_to_run(conn, run, counts, failures, stamp)
    conn.execute("DELETE FROM staged_batches WHERE run_id = ? AND n = ?", (run.id, n))
    result = BatchResult(run_id=run.id, n=n, counts=counts, failures=kept)
    return ApplyOutcome(result, True, maybe_close(conn, run.id, now, expire_after_runs))


def _add_to_run(
    conn: Conn, run: ImportRun, counts: RunCounts, failures: list[ItemFailure], stamp: str | None
) -> None:
    """Add a batch's counts to its run; keep failures in full up to the cap, count all by reason."""
    stored = len(run.failures)
    room = max(0, MAX_STORED_FAILURES - stored)
    conn.executemany(
        "INSERT INTO run_failures VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(run.id, stored + i, *q.failure_row(f)) for i, f in enumerate(failures[:room])],
    )
    by_reason = dict(run.failure_counts)
    for failure in failures:
        by_reason[failure.reason] = by_reason.get(failure.reason, 0) + 1
    conn.execute(
        "UPDATE import_logs SET fetched = fetched + ?, new = new + ?, updated = updated + ?,"
        " unchanged = unchanged + ?, failed = failed + ?, failure_counts = ?,"
        " batches_done = batches_done + 1, updated_at = ? WHERE id = ?",
        (counts.fetched, counts.new, counts.updated, counts.unchanged, counts.failed,
         q.dumps(by_reason), stamp, run.id),
    )  # fmt: skip


def _duplicate(job: Job) -> ItemFailure:
    return ItemFailure(
        reason=ItemFailureReason.DUPLICATE_IN_FEED.value,
        message=f"{job.identity} appears twice in one batch",
        position=job.position,
        identity=job.identity,
        url=job.url,
        title=job.title,
    )


def _upsert_job(conn: Conn, job: Job, run_id: str, feed_url: str, now: str) -> str:
    """Write one job and classify it (DESIGN §3). A job this run first stored, or last changed,
    keeps that classification, so a replayed batch counts as its first attempt did."""
    row = conn.execute(
        "SELECT content_hash, first_seen_run_id, last_changed_run_id FROM jobs"
        " WHERE source = ? AND external_id = ?",
        (job.source, job.external_id),
    ).fetchone()
    content = q.job_content_params(job)
    if row is None:
        columns = ", ".join(q.JOB_CONTENT_COLUMNS)
        conn.execute(
            f"INSERT INTO jobs (id, source, external_id, {columns}, first_seen_at, last_seen_at,"
            " last_changed_at, first_seen_run_id, last_seen_run_id, last_changed_run_id)"
            f" VALUES ({', '.join('?' * (len(content) + 9))})",
            (job.id, job.source, job.external_id, *content, now, now, now, run_id, run_id, run_id),
        )
        kind = "new"
    else:
        changed = row["content_hash"] != job.content_hash
        if row["first_seen_run_id"] == run_id:
            kind = "new"
        elif changed or row["last_changed_run_id"] == run_id:
            kind = "updated"
        else:
            kind = "unchanged"
        if changed:
            assignments = ", ".join(f"{c} = ?" for c in q.JOB_CONTENT_COLUMNS)
            conn.execute(
                f"UPDATE jobs SET {assignments}, last_changed_at = ?, last_changed_run_id = ?,"
                " last_seen_at = ?, last_seen_run_id = ? WHERE id = ?",
                (*content, now, run_id, now, run_id, job.id),
            )
        else:
            conn.execute(
                "UPDATE jobs SET last_seen_at = ?, last_seen_run_id = ? WHERE id = ?",
                (now, run_id, job.id),
            )
    sqlite_expiry.listed(conn, job.id, feed_url, run_id)
    return kind
