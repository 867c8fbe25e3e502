"""The Store contract of job expiry, on every backend (the `store` fixture): the rule in the
`store.base` docstring, with EXPIRE_AFTER_RUNS = 3 (the default of the fixture's stores).

Runs are whole runs through the protocol (`run_of`: start, mark running, stage, mark fetched, apply
every batch); a job is expired or not only by what the store hands back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobimport.models import (
    FeedErrorInfo,
    FeedState,
    FetchInfo,
    ImportRun,
    ItemFailure,
    JobStatus,
    RunCounts,
    RunStatus,
)
from jobimport.store.base import JobQuery, JobRecord, Store
from jobimport.wire import ImportLog
from tests.store.test_contract import (
    BROKEN,
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

N = 3
"""EXPIRE_AFTER_RUNS of the fixture's stores (their default)."""

TIMEOUT = FeedErrorInfo(reason="timeout", message="no answer in 30 s")


async def run_of(
    store: Store,
    ids: Sequence[int],
    *,
    feed: str = FEED,
    failures: Sequence[ItemFailure] = (),
    error: FeedErrorInfo | None = None,
) -> ImportRun:
    """A whole run of `feed` whose document lists the jobs `ids` (and `failures`), two entries a
    batch, so that the last batch closes it (none at all: `mark_run_staged` closes it)."""
    entries = [*(job(i) for i in ids), *failures]
    batches = [entries[i : i + 2] for i in range(0, len(entries), 2)]
    run = await import_run(store, batches, feed=feed, error=error)
    assert run.status.is_final
    return run


async def not_modified(store: Store, feed: str = FEED) -> ImportRun:
    run = await begin(store, feed)
    fetch = FetchInfo(status=304, not_modified=True)
    closed = await store.close_run_early(run.id, RunStatus.NOT_MODIFIED, fetch=fetch)
    assert closed is not None
    return closed


async def failed(store: Store, feed: str = FEED) -> ImportRun:
    run = await begin(store, feed)
    closed = await store.close_run_early(run.id, RunStatus.FAILED, error=TIMEOUT)
    assert closed is not None
    return closed


async def record(store: Store, ext: int) -> JobRecord:
    found = await store.get_job(job(ext).id)
    assert found is not None
    return found


async def statuses(store: Store) -> dict[str, JobStatus]:
    page = await store.list_jobs(JobQuery(limit=100))
    return {r.job.external_id: r.status for r in page.items}


async def expired(store: Store) -> set[str]:
    return {ext for ext, status in (await statuses(store)).items() if status is JobStatus.EXPIRED}


async def test_a_job_missing_from_three_runs_expires_on_the_third(store: Store) -> None:
    first = await run_of(store, [1, 2, 3])
    assert first.counts == RunCounts(fetched=3, new=3)
    fresh = await record(store, 3)
    assert (fresh.status, fresh.expired_at) == (JobStatus.ACTIVE, None)

    for _ in range(N - 1):
        run = await run_of(store, [1, 2])
        assert run.counts.expired == 0
        assert await expired(store) == set()
    third = await run_of(store, [1, 2])
    assert third.status is RunStatus.SUCCEEDED
    assert third.counts == RunCounts(fetched=2, unchanged=2, expired=1)
    assert ImportLog.of(third).model_dump()["expiredJobs"] == 1
    check_invariants(third)  # expired stands apart from the document's counts
    assert await store.get_run(third.id) == third
    assert await expired(store) == {"3"}
    gone = await record(store, 3)
    assert gone.status is JobStatus.EXPIRED
    assert gone.expired_at is not None
    assert gone.expired_at >= third.created_at
    assert (gone.job, gone.feeds, gone.last_seen_run_id) == (fresh.job, (FEED,), first.id)

    later = await run_of(store, [1, 2])  # already expired: not counted again
    assert later.counts.expired == 0
    assert (await record(store, 3)).expired_at == gone.expired_at
    assert (await store.sum_run_counts()).expired == 1


async def test_list_jobs_filters_by_status(store: Store) -> None:
    await run_of(store, [1, 2, 3])
    await run_of(store, [4], feed=OTHER)
    for _ in range(N):
        await run_of(store, [1])

    async def ids(**query: Any) -> set[str]:
        page = await store.list_jobs(JobQuery(limit=100, **query))
        assert page.total == len(page.items)
        return {r.job.external_id for r in page.items}

    assert await ids(status=JobStatus.EXPIRED) == {"2", "3"}
    assert await ids(status=JobStatus.ACTIVE) == {"1", "4"}
    assert await ids() == {"1", "2", "3", "4"}
    assert await ids(status=JobStatus.ACTIVE, feed_url=FEED) == {"1"}
    assert await ids(status=JobStatus.EXPIRED, feed_url=OTHER) == set()
    page = await store.list_jobs(JobQuery(status=JobStatus.EXPIRED, limit=1))
    assert (len(page.items), page.total) == (1, 2)


async def test_runs_that_did_not_read_the_whole_document_count_no_miss(store: Store) -> None:
    await run_of(store, [1, 2, 3])
    await run_of(store, [1, 2])  # miss 1

    skipped = [
        await failed(store),  # the feed could not be read
        await run_of(store, [1, 2], error=BROKEN),  # partial: the document broke part-way
        await run_of(store, [], failures=[fail(0)]),  # failed: every item failed
        await run_of(store, [1], error=BROKEN),  # partial, even without job 2
    ]
    assert [r.status for r in skipped] == [
        RunStatus.FAILED,
        RunStatus.PARTIAL,
        RunStatus.FAILED,
        RunStatus.PARTIAL,
    ]
    assert [r.counts.expired for r in skipped] == [0, 0, 0, 0]
    assert await expired(store) == set()

    # A partial run whose only failures are items did read the whole document: it counts.
    partial = await run_of(store, [1, 2], failures=[fail(2)])  # miss 2
    assert (partial.status, partial.counts.expired) == (RunStatus.PARTIAL, 0)
    assert await expired(store) == set()
    last = await run_of(store, [1, 2])  # miss 3
    assert last.counts.expired == 1
    assert await expired(store) == {"3"}


async def test_not_modified_runs_count_only_jobs_already_missing(store: Store) -> None:
    await run_of(store, [1, 2, 3])
    for _ in range(N + 1):  # the same document as before: nothing in it is missing
        run = await not_modified(store)
        assert run.counts.expired == 0
    assert await expired(store) == set()

    await run_of(store, [1, 2])  # miss 1
    second = await not_modified(store)  # miss 2
    assert second.counts.expired == 0
    third = await not_modified(store)  # miss 3
    assert (third.status, third.counts.expired) == (RunStatus.NOT_MODIFIED, 1)
    assert await expired(store) == {"3"}
    assert await store.get_run(third.id) == third


async def test_an_empty_document_misses_every_job_of_its_feed(store: Store) -> None:
    await run_of(store, [1, 2])
    await run_of(store, [3], feed=OTHER)
    runs = [await run_of(store, []) for _ in range(N)]  # zero batches: closed when fetched
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * N
    assert [r.counts.expired for r in runs] == [0] * (N - 1) + [2]
    assert await expired(store) == {"1", "2"}


async def test_a_job_of_two_feeds_expires_only_when_both_miss_it(store: Store) -> None:
    await run_of(store, [1, 2], feed=FEED)
    await run_of(store, [1, 3], feed=OTHER)
    assert (await record(store, 1)).feeds == (FEED, OTHER)
    for _ in range(N + 1):
        run = await run_of(store, [2], feed=FEED)
        assert run.counts.expired == 0
    assert await expired(store) == set()  # OTHER still lists job 1

    for _ in range(N - 1):
        run = await run_of(store, [3], feed=OTHER)
        assert run.counts.expired == 0
    assert await expired(store) == set()
    last = await run_of(store, [3], feed=OTHER)
    assert last.counts.expired == 1
    assert await expired(store) == {"1"}
    assert (await store.sum_run_counts()).expired == 1


async def test_a_returning_job_is_active_again_and_its_misses_start_over(store: Store) -> None:
    await run_of(store, [1, 2])
    for _ in range(N):
        await run_of(store, [1])
    assert await expired(store) == {"2"}

    back = await run_of(store, [1, 2])
    assert back.counts.expired == 0
    returned = await record(store, 2)
    assert (returned.status, returned.expired_at) == (JobStatus.ACTIVE, None)
    assert returned.last_seen_run_id == back.id
    for _ in range(N - 1):
        await run_of(store, [1])
    assert await expired(store) == set()
    again = await run_of(store, [1])
    assert again.counts.expired == 1
    assert await expired(store) == {"2"}

    # Back through another feed: active, and now that feed has to miss it N times too.
    await run_of(store, [2], feed=OTHER)
    assert await expired(store) == set()
    for _ in range(N):
        await run_of(store, [1])  # FEED goes on missing it: not enough alone
    assert await expired(store) == set()
    for _ in range(N - 1):
        await run_of(store, [], feed=OTHER)
    assert await expired(store) == set()
    last = await run_of(store, [], feed=OTHER)
    assert last.counts.expired == 1
    assert await expired(store) == {"2"}


async def test_cancelled_runs_never_expire_and_do_not_count(store: Store) -> None:
    await run_of(store, [1, 2, 3])
    for _ in range(N - 1):
        await run_of(store, [1, 2])

    # Cancelled after its first batch applied: the jobs it listed count, the miss does not.
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)]])
    await store.mark_run_staged(run.id, 2)
    await apply_staged(store, run.id, 0)
    cancelled = await store.cancel_run(run.id)
    assert cancelled is not None
    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.counts == RunCounts(fetched=1, unchanged=1)
    # Cancelled while queued, then its fetch task reports an empty document.
    queued, _ = await store.start_or_get_run(FEED, "api")
    assert await store.cancel_run(queued.id) is not None
    after = await store.mark_run_staged(queued.id, 0)
    assert (after.status, after.counts.expired) == (RunStatus.CANCELLED, 0)
    assert await expired(store) == set()

    last = await run_of(store, [1, 2])  # the third whole-document miss
    assert last.counts.expired == 1
    assert await expired(store) == {"3"}


async def test_a_run_with_a_lost_batch_expires_nothing(store: Store) -> None:
    """Jobs of a batch lost for good were in the document but never applied: such a run is
    not a whole read, even when it ends partial without a document error."""
    await run_of(store, [1, 2, 3])
    for _ in range(N - 1):
        await run_of(store, [1, 2])
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)]])
    await store.mark_run_staged(run.id, 2)
    await apply_staged(store, run.id, 0)
    outcome = await store.fail_batch(run.id, 1, "lost", "tasks lost 3 times")
    closed = outcome.run
    assert (closed.status, closed.error, closed.failure_counts) == (
        RunStatus.PARTIAL,
        None,
        {"lost": 1},
    )
    assert closed.counts.expired == 0
    assert await expired(store) == set()
    assert (await run_of(store, [1, 2])).counts.expired == 1  # the next whole run does it


async def test_a_run_with_items_the_store_refused_expires_nothing(store: Store) -> None:
    await run_of(store, [1, 2, 3])
    for _ in range(N - 1):
        await run_of(store, [1, 2])
    refused = fail(9, reason="store_error")
    run = await run_of(store, [1, 2], failures=[refused])
    assert (run.status, run.counts.expired) == (RunStatus.PARTIAL, 0)
    assert await expired(store) == set()


async def test_a_deleted_feed_no_longer_holds_back_jobs_other_feeds_dropped(store: Store) -> None:
    added = await store.add_feed(FeedState(url=OTHER))
    assert added is not None
    await run_of(store, [1, 2], feed=FEED)
    await run_of(store, [1, 5], feed=OTHER)  # job 1 is listed by both, 5 by OTHER alone
    assert await store.delete_feed(added.id)
    for _ in range(N - 1):
        await run_of(store, [2], feed=FEED)
    assert await expired(store) == set()
    last = await run_of(store, [2], feed=FEED)
    assert last.counts.expired == 1
    assert await expired(store) == {"1"}  # 5 stays as it was: nothing reads its feed any more
