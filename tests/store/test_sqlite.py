"""SQLite-only behaviour: durability, several stores (processes) on one file, migrations, locking,
error mapping, the injected clock, and the `open_store` factory."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import types
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobimport.errors import StoreError, StoreUnavailable
from jobimport.models import FeedState, ItemFailure, Job, RunCounts, RunStatus, utc_now
from jobimport.store import open_store
from jobimport.store.base import SCHEMA_VERSION, JobQuery, RunQuery, Store
from jobimport.store.sqlite import SqliteStore
from jobimport.store.sqlite.queries import translate

FEED = "https://feeds.example.test/jobs"
OTHER = "https://feeds.example.test/other"


def job(ext: int, h: str = "h1") -> Job:
    return Job(source="example", external_id=str(ext), title=f"Job {ext}", content_hash=h)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "jobimport.db"


@pytest.fixture
async def pair(db: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores on one file, like a web and a worker process."""
    web, worker = SqliteStore(db), SqliteStore(db)
    await web.open()
    await worker.open()
    yield web, worker
    await web.close()
    await worker.close()


@pytest.fixture
def raw(db: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to the store's file, as another process would hold one."""
    conn = sqlite3.connect(db, isolation_level=None)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


async def full_run(store: Store, feed: str, entries: list[Job | ItemFailure]) -> str:
    run, _ = await store.start_or_get_run(feed, "test")
    await store.mark_run_running(run.id)
    await store.stage_batch(run.id, 0, entries)
    await store.mark_run_staged(run.id, 1)
    await store.apply_batch(run.id, 0, entries)
    return run.id


async def test_data_survives_close_and_reopen(db: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    run_id = await full_run(store, FEED, [job(1), job(2)])
    pending, _ = await store.start_or_get_run(OTHER, "test")
    await store.stage_batch(pending.id, 0, [job(3)])
    await store.save_feed_run_state(FeedState(url=FEED, etag='"e"', consecutive_failures=1))
    before = await store.get_run(run_id)
    await store.close()

    reopened = SqliteStore(db)
    await reopened.open()
    try:
        assert await reopened.get_run(run_id) == before
        assert await reopened.count_jobs() == 2
        assert await reopened.load_staged_batch(pending.id, 0) == [job(3)]
        assert await reopened.get_feed(FEED) == FeedState(
            url=FEED, etag='"e"', consecutive_failures=1
        )
        assert await reopened.schema_version() == SCHEMA_VERSION
    finally:
        await reopened.close()


async def test_two_stores_on_one_file_see_each_others_writes(
    pair: tuple[SqliteStore, SqliteStore],
) -> None:
    web, worker = pair
    run, created = await web.start_or_get_run(FEED, "api")
    assert created
    same, created_again = await worker.start_or_get_run(FEED, "cron")
    assert (same.id, created_again) == (run.id, False)
    await worker.mark_run_running(run.id)
    await worker.stage_batch(run.id, 0, [job(1)])
    await worker.mark_run_staged(run.id, 1)
    assert await web.load_staged_batch(run.id, 0) == [job(1)]
    await worker.apply_batch(run.id, 0, [job(1)])
    seen = await web.get_run(run.id)
    assert seen is not None
    assert (seen.status, seen.counts) == (RunStatus.SUCCEEDED, RunCounts(fetched=1, new=1))
    assert await web.count_jobs() == 1


async def test_concurrent_starts_from_two_stores_create_one_run(
    pair: tuple[SqliteStore, SqliteStore],
) -> None:
    web, worker = pair
    calls = [s.start_or_get_run(FEED, "api") for _ in range(5) for s in (web, worker)]
    results = await asyncio.gather(*calls)
    assert sum(created for _, created in results) == 1
    assert len({run.id for run, _ in results}) == 1


async def test_concurrent_applies_from_two_stores_count_a_shared_job_new_once(
    pair: tuple[SqliteStore, SqliteStore],
) -> None:
    web, worker = pair
    runs = []
    for store, feed in ((web, FEED), (worker, OTHER)):
        run, _ = await store.start_or_get_run(feed, "test")
        await store.mark_run_running(run.id)
        await store.stage_batch(run.id, 0, [job(1)])
        await store.mark_run_staged(run.id, 1)
        runs.append(run)
    outcomes = await asyncio.gather(
        web.apply_batch(runs[0].id, 0, [job(1)]), worker.apply_batch(runs[1].id, 0, [job(1)])
    )
    assert sorted(o.result.counts.new for o in outcomes) == [0, 1]
    assert await web.count_jobs() == 1


@pytest.fixture
def empty_db(db: Path) -> Path:
    db.touch()
    return db


async def test_migration_of_an_empty_file_records_the_version(empty_db: Path) -> None:
    db = empty_db
    store = SqliteStore(db)
    await store.open()
    assert await store.schema_version() == SCHEMA_VERSION
    await store.close()
    await store.open()  # a second open (and migrate) applies nothing again
    await store.close()
    conn = sqlite3.connect(db)
    try:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_a_newer_schema_is_refused(db: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    await store.close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'later')", (SCHEMA_VERSION + 1,))
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        await store.open()
    with pytest.raises(StoreError, match="not open"):
        await store.count_jobs()


async def test_open_creates_parent_directories(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a" / "b" / "jobs.db")
    await store.open()
    await store.open()  # idempotent
    assert await store.count_jobs() == 0
    await store.close()
    await store.close()
    assert (tmp_path / "a" / "b" / "jobs.db").is_file()


async def test_a_locked_database_is_unavailable_for_writes_not_reads(
    db: Path, raw: sqlite3.Connection
) -> None:
    store = SqliteStore(db, busy_timeout_ms=20)
    await store.open()
    try:
        run, _ = await store.start_or_get_run(FEED, "api")
        raw.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StoreUnavailable, match="locked"):
            await store.mark_run_running(run.id)
        assert await store.get_run(run.id) == run  # WAL: readers never wait for the writer
        raw.execute("ROLLBACK")
        running = await store.mark_run_running(run.id)
        assert running is not None
        assert running.attempts == 1  # the failed attempt changed nothing
    finally:
        await store.close()


async def test_a_write_waiting_for_the_lock_leaves_the_event_loop_free(
    db: Path, raw: sqlite3.Connection
) -> None:
    store = SqliteStore(db, busy_timeout_ms=2000)
    await store.open()
    try:
        raw.execute("BEGIN IMMEDIATE")
        task = asyncio.create_task(store.start_or_get_run(FEED, "api"))
        await asyncio.sleep(0)  # let the task start; a blocking store would stall here
        assert not task.done()
        raw.execute("ROLLBACK")  # only possible because the loop still runs
        _run, created = await task
        assert created
    finally:
        await store.close()


def _forget_batch(db: Path, run_id: str) -> None:
    """Leave the state a crash between writing the jobs and recording the batch would leave (on a
    backend without transactions): the jobs stay, the result and the run's totals are gone."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM batch_results WHERE run_id = ?", (run_id,))
        conn.execute(
            "UPDATE import_logs SET fetched = 0, new = 0, updated = 0, unchanged = 0, failed = 0,"
            " batches_done = 0, status = 'running', finished_at = NULL, duration_ms = NULL"
            " WHERE id = ?",
            (run_id,),
        )
    conn.close()


async def test_a_replay_after_a_crashed_attempt_counts_as_the_first_attempt(db: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    try:
        first = await full_run(store, FEED, [job(1), job(2)])
        _forget_batch(db, first)
        replay = await store.apply_batch(first, 0, [job(1), job(2)])
        assert replay.first_time
        assert replay.result.counts == RunCounts(fetched=2, new=2)  # first_seen_run_id

        second = await full_run(store, FEED, [job(1, "h2"), job(2)])
        _forget_batch(db, second)
        replay = await store.apply_batch(second, 0, [job(1, "h2"), job(2)])
        assert replay.result.counts == RunCounts(fetched=2, updated=1, unchanged=1)
        assert replay.run.status is RunStatus.SUCCEEDED
    finally:
        await store.close()


def test_sqlite_errors_map_to_transient_or_permanent() -> None:
    by_code = sqlite3.OperationalError("some I/O trouble")
    by_code.sqlite_errorcode = 10 | (4 << 8)  # SQLITE_IOERR_FSYNC
    assert isinstance(translate(by_code), StoreUnavailable)
    assert isinstance(translate(sqlite3.OperationalError("database is locked")), StoreUnavailable)
    assert isinstance(translate(sqlite3.OperationalError("disk I/O error")), StoreUnavailable)
    integrity = translate(sqlite3.IntegrityError("UNIQUE constraint failed: jobs.id"))
    assert type(integrity) is StoreError
    assert type(translate(sqlite3.OperationalError("no such table: jobs"))) is StoreError


async def test_times_and_run_ids_come_from_the_clock(db: Path) -> None:
    now = [datetime(2024, 5, 1, 12, 0, tzinfo=UTC)]

    def clock() -> datetime:
        return now[0]

    store = SqliteStore(db, clock=clock)
    await store.open()
    try:
        run, _ = await store.start_or_get_run(FEED, "api")
        assert run.created_at == now[0]
        assert int(run.id[:12], 16) == int(now[0].timestamp() * 1000)
        await store.mark_run_running(run.id)
        now[0] += timedelta(seconds=1, milliseconds=500)
        await store.mark_run_staged(run.id, 0)
        closed = await store.get_run(run.id)
        assert closed is not None
        assert (closed.started_at, closed.finished_at) == (now[0] - timedelta(seconds=1.5), now[0])
        assert closed.duration_ms == 1500
        page = await store.list_runs(RunQuery(created_after=now[0] - timedelta(seconds=2)))
        assert [r.id for r in page.items] == [run.id]
    finally:
        await store.close()


async def test_job_text_search_escapes_like_wildcards(db: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    try:
        titled = [
            Job(source="s", external_id=str(i), title=t, content_hash="h")
            for i, t in enumerate(["a_b", "axb", "c\\d"])
        ]
        await full_run(store, FEED, list(titled))
        found = await store.list_jobs(JobQuery(text="a_b"))
        assert [r.job.title for r in found.items] == ["a_b"]
        found = await store.list_jobs(JobQuery(text="c\\d"))
        assert [r.job.title for r in found.items] == ["c\\d"]
    finally:
        await store.close()


# --- the factory --------------------------------------------------------------------------


def test_open_store_reads_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///var/jobimport.db")
    assert isinstance(relative, SqliteStore)
    assert relative.path == "var/jobimport.db"
    absolute = open_store(f"sqlite:///{tmp_path}/x.db")  # sqlite:////abs/path
    assert isinstance(absolute, SqliteStore)
    assert absolute.path == f"{tmp_path}/x.db"
    with pytest.raises(ValueError, match="unsupported"):
        open_store("postgres://db/jobs")
    with pytest.raises(ValueError, match="path"):
        open_store("sqlite:///")


async def test_open_store_returns_an_unopened_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///var/jobimport.db")
    assert not (tmp_path / "var").exists()
    with pytest.raises(StoreError, match="not open"):
        await store.count_jobs()
    await store.open()
    try:
        assert (tmp_path / "var" / "jobimport.db").is_file()
    finally:
        await store.close()


async def test_an_in_memory_store_works() -> None:
    store = open_store("sqlite:///:memory:")
    await store.open()
    try:
        await full_run(store, FEED, [job(1)])
        assert await store.count_jobs() == 1
    finally:
        await store.close()


def test_open_store_builds_the_mongodb_backend_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, Any]] = []

    class FakeMongoStore:
        def __init__(self, url: str, *, clock: Any, expire_after_runs: int) -> None:
            made.append((url, clock, expire_after_runs))

    module = types.ModuleType("jobimport.store.mongo")
    module.MongoStore = FakeMongoStore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jobimport.store.mongo", module)
    for url in ("mongodb://db:27017/jobs", "mongodb+srv://cluster.example/jobs"):
        assert isinstance(open_store(url), FakeMongoStore)
    assert isinstance(open_store("mongodb://db/jobs", expire_after_runs=5), FakeMongoStore)
    assert made == [
        ("mongodb://db:27017/jobs", utc_now, 3),
        ("mongodb+srv://cluster.example/jobs", utc_now, 3),
        ("mongodb://db/jobs", utc_now, 5),
    ]


_OPEN_AND_CLOSE = """
import asyncio, sys
from jobimport.store.sqlite import SqliteStore

async def main() -> None:
    for _ in range(int(sys.argv[2])):
        store = SqliteStore(sys.argv[1])
        await store.open()
        await store.close()

asyncio.run(main())
"""


@pytest.mark.slow
async def test_processes_opening_and_closing_one_fresh_file_together_all_succeed(db: Path) -> None:
    """Opening races the first switch to WAL and other processes' last-close checkpoints, which
    answer "locked" without waiting on the busy handler; every open must still succeed."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN_AND_CLOSE,
            str(db),
            "25",
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(6)
    ]
    results = [await process.communicate() for process in processes]
    errors = [err.decode() for _, err in results if err]
    assert [process.returncode for process in processes] == [0] * 6, errors
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
