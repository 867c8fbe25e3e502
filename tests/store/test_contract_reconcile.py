"""The Store contract of the reconciler's bookkeeping, on every backend (the `store` fixture):
`updated_at`, `list_stale_runs`, `note_requeue` and `fail_batch`.

Times come from each backend's real clock and MongoDB keeps milliseconds, so "moved" is checked
after a short sleep (longer than a millisecond) and every threshold is a time the store returned.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from jobimport.errors import StoreError
from jobimport.models import ImportRun, ItemFailure, RunCounts, RunStatus, StagedEntry
from jobimport.store.base import RunQuery, Store
from tests.store.test_contract import (
    FEED,
    OTHER,
    apply_staged,
    begin,
    check_invariants,
    fail,
    import_run,
    job,
    stage_all,
)

REASON, MESSAGE = "lost", "tasks lost 3 times; gave up"


async def tick() -> None:
    """Let the clock move past the current millisecond, so a write's new stamp is later."""
    await asyncio.sleep(0.003)


async def stored(store: Store, run_id: str) -> ImportRun:
    run = await store.get_run(run_id)
    assert run is not None
    return run


def stamp(run: ImportRun) -> datetime:
    assert run.updated_at is not None
    return run.updated_at


def lost(entry: StagedEntry) -> ItemFailure:
    """What fail_batch makes of a staged entry."""
    if isinstance(entry, ItemFailure):
        return entry
    return ItemFailure(REASON, MESSAGE, entry.position, entry.identity, entry.url, entry.title)


# --- updated_at ---------------------------------------------------------------------------


async def test_updated_at_moves_with_every_write_to_the_run(store: Store) -> None:
    queued, _ = await store.start_or_get_run(FEED, "api")
    assert queued.updated_at == queued.created_at
    assert stamp(queued).utcoffset() == timedelta(0)
    assert (await stored(store, queued.id)).updated_at == queued.updated_at
    steps: list[ImportRun] = [queued]

    async def step(run: ImportRun | None) -> ImportRun:
        assert run is not None
        assert stamp(run) > stamp(steps[-1])
        assert await stored(store, run.id) == run  # returned as stored
        steps.append(run)
        await tick()
        return run

    await tick()
    running = await step(await store.mark_run_running(queued.id))
    assert running.updated_at == running.started_at
    await step(await store.mark_run_running(queued.id))  # a redelivered fetch task
    await stage_all(store, running, [[job(1)], [job(2)], [job(3)]])
    await step(await store.mark_run_staged(queued.id, 3))
    await step(await store.note_requeue(queued.id))
    entries = await store.load_staged_batch(queued.id, 0)
    assert entries is not None
    applied = await store.apply_batch(queued.id, 0, entries)
    await step(applied.run)
    await step((await store.fail_batch(queued.id, 1, REASON, MESSAGE)).run)
    closed = await step((await store.apply_batch(queued.id, 2, [job(3)])).run)
    assert closed.status is RunStatus.PARTIAL
    assert closed.updated_at == closed.finished_at

    # Calls that change nothing leave updated_at alone.
    assert (await store.apply_batch(queued.id, 0, entries)).run.updated_at == closed.updated_at
    assert (await store.fail_batch(queued.id, 2, REASON, MESSAGE)).run == closed
    assert await store.mark_run_staged(queued.id, 3) == closed
    assert await store.mark_run_running(queued.id) is None
    assert await store.note_requeue(queued.id) is None
    assert await stored(store, queued.id) == closed


async def test_finish_run_early_sets_updated_at_to_finished_at(store: Store) -> None:
    run = await begin(store)
    await tick()
    closed = await store.close_run_early(run.id, RunStatus.NOT_MODIFIED)
    assert closed is not None
    assert closed.updated_at == closed.finished_at
    assert stamp(closed) > stamp(run)
    assert await stored(store, run.id) == closed


async def test_zero_batches_close_with_updated_at_at_finished_at(store: Store) -> None:
    run = await begin(store)
    await tick()
    closed = await store.mark_run_staged(run.id, 0)
    assert closed.status is RunStatus.SUCCEEDED
    assert closed.updated_at == closed.finished_at
    assert stamp(closed) > stamp(run)


# --- list_stale_runs ----------------------------------------------------------------------


async def test_list_stale_runs_finds_idle_runs_in_flight_oldest_first(store: Store) -> None:
    queued, _ = await store.start_or_get_run(FEED, "api")
    await tick()
    running = await begin(store, OTHER)
    await tick()
    fetched = await begin(store, "https://c.test/feed")
    await stage_all(store, fetched, [[job(1)], [job(2)]])
    fetched = await store.mark_run_staged(fetched.id, 2)
    await tick()
    final = await import_run(store, [[job(3)]], feed="https://d.test/feed")
    await tick()
    fresh, _ = await store.start_or_get_run("https://e.test/feed", "api")

    idle = [queued, running, fetched]
    assert await store.list_stale_runs(stamp(fresh)) == idle  # final ones never, fresh not yet
    assert stamp(final) < stamp(fresh)
    assert await store.list_stale_runs(stamp(fresh) + timedelta(hours=1)) == [*idle, fresh]
    # Strictly older: a run updated exactly at the threshold is not idle past it.
    assert await store.list_stale_runs(stamp(running)) == [queued]
    assert await store.list_stale_runs(stamp(running) + timedelta(microseconds=1)) == [
        queued,
        running,
    ]
    assert await store.list_stale_runs(stamp(queued)) == []

    # Oldest first by updated_at, not by creation: a requeue makes the queued run the newest.
    await tick()
    requeued = await store.note_requeue(queued.id)
    assert requeued is not None
    later = stamp(requeued) + timedelta(hours=1)
    assert await store.list_stale_runs(later) == [running, fetched, fresh, requeued]
    assert await store.list_stale_runs(stamp(requeued)) == [running, fetched, fresh]


async def test_list_runs_sorts_by_updated_at(store: Store) -> None:
    first = await begin(store)
    await tick()
    second = await begin(store, OTHER)
    await tick()
    requeued = await store.note_requeue(first.id)  # now the most recently updated
    assert requeued is not None
    for descending, expected in ((False, [second, requeued]), (True, [requeued, second])):
        query = RunQuery(sort="updated_at", descending=descending)
        assert (await store.list_runs(query)).items == expected


# --- note_requeue -------------------------------------------------------------------------


async def test_note_requeue_counts_requeues_of_runs_in_flight(store: Store) -> None:
    queued, _ = await store.start_or_get_run(FEED, "api")
    assert queued.requeues == 0
    first = await store.note_requeue(queued.id)
    assert first is not None
    assert (first.requeues, first.status, first.attempts) == (1, RunStatus.QUEUED, 0)
    running = await store.mark_run_running(queued.id)
    assert running is not None
    assert running.requeues == 1
    second = await store.note_requeue(queued.id)
    assert second is not None
    assert (second.requeues, second.status) == (2, RunStatus.RUNNING)
    assert second == await stored(store, queued.id)
    assert second.counts == RunCounts()


async def test_note_requeue_refuses_final_and_unknown_runs(store: Store) -> None:
    final = await import_run(store, [[job(1)]])
    assert await store.note_requeue(final.id) is None
    assert await stored(store, final.id) == final
    early = await begin(store, OTHER)
    cancelled = await store.close_run_early(early.id, RunStatus.CANCELLED)
    assert await store.note_requeue(early.id) is None
    assert await stored(store, early.id) == cancelled
    assert await store.note_requeue("0" * 24) is None


# --- fail_batch ---------------------------------------------------------------------------


async def test_failing_the_only_batch_fails_the_run(store: Store) -> None:
    entries: list[StagedEntry] = [
        job(1, position=0, url="https://x.test/1"),
        fail(1, "invalid_url"),
        job(2, position=2),
    ]
    run = await begin(store)
    await stage_all(store, run, [entries])
    await store.mark_run_staged(run.id, 1)
    outcome = await store.fail_batch(run.id, 0, REASON, MESSAGE)
    assert outcome.first_time
    expected = tuple(lost(e) for e in entries)
    assert expected[0] == ItemFailure(REASON, MESSAGE, 0, "example:1", "https://x.test/1", "Job 1")
    assert outcome.result.counts == RunCounts(fetched=3, failed=3)
    assert outcome.result.failures == expected
    assert await store.get_batch_result(run.id, 0) == outcome.result
    final = outcome.run
    assert final == await stored(store, run.id)
    assert (final.status, final.counts) == (RunStatus.FAILED, RunCounts(fetched=3, failed=3))
    assert final.failures == expected
    assert final.failure_counts == {REASON: 2, "invalid_url": 1}
    assert (final.batches_done, final.finished_at is not None) == (1, True)
    check_invariants(final)
    assert await store.load_staged_batch(run.id, 0) is None  # dropped
    assert await store.pending_batches(run.id) == []
    assert await store.count_jobs() == 0  # nothing of it was stored


async def test_failing_the_last_batch_after_imports_makes_the_run_partial(store: Store) -> None:
    await import_run(store, [[job(2)]], feed=OTHER)  # job 2 is known: it counts unchanged
    run = await begin(store)
    await stage_all(store, run, [[job(1), job(2)], [job(3), job(4)], [job(5), fail(6)]])
    await store.mark_run_staged(run.id, 3)
    first = await store.fail_batch(run.id, 0, REASON, MESSAGE)
    assert (first.run.status, first.run.batches_done) == (RunStatus.RUNNING, 1)
    await apply_staged(store, run.id, 1)
    last = await store.fail_batch(run.id, 2, REASON, MESSAGE)
    final = last.run
    assert final == await stored(store, run.id)
    assert final.status is RunStatus.PARTIAL
    assert final.counts == RunCounts(fetched=6, new=2, failed=4)
    assert final.failure_counts == {REASON: 3, "missing_title": 1}
    assert [f.position for f in final.failures] == [0, 0, 0, 6]
    assert [f.identity for f in final.failures] == ["example:1", "example:2", "example:5", None]
    check_invariants(final)
    assert await store.count_jobs() == 3  # 2 (from the other feed), 3 and 4


async def test_fail_batch_counts_by_reason_past_the_cap(store: Store) -> None:
    entries: list[StagedEntry] = [job(i, position=i) for i in range(120)]
    entries += [fail(i, "invalid_url") for i in range(120, 130)]
    run = await begin(store)
    await stage_all(store, run, [entries])
    await store.mark_run_staged(run.id, 1)
    outcome = await store.fail_batch(run.id, 0, REASON, MESSAGE)
    final = outcome.run
    assert final.counts == RunCounts(fetched=130, failed=130)
    assert final.failure_counts == {REASON: 120, "invalid_url": 10}
    assert final.failures == tuple(lost(e) for e in entries[:100])
    assert outcome.result.failures == final.failures
    assert final.status is RunStatus.FAILED
    check_invariants(final)


async def test_fail_batch_after_apply_batch_changes_nothing(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1), fail(1)], [job(2)]])
    await store.mark_run_staged(run.id, 2)
    applied = await store.apply_batch(run.id, 0, [job(1), fail(1)])
    await tick()
    again = await store.fail_batch(run.id, 0, REASON, MESSAGE)
    assert not again.first_time
    assert (again.result, again.run) == (applied.result, applied.run)
    assert again.result.counts == RunCounts(fetched=2, new=1, failed=1)
    assert await stored(store, run.id) == applied.run
    assert await store.count_jobs() == 1


async def test_fail_batch_twice_and_apply_after_it_change_nothing(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1), job(2)], [job(3)]])
    await store.mark_run_staged(run.id, 2)
    failed = await store.fail_batch(run.id, 0, REASON, MESSAGE)
    assert failed.first_time
    await tick()
    twice = await store.fail_batch(run.id, 0, "store_error", "other")
    assert not twice.first_time
    assert (twice.result, twice.run) == (failed.result, failed.run)
    late = await store.apply_batch(run.id, 0, [job(1), job(2)])  # a late batch task
    assert not late.first_time
    assert (late.result, late.run) == (failed.result, failed.run)
    assert await stored(store, run.id) == failed.run
    assert failed.run.counts == RunCounts(fetched=2, failed=2)
    assert await store.count_jobs() == 0
    assert await store.pending_batches(run.id) == [1]


async def test_fail_batch_without_a_staged_batch_is_a_store_error(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)]])
    fetched = await store.mark_run_staged(run.id, 2)  # batch 1 was never staged
    with pytest.raises(StoreError):
        await store.fail_batch(run.id, 1, REASON, MESSAGE)
    with pytest.raises(StoreError):
        await store.fail_batch("0" * 24, 0, REASON, MESSAGE)
    assert await stored(store, run.id) == fetched
    assert await store.get_batch_result(run.id, 1) is None
