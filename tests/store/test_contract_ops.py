"""The Store contract of operating on runs, on every backend (the `store` fixture): cancelling a
run, retries linked to the run they retry, and pruning old runs (retention).

Times come from each backend's real clock and MongoDB keeps milliseconds: the pruning cutoff is
a time the store handed back, and a tick separates the runs before it from those after it.
"""

from __future__ import annotations

from datetime import timedelta

from jobimport.models import BatchResult, ImportRun, RunCounts, RunStatus
from jobimport.store.base import ApplyOutcome, RunQuery, Store
from jobimport.wire import ImportLog
from tests.store.test_contract import (
    BROKEN,
    FEED,
    OTHER,
    apply_staged,
    begin,
    fail,
    import_run,
    job,
    stage_all,
)
from tests.store.test_contract_reconcile import tick

REASON, MESSAGE = "lost", "tasks lost 3 times; gave up"


async def stored(store: Store, run_id: str) -> ImportRun:
    run = await store.get_run(run_id)
    assert run is not None
    return run


def _noop(run: ImportRun, result: BatchResult) -> ApplyOutcome:
    """What a batch step on a cancelled run answers: no change, the run as it is."""
    return ApplyOutcome(result=result, first_time=False, run=run)


# --- cancel -------------------------------------------------------------------------------


async def test_cancelling_a_queued_run_ends_it_at_once(store: Store) -> None:
    queued, _ = await store.start_or_get_run(FEED, "api")
    cancelled = await store.cancel_run(queued.id)
    assert cancelled is not None
    assert cancelled == await stored(store, queued.id)
    assert (cancelled.status, cancelled.started_at, cancelled.counts) == (
        RunStatus.CANCELLED,
        None,
        RunCounts(),
    )
    assert cancelled.finished_at is not None
    assert cancelled.finished_at >= queued.created_at
    assert cancelled.updated_at == cancelled.finished_at
    # Its fetch task, arriving late, finds it final.
    assert await store.mark_run_running(queued.id) is None
    assert await store.close_run_early(queued.id, RunStatus.FAILED, error=BROKEN) is None
    assert await store.note_requeue(queued.id) is None
    assert await store.list_stale_runs(cancelled.finished_at + timedelta(hours=1)) == []
    # The feed is free for a new run.
    again, created = await store.start_or_get_run(FEED, "api")
    assert created
    assert again.id != queued.id
    assert await stored(store, queued.id) == cancelled
    assert (await store.count_runs_by_status())[RunStatus.CANCELLED.value] == 1


async def test_cancelling_a_run_still_fetching_drops_its_staging(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)]])
    cancelled = await store.cancel_run(run.id)
    assert cancelled is not None
    assert (cancelled.status, cancelled.attempts) == (RunStatus.CANCELLED, 1)
    assert cancelled.started_at == run.started_at
    assert cancelled.finished_at is not None
    assert await store.load_staged_batch(run.id, 0) is None
    assert await store.load_staged_batch(run.id, 1) is None

    # The fetch task goes on: staging stores nothing, marking fetched leaves the run as it is.
    await store.stage_batch(run.id, 2, [job(3)])
    assert await store.load_staged_batch(run.id, 2) is None
    assert await store.mark_run_staged(run.id, 3) == cancelled
    assert await store.mark_run_staged(run.id, 0) == cancelled
    assert await stored(store, run.id) == cancelled
    assert await store.count_jobs() == 0


async def test_cancelling_a_run_part_way_keeps_what_it_stored(store: Store) -> None:
    run = await begin(store)
    batches = [[job(1), fail(1)], [job(2)], [job(3)]]
    await stage_all(store, run, batches)
    await store.mark_run_staged(run.id, 3)
    await apply_staged(store, run.id, 0)
    first = await store.get_batch_result(run.id, 0)
    assert first is not None

    cancelled = await store.cancel_run(run.id)
    assert cancelled is not None
    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.counts == RunCounts(fetched=2, new=1, failed=1)
    assert (cancelled.batches_total, cancelled.batches_done) == (3, 1)
    assert cancelled.failure_counts == {"missing_title": 1}
    assert [f.position for f in cancelled.failures] == [1]
    assert await store.load_staged_batch(run.id, 1) is None
    assert await store.load_staged_batch(run.id, 2) is None
    assert await store.get_batch_result(run.id, 0) == first

    # Later batch steps change nothing and report the run as it is.
    late = await store.apply_batch(run.id, 1, batches[1])
    assert late == _noop(cancelled, BatchResult(run_id=run.id, n=1, counts=RunCounts()))
    replay = await store.apply_batch(run.id, 0, batches[0])
    assert replay == _noop(cancelled, first)
    lost = await store.fail_batch(run.id, 2, REASON, MESSAGE)
    assert lost == _noop(cancelled, BatchResult(run_id=run.id, n=2, counts=RunCounts()))
    assert await store.fail_batch(run.id, 0, REASON, MESSAGE) == _noop(cancelled, first)
    assert await store.get_batch_result(run.id, 1) is None
    assert await store.get_batch_result(run.id, 2) is None
    assert await stored(store, run.id) == cancelled
    assert await store.count_jobs() == 1
    assert await store.get_job(job(2).id) is None
    assert await store.sum_run_counts() == RunCounts(fetched=2, new=1, failed=1)


async def test_a_staged_copy_left_after_cancel_is_dropped_by_a_late_apply(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)]])
    await store.mark_run_staged(run.id, 2)
    entries = await store.load_staged_batch(run.id, 1)
    assert entries is not None
    cancelled = await store.cancel_run(run.id)
    assert cancelled is not None
    outcome = await store.apply_batch(run.id, 1, entries)
    assert not outcome.first_time
    assert outcome.run == cancelled
    assert await store.load_staged_batch(run.id, 1) is None


async def test_cancel_refuses_final_and_unknown_runs(store: Store) -> None:
    done = await import_run(store, [[job(1)]])
    assert await store.cancel_run(done.id) is None
    assert await stored(store, done.id) == done
    early = await begin(store)
    closed = await store.close_run_early(early.id, RunStatus.FAILED, error=BROKEN)
    assert closed is not None
    assert await store.cancel_run(early.id) is None
    assert await stored(store, early.id) == closed
    queued, _ = await store.start_or_get_run(OTHER, "api")
    cancelled = await store.cancel_run(queued.id)
    assert cancelled is not None
    assert await store.cancel_run(queued.id) is None  # already cancelled
    assert await stored(store, queued.id) == cancelled
    assert await store.cancel_run("0" * 24) is None


# --- retry --------------------------------------------------------------------------------


async def test_a_retry_is_linked_to_the_run_it_retries(store: Store) -> None:
    first = await import_run(store, [[job(1)]])
    assert first.retry_of is None
    retry, created = await store.start_or_get_run(FEED, "api", retry_of=first.id)
    assert created
    assert (retry.retry_of, retry.status) == (first.id, RunStatus.QUEUED)
    assert ImportLog.of(retry).model_dump()["retryOf"] == first.id
    assert await stored(store, retry.id) == retry
    listed = await store.list_runs(RunQuery(feed_url=FEED))
    assert {r.id: r.retry_of for r in listed.items} == {first.id: None, retry.id: first.id}

    # A run already in flight is returned as it is: it retries nothing.
    other, _ = await store.start_or_get_run(OTHER, "cron")
    same, created_again = await store.start_or_get_run(OTHER, "api", retry_of=first.id)
    assert (same, created_again) == (other, False)
    assert same.retry_of is None


# --- retention ----------------------------------------------------------------------------


async def test_prune_runs_deletes_only_final_runs_finished_before_the_cutoff(store: Store) -> None:
    # In flight since before the cutoff: kept, with their staging.
    queued, _ = await store.start_or_get_run("https://q.test/feed", "api")
    running = await begin(store, "https://r.test/feed")
    await stage_all(store, running, [[job(9)]])
    # Final before the cutoff.
    old = await import_run(store, [[job(1), fail(1)], [job(2)]])
    failed = await begin(store, OTHER)
    failed = await store.close_run_early(failed.id, RunStatus.FAILED, error=BROKEN)
    assert failed is not None
    cancelled = await begin(store, "https://c.test/feed")
    await stage_all(store, cancelled, [[job(3)]])
    await store.mark_run_staged(cancelled.id, 1)
    cancelled = await store.cancel_run(cancelled.id)
    assert cancelled is not None
    finished = [r.finished_at for r in (old, failed, cancelled)]
    assert all(f is not None for f in finished)
    cutoff = max(f for f in finished if f is not None) + timedelta(milliseconds=1)
    await tick()
    await tick()
    # Final after it.
    recent = await import_run(store, [[job(1, h="h2"), job(4)]])
    assert recent.finished_at is not None
    assert recent.finished_at >= cutoff
    jobs_before = await store.count_jobs()

    assert await store.prune_runs(cutoff) == 3
    for gone in (old, failed, cancelled):
        assert await store.get_run(gone.id) is None
        assert await store.get_batch_result(gone.id, 0) is None
        assert await store.load_staged_batch(gone.id, 0) is None
    assert await store.get_batch_result(recent.id, 0) is not None
    kept = await store.list_runs(RunQuery(limit=100))
    assert {r.id for r in kept.items} == {queued.id, running.id, recent.id}
    assert await stored(store, queued.id) == queued
    assert await store.load_staged_batch(running.id, 0) == [job(9)]
    # Jobs stay, with the history that names the runs now gone.
    assert await store.count_jobs() == jobs_before == 3  # job 3 was only staged
    first = await store.get_job(job(2).id)
    assert first is not None
    assert first.first_seen_run_id == old.id
    assert await store.sum_run_counts() == recent.counts
    assert await store.prune_runs(cutoff) == 0  # nothing left to prune


async def test_prune_runs_keeps_everything_finished_at_or_after_the_cutoff(store: Store) -> None:
    run = await import_run(store, [[job(1)]])
    assert run.finished_at is not None
    assert await store.prune_runs(run.finished_at - timedelta(milliseconds=1)) == 0
    assert await store.prune_runs(run.finished_at) == 0  # strictly before
    assert await stored(store, run.id) == run
    assert await store.prune_runs(run.finished_at + timedelta(days=1)) == 1
    assert await store.get_run(run.id) is None
    assert await store.count_jobs() == 1


# --- a start that must not follow a run closed since (the scheduler tick) ------------------------


async def test_a_start_unless_closed_since_returns_the_run_that_closed_since(store: Store) -> None:
    first = await import_run(store, [[job(1)]])
    assert first.finished_at is not None
    second = await import_run(store, [[job(1)]])  # the latest to close is the one returned
    assert second.finished_at is not None
    since = first.finished_at - timedelta(seconds=1)  # read before both closed

    got, created = await store.start_or_get_run(FEED, "cron", unless_closed_since=since)
    assert (got.id, got.status, created) == (second.id, RunStatus.SUCCEEDED, False)
    closed_at = second.finished_at
    got, created = await store.start_or_get_run(FEED, "cron", unless_closed_since=closed_at)
    assert (got.id, created) == (second.id, False)  # closing at that very time counts
    assert (await store.list_runs(RunQuery(feed_url=FEED))).total == 2  # nothing was added

    other, created_other = await store.start_or_get_run(OTHER, "cron", unless_closed_since=since)
    assert created_other  # another feed's closed runs do not count
    assert other.feed_url == OTHER

    later = second.finished_at + timedelta(seconds=1)
    third, created_third = await store.start_or_get_run(FEED, "cron", unless_closed_since=later)
    assert created_third
    assert (third.status, third.trigger) == (RunStatus.QUEUED, "cron")
    # A run in flight is returned first, as without the condition.
    again, created_again = await store.start_or_get_run(FEED, "cron", unless_closed_since=since)
    assert (again.id, created_again) == (third.id, False)
