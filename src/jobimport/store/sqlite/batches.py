"""The batch steps of the SQLite store, which span several tables: applying one batch (upsert its
jobs, record its result, add it to the run) or failing it whole. Every function runs inside the
caller's transaction on the store thread (`BEGIN IMMEDIATE` for writes), so a write step is all
or nothing and no other process interleaves with it."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from jobimport.errors import StoreError
from jobimport.models import (
    MAX_STORED_FAILURES,
    BatchResult,
    ImportRun,
    ItemFailure,
    RunCounts,
    SeenItem,
    StagedEntry,
    add_counts,
    count_warnings,
)
from jobimport.store import codec
from jobimport.store.base import ApplyOutcome
from jobimport.store.batches import duplicate_in_feed, fail_entries, lost_sighting
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.expiry import sighted
from jobimport.store.sqlite.jobs import upsert_job
from jobimport.store.sqlite.runs import known_run, maybe_close

Conn = sqlite3.Connection


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
    sightings: dict[str, SeenItem] = {}
    for entry in entries:
        if isinstance(entry, ItemFailure):
            failures.append(entry)
        elif entry.id in seen:
            # Counting it twice would break the totals; the parser should have caught it.
            failures.append(duplicate_in_feed(entry))
        elif isinstance(entry, SeenItem):
            seen.add(entry.id)
            sightings[entry.id] = entry
        else:
            seen.add(entry.id)
            kinds[upsert_job(conn, entry, run_id, run.feed_url, stamp)] += 1
    if sightings:
        stored = sighted(conn, list(sightings), run.feed_url, run_id, stamp)
        kinds["unchanged"] += len(stored)
        failures += [lost_sighting(s) for job_id, s in sightings.items() if job_id not in stored]
    counts = RunCounts(fetched=len(entries), failed=len(failures), **kinds)
    result = BatchResult(run.id, n, counts, tuple(failures), count_warnings(entries))
    return _record(conn, run, result, now, expire_after_runs)


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
    return _record(
        conn, run, BatchResult(run.id, n, counts, tuple(failures)), now, expire_after_runs
    )


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
    conn: Conn, run: ImportRun, result: BatchResult, now: datetime, expire_after_runs: int
) -> ApplyOutcome:
    """The step shared by apply_batch and fail_batch: record the batch's result (`failures`: all
    of them; the first MAX_STORED_FAILURES are kept), add it to the run, drop the staged batch,
    and close the run if this was its last batch."""
    stamp = q.ts(now)
    counts, kept = result.counts, result.failures[:MAX_STORED_FAILURES]
    conn.execute(
        "INSERT INTO batch_results (run_id, n, fetched, new, updated, unchanged, failed,"
        " failures, created_at, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run.id, result.n, counts.fetched, counts.new, counts.updated, counts.unchanged,
         counts.failed, q.dumps([codec.failure_to_dict(f) for f in kept]), stamp,
         q.dumps(result.warnings)),
    )  # fmt: skip
    _add_to_run(conn, run, result, stamp)
    conn.execute("DELETE FROM staged_batches WHERE run_id = ? AND n = ?", (run.id, result.n))
    recorded = replace(result, failures=kept)
    return ApplyOutcome(recorded, True, maybe_close(conn, run.id, now, expire_after_runs))


def _add_to_run(conn: Conn, run: ImportRun, result: BatchResult, stamp: str | None) -> None:
    """Add a batch's counts to its run; keep failures in full up to the cap, count all by reason."""
    failures, counts = result.failures, result.counts
    stored = len(run.failures)
    room = max(0, MAX_STORED_FAILURES - stored)
    conn.executemany(
        q.INSERT_FAILURE,
        [(run.id, stored + i, *q.failure_row(f)) for i, f in enumerate(failures[:room])],
    )
    by_reason = add_counts(run.failure_counts, Counter(f.reason for f in failures))
    conn.execute(
        "UPDATE import_logs SET fetched = fetched + ?, new = new + ?, updated = updated + ?,"
        " unchanged = unchanged + ?, failed = failed + ?, failure_counts = ?, warnings = ?,"
        " batches_done = batches_done + 1, updated_at = ? WHERE id = ?",
        (counts.fetched, counts.new, counts.updated, counts.unchanged, counts.failed,
         q.dumps(by_reason), q.dumps(add_counts(run.warnings, result.warnings)), stamp, run.id),
    )  # fmt: skip
