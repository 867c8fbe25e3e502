"""SQLite-only behaviour of schema 3 (feeds as data, retry/cancel/retention, job expiry): the
migration of a schema-2 file, and the store's EXPIRE_AFTER_RUNS setting."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobimport.models import FeedOrigin, FeedState, JobStatus, RunCounts, RunStatus, feed_id
from jobimport.store import open_store
from jobimport.store.base import SCHEMA_VERSION, JobQuery
from jobimport.store.sqlite import SqliteStore
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.schema import MIGRATIONS
from tests.store.test_contract import import_run, job

FEED = "https://feeds.example.test/jobs"
OTHER = "https://feeds.example.test/other"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RUN = "a" * 24


def at(minutes: int) -> str:
    value = q.ts(T0 + timedelta(minutes=minutes))
    assert value is not None
    return value


def schema_2_file(db: Path) -> None:
    """A file as release 2 left it: two feeds, a finished run of FEED that stored jobs 1 and 2
    (job 2 also listed by OTHER), and a run of OTHER in flight."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for version in (1, 2):
            for statement in MIGRATIONS[version - 1]:
                assert isinstance(statement, str)
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, at(0)))
        conn.execute(
            "INSERT INTO feeds VALUES (?, '\"e1\"', NULL, ?, ?, 'succeeded', ?, 2, ?)",
            (FEED, RUN, at(1), at(1), at(60)),
        )
        conn.execute("INSERT INTO feeds (url) VALUES (?)", (OTHER,))
        conn.execute(
            "INSERT INTO import_logs (id, feed_url, status, trigger, created_at, started_at,"
            " finished_at, fetched, new, batches_total, batches_done, attempts, updated_at)"
            " VALUES (?, ?, 'succeeded', 'cron', ?, ?, ?, 2, 2, 1, 1, 1, ?)",
            (RUN, FEED, at(0), at(0), at(1), at(1)),
        )
        conn.execute(
            "INSERT INTO import_logs (id, feed_url, status, trigger, created_at, updated_at)"
            " VALUES (?, ?, 'queued', 'api', ?, ?)",
            ("b" * 24, OTHER, at(2), at(2)),
        )
        conn.execute(
            "INSERT INTO batch_results VALUES (?, 0, 2, 2, 0, 0, 0, '[]', ?)", (RUN, at(1))
        )
        for ext in (1, 2):
            conn.execute(
                "INSERT INTO jobs (id, source, external_id, title, content_hash, first_seen_at,"
                " last_seen_at, last_changed_at, first_seen_run_id, last_seen_run_id,"
                " last_changed_run_id) VALUES (?, 'example', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job(ext).id, str(ext), f"Job {ext}", job(ext).content_hash,
                 at(1), at(1), at(1), RUN, RUN, RUN),
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO job_feeds (job_id, feed_url) VALUES (?, ?)",
            [(job(1).id, FEED), (job(2).id, FEED), (job(2).id, OTHER)],
        )
    finally:
        conn.close()


async def test_a_schema_2_file_migrates_to_feeds_as_data_and_expiry(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    schema_2_file(db)
    store = SqliteStore(db, expire_after_runs=1)
    await store.open()
    try:
        assert await store.schema_version() == SCHEMA_VERSION >= 3  # v3, then any later one
        # Feeds stored before are ADHOC, with their public id and run state, until seeded.
        feed = await store.get_feed_by_id(feed_id(FEED))
        assert feed == FeedState(
            url=FEED,
            etag='"e1"',
            last_run_id=RUN,
            last_run_at=T0 + timedelta(minutes=1),
            last_status="succeeded",
            last_success_at=T0 + timedelta(minutes=1),
            consecutive_failures=2,
            next_run_at=T0 + timedelta(hours=1),
        )
        assert feed.origin is FeedOrigin.ADHOC
        assert await store.list_feeds() == []
        await store.seed_feeds([FEED])
        seeded = await store.get_feed(FEED)
        assert seeded is not None
        assert (seeded.origin, seeded.etag, seeded.consecutive_failures) == (
            FeedOrigin.CONFIG,
            '"e1"',
            2,
        )
        assert seeded.created_at is not None
        assert await store.list_feeds() == [seeded]
        other = await store.get_feed_by_id(feed_id(OTHER))
        assert other is not None
        assert other.origin is FeedOrigin.ADHOC

        # Runs: nothing expired, no retry; jobs: active.
        run = await store.get_run(RUN)
        assert run is not None
        assert (run.counts, run.retry_of) == (RunCounts(fetched=2, new=2), None)
        records = (await store.list_jobs(JobQuery())).items
        assert [(r.status, r.expired_at) for r in records] == [(JobStatus.ACTIVE, None)] * 2

        # The migrated links take part in expiry (EXPIRE_AFTER_RUNS = 1 here).
        cancelled = await store.cancel_run("b" * 24)
        assert cancelled is not None
        nothing = await import_run(store, [[job(3)]])
        assert nothing.counts == RunCounts(fetched=1, new=1, expired=1)
        statuses = {r.job.external_id: r.status for r in (await store.list_jobs(JobQuery())).items}
        assert statuses == {"1": JobStatus.EXPIRED, "2": JobStatus.ACTIVE, "3": JobStatus.ACTIVE}
        assert await store.prune_runs(T0 + timedelta(minutes=30)) == 1  # the release-2 run
        assert await store.get_run(RUN) is None
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        links = conn.execute(
            "SELECT feed_url, last_seen_run_id, missed FROM job_feeds WHERE job_id = ?"
            " ORDER BY rowid",
            (job(2).id,),
        ).fetchall()
        # Filled from jobs.last_seen_run_id; FEED's run missed job 2, OTHER has not run since.
        assert links == [(FEED, RUN, 1), (OTHER, RUN, 0)]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"feeds_id", "import_logs_finished", "jobs_status_changed"} <= indexes
        with pytest.raises(sqlite3.IntegrityError, match=r"feeds\.id"):
            conn.execute("INSERT INTO feeds (url, id) VALUES ('x', ?)", (feed_id(FEED),))
    finally:
        conn.close()


async def test_expire_after_runs_is_the_store_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SqliteStore(tmp_path / "x.db", expire_after_runs=0)
    store = open_store(f"sqlite:///{tmp_path}/two.db", expire_after_runs=2)
    await store.open()
    try:
        await import_run(store, [[job(1), job(2)]])
        first = await import_run(store, [[job(1)]])
        second = await import_run(store, [[job(1)]])
        assert (first.counts.expired, second.counts.expired) == (0, 1)
        assert second.status is RunStatus.SUCCEEDED
        gone = await store.get_job(job(2).id)
        assert gone is not None
        assert gone.status is JobStatus.EXPIRED
        assert gone.expired_at == second.finished_at  # the closing step's time
    finally:
        await store.close()


async def test_prune_runs_and_the_status_filter_read_their_indexes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "plan.db")
    await store.open()
    statements: list[str] = []
    try:
        conn = store._conn
        assert conn is not None
        await store._call(lambda: conn.set_trace_callback(statements.append))
        await store.prune_runs(datetime.now(UTC))
        await store.list_jobs(JobQuery(status=JobStatus.EXPIRED))
        await store._call(lambda: conn.set_trace_callback(None))
        starts = ("DELETE FROM IMPORT_LOGS", "SELECT *")  # not the rollups' own (sqlite/rollups.py)
        wanted = [s for s in statements if s.lstrip().upper().startswith(starts)]
        plans = [
            await store._call(
                lambda s=s: " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {s}"))
            )
            for s in wanted
        ]
    finally:
        await store.close()
    prune, listing = plans
    assert "USING INDEX import_logs_finished" in prune
    assert "USING INDEX jobs_status_changed" in listing
    assert "TEMP B-TREE" not in listing  # the index order is the default listing order
