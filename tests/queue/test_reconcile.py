"""The reconciler: runs whose tasks were lost are re-enqueued under the same ids; runs whose tasks
are only waiting are left alone; after repeated loss the rest fails as `lost`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from jobimport.models import RunStatus, utc_now
from jobimport.queue.names import BATCH, FETCH, batch_job_id, fetch_job_id
from jobimport.runtime import open_runtime
from jobimport.scheduler import Scheduler
from jobimport.settings import Settings
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import Harness, RecordingProducer, check_invariants, harness, wait_final


async def nothing_pending(job_id: str) -> bool:
    del job_id
    return False


@asynccontextmanager
async def lost_queue(h: Harness) -> AsyncIterator[tuple[Scheduler, RecordingProducer]]:
    """A scheduler over the harness's store whose queue lost everything and runs nothing."""
    producer = RecordingProducer()
    yield (
        Scheduler(
            h.settings, h.store, h.pipeline, producer, nothing_pending, utc_now, h.pipeline.publish
        ),
        producer,
    )


async def test_staged_batches_without_a_result_are_enqueued_again_with_the_same_ids(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 21))))
    settings = queue_settings(queue_kind, batch_size=6)
    async with harness(settings) as h:
        # Staged and fetched, then the queue lost the batch tasks (nothing was enqueued).
        run, _ = await h.store.start_or_get_run(url, "test")
        await h.pipeline.fetch_and_stage(run.id)
        await h.pipeline.apply_batch(run.id, 1)
        report = await h.scheduler.reconcile(idle_s=0)
        assert report.requeued == [run.id]
        (done,) = await wait_final(h.store, [run.id], within=20)
    assert (done.status, done.counts.new, done.counts.fetched, done.requeues) == (
        RunStatus.SUCCEEDED, 20, 20, 1,
    )  # fmt: skip
    check_invariants(done)


async def test_a_lost_fetch_is_enqueued_again(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 8))))
    settings = queue_settings(queue_kind, batch_size=6)
    async with harness(settings) as h:
        run, _ = await h.store.start_or_get_run(url, "test")  # queued; its fetch never enqueued
        report = await h.scheduler.reconcile(idle_s=0)
        assert report.requeued == [run.id]
        (done,) = await wait_final(h.store, [run.id], within=20)
    assert (done.status, done.counts.new, done.batches_total) == (RunStatus.SUCCEEDED, 7, 2)


@pytest.mark.redis
async def test_waiting_tasks_are_not_lost(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    """A run whose fetch waits in arq's queue (no worker yet) is slow, not lost: the reconciler
    neither re-enqueues it nor, after many ticks, gives it up."""
    url = feeds.put("/feed", rss(items(range(1, 4))))
    settings = queue_settings("arq", reconcile_max_requeues=2)
    async with open_runtime(settings, "web") as runtime:
        run, _ = await runtime.scheduler.start_run(url, "test")
        for _ in range(4):
            report = await runtime.scheduler.reconcile(idle_s=0)
            assert (report.requeued, report.lost) == ([], [])
        assert await runtime.scheduler.is_pending(fetch_job_id(run.id))
        current = await runtime.store.get_run(run.id)
    assert current is not None
    assert (current.status, current.requeues) == (RunStatus.QUEUED, 0)


async def test_a_run_idle_for_less_than_reconcile_after_is_left_alone(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    settings = queue_settings("local", reconcile_after_s=600)
    async with harness(settings) as h, lost_queue(h) as (scheduler, producer):
        run, _ = await h.store.start_or_get_run(url, "test")
        report = await scheduler.reconcile()
        assert report.requeued == []
        assert producer.enqueued == []
        report = await scheduler.reconcile(idle_s=0)
        assert report.requeued == [run.id]
        assert producer.enqueued == [(FETCH, (run.id,), fetch_job_id(run.id))]


async def test_after_repeated_loss_the_left_batches_fail_as_lost(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 21))))
    settings = queue_settings("local", batch_size=6, reconcile_max_requeues=3)
    async with harness(settings) as h, lost_queue(h) as (scheduler, producer):
        run, _ = await h.store.start_or_get_run(url, "test")
        await h.pipeline.fetch_and_stage(run.id)
        await h.pipeline.apply_batch(run.id, 0)
        for requeues in (1, 2, 3):
            report = await scheduler.reconcile(idle_s=0)
            assert report.requeued == [run.id]
            current = await h.store.get_run(run.id)
            assert current is not None
            assert current.requeues == requeues
        assert [job_id for _, _, job_id in producer.enqueued] == [
            batch_job_id(run.id, n) for n in (1, 2, 3)
        ] * 3
        assert all(task == BATCH for task, _, _ in producer.enqueued)
        report = await scheduler.reconcile(idle_s=0)
        assert report.lost == [run.id]
        done = await h.store.get_run(run.id)
        feed = await h.store.get_feed(url)
    assert done is not None
    assert done.status is RunStatus.PARTIAL
    assert (done.counts.fetched, done.counts.new, done.counts.failed) == (20, 6, 14)
    assert done.failure_counts == {"lost": 14}
    assert done.batches_done == 4
    check_invariants(done)
    assert feed is not None
    assert feed.last_run_id == run.id


async def test_a_run_lost_before_staging_fails_as_lost(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    settings = queue_settings("local", reconcile_max_requeues=1)
    async with harness(settings) as h, lost_queue(h) as (scheduler, _producer):
        run, _ = await h.store.start_or_get_run(url, "test")
        assert (await scheduler.reconcile(idle_s=0)).requeued == [run.id]
        assert (await scheduler.reconcile(idle_s=0)).lost == [run.id]
        done = await h.store.get_run(run.id)
    assert done is not None
    assert done.status is RunStatus.FAILED
    assert done.error is not None
    assert done.error.reason == "lost"
    assert feeds.hits.get("/feed") is None
