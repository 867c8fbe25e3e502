"""Rollups (store/rollups.py): the counters, the sums, the hourly totals and every listing's total
equal counting the stored runs by hand, on every backend: after a mix of runs (succeeded,
partial, failed, not_modified, cancelled, a retry, redelivered steps, runs in flight), after a
prune, and after the schema v7 migration built them from runs a v6 store had written.

The store's clock is a settable one, so runs land in chosen hours and windows can cut hours."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobimport.models import ImportRun, RunCounts, RunStatus
from jobimport.store.base import SCHEMA_VERSION, HourTotals, RunQuery, Store
from jobimport.store.rollups import floor_hour
from tests.store.conftest import BACKENDS, open_backend
from tests.store.test_contract import BROKEN, FEED, OTHER, begin, fail, import_run, job, stage_all

START = datetime(2026, 3, 1, 9, 20, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def at(self, hour: int, minute: int) -> None:
        self.now = START.replace(hour=hour, minute=minute)


@dataclass
class Timed:
    store: Store
    clock: Clock
    kind: str
    path: Path


@pytest.fixture(params=BACKENDS)
async def timed(
    request: pytest.FixtureRequest, tmp_path: Path, empty_sqlite: Path
) -> AsyncIterator[Timed]:
    clock = Clock()
    store = await open_backend(request.param, tmp_path, empty_sqlite, clock=clock)
    holder = Timed(store, clock, request.param, tmp_path / "contract.db")
    try:
        yield holder
    finally:
        await holder.store.close()


def matches(run: ImportRun, query: RunQuery) -> bool:
    """RunQuery's filters, by hand."""
    if query.feed_url is not None and run.feed_url != query.feed_url:
        return False
    if query.statuses and run.status not in query.statuses:
        return False
    if query.only_with_failures and not (run.counts.failed > 0 or run.error is not None):
        return False
    if query.created_after is not None and run.created_at < query.created_after:
        return False
    return query.created_before is None or run.created_at < query.created_before


def total_counts(runs: list[ImportRun]) -> RunCounts:
    total = RunCounts()
    for run in runs:
        total += run.counts
    return total


def at(hour: int, minute: int) -> datetime:
    return START.replace(hour=hour, minute=minute)


QUERIES = [
    RunQuery(),
    RunQuery(statuses=(RunStatus.SUCCEEDED,)),
    RunQuery(statuses=(RunStatus.RUNNING, RunStatus.FAILED)),
    RunQuery(statuses=(RunStatus.QUEUED,)),
    RunQuery(only_with_failures=True),
    RunQuery(feed_url=FEED),
    RunQuery(created_after=at(9, 30)),  # cuts the first hour: an edge counted run by run
    RunQuery(created_before=at(10, 40)),
    RunQuery(created_after=at(9, 30), created_before=at(11, 20)),
    RunQuery(created_after=at(10, 0), created_before=at(11, 0)),  # whole hours only
    RunQuery(created_after=at(10, 10), created_before=at(10, 55)),  # inside one hour
    RunQuery(created_after=at(9, 0), created_before=at(12, 0), only_with_failures=True),
    RunQuery(statuses=(RunStatus.CANCELLED, RunStatus.PARTIAL), created_after=at(9, 45)),
]


async def assert_agree(store: Store) -> list[ImportRun]:
    """Every aggregate equals the runs counted by hand; returns the runs."""
    runs = (await store.list_runs(RunQuery(limit=1000))).items
    assert await store.count_runs_by_status() == dict(Counter(r.status.value for r in runs))
    assert await store.sum_run_counts() == total_counts(runs)
    by_hour: dict[datetime, list[ImportRun]] = {}
    for run in runs:
        by_hour.setdefault(floor_hour(run.created_at), []).append(run)
    expected = [
        HourTotals(hour, len(by_hour[hour]), total_counts(by_hour[hour]))
        for hour in sorted(by_hour)
    ]
    assert await store.hourly_totals(at(0, 0), at(23, 0)) == expected
    # A window that starts part-way into an hour still reports that whole hour.
    later = [h for h in expected if h.hour >= at(10, 0)]
    assert await store.hourly_totals(at(10, 30), at(23, 0)) == later
    for query in QUERIES:
        page = await store.list_runs(replace(query, limit=1))
        assert page.total == sum(matches(r, query) for r in runs), query
    return runs


async def make_mix(store: Store, clock: Clock) -> dict[str, ImportRun]:
    """One run of every kind, spread over 09:00–11:59."""
    clock.at(9, 20)
    ok = await import_run(store, [[job(1), job(2)], [job(3)]])
    clock.at(9, 40)
    partial = await import_run(store, [[job(4), fail(1)]], feed=OTHER)
    clock.at(10, 5)
    failed = await begin(store)
    assert await store.close_run_early(failed.id, RunStatus.FAILED, error=BROKEN) is not None
    clock.at(10, 30)
    unchanged = await begin(store, OTHER)
    assert await store.close_run_early(unchanged.id, RunStatus.NOT_MODIFIED) is not None
    clock.at(10, 50)
    cancelled = await begin(store, "https://c.test/feed")
    await stage_all(store, cancelled, [[job(5)], [job(6)]])
    await store.mark_run_staged(cancelled.id, 2)
    entries = await store.load_staged_batch(cancelled.id, 0)
    assert entries is not None
    await store.apply_batch(cancelled.id, 0, entries)
    assert await store.cancel_run(cancelled.id) is not None
    assert await store.cancel_run(cancelled.id) is None  # once
    clock.at(11, 10)
    retry, created = await store.start_or_get_run(FEED, "retry", retry_of=failed.id)
    assert created
    assert retry.retry_of == failed.id
    await store.mark_run_running(retry.id)
    batch = [job(1, h="h2"), fail(2)]
    await store.stage_batch(retry.id, 0, batch)
    await store.mark_run_staged(retry.id, 1)
    await store.apply_batch(retry.id, 0, batch)
    # Redelivered: the last batch's apply and the fetch's mark_staged, after the close.
    again = await store.apply_batch(retry.id, 0, batch)
    assert not again.first_time
    await store.mark_run_staged(retry.id, 1)
    clock.at(11, 30)
    running = await begin(store, "https://r.test/feed")
    await stage_all(store, running, [[job(7)], [job(8)]])
    await store.mark_run_staged(running.id, 2)
    entries = await store.load_staged_batch(running.id, 0)
    assert entries is not None
    await store.apply_batch(running.id, 0, entries)
    queued, _ = await store.start_or_get_run("https://q.test/feed", "api")
    runs = {"ok": ok, "partial": partial, "failed": failed, "unchanged": unchanged,
            "retry": retry, "running": running, "queued": queued}  # fmt: skip
    stored = {name: await store.get_run(run.id) for name, run in runs.items()}
    assert {name: r.status for name, r in stored.items() if r is not None} == {
        "ok": RunStatus.SUCCEEDED,
        "partial": RunStatus.PARTIAL,
        "failed": RunStatus.FAILED,
        "unchanged": RunStatus.NOT_MODIFIED,
        "retry": RunStatus.PARTIAL,
        "running": RunStatus.RUNNING,
        "queued": RunStatus.QUEUED,
    }
    return {name: r for name, r in stored.items() if r is not None}


async def test_rollups_equal_the_runs_counted_by_hand(timed: Timed) -> None:
    store, clock = timed.store, timed.clock
    assert await assert_agree(store) == []
    runs = await make_mix(store, clock)
    assert len(await assert_agree(store)) == 8  # seven above and the cancelled one

    # The runs in flight close (one by its last batch, one by a cancel): still equal.
    clock.at(11, 50)
    entries = await store.load_staged_batch(runs["running"].id, 1)
    assert entries is not None
    await store.apply_batch(runs["running"].id, 1, entries)
    assert await store.cancel_run(runs["queued"].id) is not None
    after_close = await assert_agree(store)
    assert all(r.status.is_final for r in after_close)

    # Prune what finished before 10:40: the two 09:xx runs, the failed and the not_modified.
    clock.at(12, 0)
    assert await store.prune_runs(at(10, 40)) == 4
    left = await assert_agree(store)
    assert len(left) == 4
    assert await store.prune_runs(at(10, 40)) == 0  # again: nothing, and still equal
    await assert_agree(store)
    assert await store.prune_runs(at(23, 0)) == 4
    assert await assert_agree(store) == []
    assert await store.hourly_totals(at(0, 0), at(23, 0)) == []


ROLLUPS_VERSION = 8
"""The schema version whose migration builds the rollups (v9 after it adds the `feeds_due`
index)."""


async def test_the_rollups_migration_builds_the_rollups_of_stored_runs(
    timed: Timed, tmp_path: Path
) -> None:
    store, clock = timed.store, timed.clock
    await make_mix(store, clock)
    before = await assert_agree(store)
    # Back to what the schema before the rollups held: the same runs and no rollups (nor what
    # the later migrations added: the `feeds_due` index of v9).
    if timed.kind == "sqlite":
        await store.close()
        conn = sqlite3.connect(timed.path)
        with conn:
            conn.execute("DROP TABLE run_hours")
            conn.execute("DROP INDEX feeds_due")
            conn.execute("DELETE FROM schema_version WHERE version >= ?", (ROLLUPS_VERSION,))
        conn.close()
        timed.store = store = await open_backend("sqlite", tmp_path, clock=clock)
    else:
        from jobimport.store.mongo.schema import migrate

        db = store._db  # type: ignore[attr-defined]
        await db["run_hours"].delete_many({})
        before_rollups = {"$set": {"version": ROLLUPS_VERSION - 1}}
        await db["meta"].update_one({"_id": "schema"}, before_rollups)
        assert await store.count_runs_by_status() == {"running": 1, "queued": 1}
        await migrate(db, 3, clock())
        await db["meta"].update_one({"_id": "schema"}, before_rollups)
        await migrate(db, 3, clock())  # built again (an interrupted start): the same rollups
    assert await store.schema_version() == SCHEMA_VERSION
    assert await assert_agree(store) == before
