"""SQLite-only behaviour of the reconciler's bookkeeping: the migration from schema 1 (before
`updated_at` and `requeues`) and the partial index behind `list_stale_runs`."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobimport.models import FetchInfo, ItemFailure, RunCounts, RunStatus
from jobimport.store.base import SCHEMA_VERSION
from jobimport.store.sqlite import SqliteStore
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.schema import MIGRATIONS

FEED = "https://feeds.example.test/jobs"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> str:
    value = q.ts(T0 + timedelta(minutes=minutes))
    assert value is not None
    return value


def schema_1_file(db: Path) -> None:
    """A file as release 1 left it: its DDL, its version row, and three runs in three states."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1, ?)", (at(0),))
        columns = (
            "id, feed_url, status, trigger, created_at, started_at, finished_at, duration_ms,"
            " fetched, new, failed, failure_counts, fetch, batches_total, batches_done, attempts"
        )
        rows = [
            ("a" * 24, FEED, "partial", "cron", at(0), at(1), at(5), 240000,
             3, 2, 1, '{"missing_title":1}', '{"status":200}', 1, 1, 1),
            ("b" * 24, FEED + "/b", "running", "api", at(2), at(3), None, None,
             0, 0, 0, "{}", None, None, 0, 2),
            ("c" * 24, FEED + "/c", "queued", "cli", at(4), None, None, None,
             0, 0, 0, "{}", None, None, 0, 0),
        ]  # fmt: skip
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO import_logs ({columns}) VALUES ({marks})", rows)
        conn.execute(
            "INSERT INTO run_failures VALUES (?, 0, 'missing_title', 'no title', 4, NULL, NULL,"
            " NULL)",
            ("a" * 24,),
        )
    finally:
        conn.close()


async def test_a_schema_1_file_migrates_and_keeps_its_runs(tmp_path: Path) -> None:
    db = tmp_path / "v1.db"
    schema_1_file(db)
    store = SqliteStore(db)
    await store.open()
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        done, running, queued = [await store.get_run(c * 24) for c in "abc"]
        assert done is not None
        assert running is not None
        assert queued is not None
        # updated_at = the latest known time of each run; requeues start at 0.
        assert done.updated_at == done.finished_at == T0 + timedelta(minutes=5)
        assert running.updated_at == running.started_at == T0 + timedelta(minutes=3)
        assert queued.updated_at == queued.created_at == T0 + timedelta(minutes=4)
        assert (done.requeues, running.requeues, queued.requeues) == (0, 0, 0)
        # Everything else is as release 1 wrote it.
        assert (done.status, done.trigger, done.counts) == (
            RunStatus.PARTIAL,
            "cron",
            RunCounts(fetched=3, new=2, failed=1),
        )
        assert done.failures == (ItemFailure("missing_title", "no title", position=4),)
        assert (done.failure_counts, done.fetch) == ({"missing_title": 1}, FetchInfo(status=200))
        assert (done.batches_total, done.batches_done, done.duration_ms) == (1, 1, 240000)
        assert (running.status, running.attempts) == (RunStatus.RUNNING, 2)

        assert await store.list_stale_runs(T0 + timedelta(hours=1)) == [running, queued]
        requeued = await store.note_requeue(queued.id)
        assert requeued is not None
        assert requeued.requeues == 1
        assert requeued.updated_at is not None
        assert requeued.updated_at > T0 + timedelta(minutes=4)
        again, created = await store.start_or_get_run(FEED + "/c", "api")
        assert (again, created) == (requeued, False)  # the in-flight index survived
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
    finally:
        conn.close()


async def test_list_stale_runs_reads_the_partial_index(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "plan.db")
    await store.open()
    statements: list[str] = []
    try:
        conn = store._conn
        assert conn is not None
        await store._call(lambda: conn.set_trace_callback(statements.append))
        await store.list_stale_runs(datetime.now(UTC))
        await store._call(lambda: conn.set_trace_callback(None))
        (query,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        plan = await store._call(
            lambda: " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
        )
    finally:
        await store.close()
    assert "USING INDEX import_logs_stale" in plan
    assert "TEMP B-TREE" not in plan  # the index order is the result order
