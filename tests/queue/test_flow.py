"""The whole flow through a queue, once per queue: the in-process queue and arq on the real Redis
with an embedded worker (`open_runtime(settings, "all")`). Same tests, same expectations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from jobimport.events.hub import Envelope, Hub
from jobimport.models import RunStatus
from jobimport.runtime import open_runtime
from jobimport.settings import Settings
from jobimport.store.base import JobQuery
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import check_invariants, wait_final
from tests.support import wait_until

BATCH_SIZE = 7


async def collect(hub: Hub, into: list[Envelope]) -> None:
    async for envelope in await hub.subscribe():
        into.append(envelope)


async def test_two_overlapping_feeds_concurrently_give_exact_counts(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    # 40 + 40 items, 20 of them in both feeds; validators off, so run 2 reads the whole document.
    all_jobs = feeds.put("/all", rss(items(range(1, 41))), validators=False)
    category = feeds.put("/category", rss(items(range(21, 61))), validators=False)
    settings = queue_settings(queue_kind, batch_size=BATCH_SIZE, max_concurrency=4)

    async with open_runtime(settings, "all") as runtime:
        events: list[Envelope] = []
        listener = asyncio.create_task(collect(runtime.hub, events))
        await asyncio.sleep(0)  # let the listener subscribe before anything is published
        store = runtime.store
        started = await runtime.scheduler.start_runs([all_jobs, category], trigger="test")
        assert [run.status for run in started] == [RunStatus.QUEUED, RunStatus.QUEUED]
        first = await wait_final(store, [run.id for run in started], within=20)

        for run in first:
            assert run.status is RunStatus.SUCCEEDED, run
            check_invariants(run)
            assert (run.counts.fetched, run.counts.failed, run.counts.updated) == (40, 0, 0)
            assert run.failures == ()
            assert (run.batches_total, run.batches_done) == (6, 6)  # 5 × 7 + 5
            sizes = []
            for n in range(6):
                result = await store.get_batch_result(run.id, n)
                assert result is not None
                sizes.append(result.counts.fetched)
            assert sizes == [7, 7, 7, 7, 7, 5]
            assert await store.pending_batches(run.id) == []
            assert await store.load_staged_batch(run.id, 0) is None  # staged copies dropped
        # Whichever batch stored a shared job first counted it new; the other run saw it unchanged.
        assert sum(run.counts.new for run in first) == 60
        assert sum(run.counts.unchanged for run in first) == 20
        assert await store.count_jobs() == 60
        page = await store.list_jobs(JobQuery(limit=100))
        assert len({record.job.identity for record in page.items}) == 60
        shared = [r for r in page.items if set(r.feeds) == {all_jobs, category}]
        assert sorted(r.job.title for r in shared) == sorted(
            f"Job number {i}" for i in range(21, 41)
        )

        second = await runtime.scheduler.start_runs([all_jobs, category], trigger="test")
        assert {run.id for run in second}.isdisjoint(run.id for run in first)
        again = await wait_final(store, [run.id for run in second], within=20)
        for run in again:
            assert run.status is RunStatus.SUCCEEDED
            assert (run.counts.fetched, run.counts.unchanged, run.counts.new) == (40, 40, 0)
            assert run.counts.updated == run.counts.failed == 0
        assert await store.count_jobs() == 60

        # The step that closes a run publishes run.finished just after the store closed it.
        async def all_announced() -> bool:
            finished = {e.data["run"]["id"] for e in events if e.type == "run.finished"}
            return finished >= {run.id for run in [*first, *again]}

        await wait_until(all_announced, within=10, what="run.finished of every run")
        listener.cancel()
    # Every run was announced: queued, started, one progress per batch, finished.
    for run in [*first, *again]:
        mine = [e.type for e in events if e.data["run"]["id"] == run.id]
        assert mine == ["run.queued", "run.started", *["run.progress"] * 6, "run.finished"], mine


async def test_a_feed_in_flight_is_not_started_twice(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 11))))
    settings = queue_settings(queue_kind, batch_size=3)
    async with open_runtime(settings, "all") as runtime:
        run, created = await runtime.scheduler.start_run(url, "test")
        again, created_again = await runtime.scheduler.start_run(url, "test")
        assert created
        assert (again.id, created_again) == (run.id, False)
        (done,) = await wait_final(runtime.store, [run.id], within=20)
    assert (done.status, done.counts.new, done.batches_total) == (RunStatus.SUCCEEDED, 10, 4)
    assert feeds.hits["/feed"] == 1


async def test_bad_items_and_feed_errors_through_the_queue(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    bad = "<item><link>https://jobicy.com/jobs/77-x</link><id>77</id></item>"
    partial = feeds.put("/partial", rss([*items(range(1, 6)), bad]))
    broken = feeds.put("/broken", b"<rss><channel><item><title>x</item></rss>")
    settings = queue_settings(queue_kind, batch_size=2, max_concurrency=3)
    async with open_runtime(settings, "all") as runtime:
        started = await runtime.scheduler.start_runs([partial, broken], trigger="test")
        p, b = await wait_final(runtime.store, [run.id for run in started], within=20)
    assert (p.status, p.counts.fetched, p.counts.new, p.counts.failed) == (
        RunStatus.PARTIAL, 6, 5, 1,
    )  # fmt: skip
    assert [f.reason for f in p.failures] == ["missing_title"]
    check_invariants(p)
    assert b.status is RunStatus.FAILED
    assert b.error is not None
    assert b.error.reason == "malformed_xml"
    assert b.batches_total is None
