"""Every task may run twice: redelivered batches and fetches, retried transient failures and the
feed errors that must not be retried. Each on both queues where a queue is involved."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from logging import ERROR
from typing import Any

import pytest
from redis.asyncio import Redis

from jobimport.errors import StoreUnavailable
from jobimport.events.types import RunFinished, RunProgress
from jobimport.models import Job, RunStatus
from jobimport.queue.base import RetryLater, TaskContext
from jobimport.queue.names import BATCH, batch_job_id, fetch_job_id
from jobimport.queue.tasks import Tasks, retry_delay
from jobimport.settings import Settings
from jobimport.store.base import ApplyOutcome, Store
from tests.feedgen import items, rss
from tests.feedserver import Doc, FeedServer
from tests.queue.support import (
    Harness,
    RecordingProducer,
    check_invariants,
    harness,
    wait_final,
    wait_finished,
)
from tests.support import REDIS_URL, wait_until

ITEMS = 20
BATCH_SIZE = 6  # 4 batches: 6, 6, 6, 2


def ctx(job_id: str, job_try: int = 1, max_tries: int = 3) -> TaskContext:
    return TaskContext(job_id=job_id, job_try=job_try, max_tries=max_tries)


def progress_events(h: Harness, run_id: str) -> list[int]:
    return [
        e.run.batches_done for e in h.events if isinstance(e, RunProgress) and e.run.id == run_id
    ]


def finished_events(h: Harness, run_id: str) -> int:
    return sum(1 for e in h.events if isinstance(e, RunFinished) and e.run.id == run_id)


async def assert_exact(h: Harness, run_id: str, *, every_event: bool = True) -> None:
    """The run's counts are those of one delivery of each batch: all 20 items new, once. Its
    progress events count up without repeats (all of them unless a reply was lost)."""
    run = await h.store.get_run(run_id)
    assert run is not None
    assert run.status is RunStatus.SUCCEEDED
    assert (run.counts.fetched, run.counts.new, run.counts.updated, run.counts.unchanged) == (
        ITEMS, ITEMS, 0, 0,
    )  # fmt: skip
    assert run.counts.failed == 0
    assert (run.batches_total, run.batches_done) == (4, 4)
    check_invariants(run)
    for n, size in enumerate([6, 6, 6, 2]):
        result = await h.store.get_batch_result(run_id, n)
        assert result is not None
        assert (result.counts.fetched, result.counts.new) == (size, size)
    assert await h.store.count_jobs() == ITEMS
    progress = progress_events(h, run_id)
    if every_event:
        assert progress == [1, 2, 3, 4]  # one progress per batch, never twice
        assert finished_events(h, run_id) == 1
    else:
        assert progress == sorted(set(progress))
        assert finished_events(h, run_id) <= 1


async def staged_run(h: Harness, url: str) -> str:
    """A run fetched and staged by hand (no batch enqueued yet)."""
    run, created = await h.store.start_or_get_run(url, "test")
    assert created
    staged = await h.pipeline.fetch_and_stage(run.id)
    assert staged.batches_total == 4
    return run.id


def no_failed_tasks(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """No task ended in failure: a duplicate must be a harmless replay, not a refused write."""
    if h.local is not None:
        assert h.local.stats().failed == 0
    failed = [
        r.getMessage() for r in caplog.records if r.name == "arq.worker" and r.levelno >= ERROR
    ]
    assert failed == []


async def idle(h: Harness, job_ids: list[str], within: float = 20) -> None:
    async def none_pending() -> bool:
        return not any([await h.scheduler.is_pending(job_id) for job_id in job_ids])

    await wait_until(none_pending, within=within, what=f"jobs {job_ids} to be done")


async def test_a_batch_delivered_twice_counts_once(
    queue_kind: str,
    queue_settings: Callable[..., Settings],
    feeds: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    settings = queue_settings(queue_kind, batch_size=BATCH_SIZE, max_concurrency=4)
    async with harness(settings) as h:
        run_id = await staged_run(h, url)
        # Every batch twice, under its own id and another one, so the queue runs both (at once,
        # with four slots): a redelivery racing the first delivery.
        job_ids = []
        for n in range(4):
            for job_id in (batch_job_id(run_id, n), f"dup:{batch_job_id(run_id, n)}"):
                assert await h.producer.enqueue(BATCH, run_id, n, job_id=job_id)
                job_ids.append(job_id)
        await wait_final(h.store, [run_id], within=20)
        await idle(h, job_ids)
        # And once more, long after the run closed.
        late = f"late:{batch_job_id(run_id, 2)}"
        assert await h.producer.enqueue(BATCH, run_id, 2, job_id=late)
        await idle(h, [late])
        await assert_exact(h, run_id)
        no_failed_tasks(h, caplog)


async def test_calling_the_batch_task_twice_directly_counts_once(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    settings = queue_settings("local", batch_size=BATCH_SIZE)
    async with harness(settings) as h:
        run_id = await staged_run(h, url)
        tasks = Tasks(settings, h.pipeline, RecordingProducer())
        await tasks.batch(ctx(batch_job_id(run_id, 0)), run_id, 0)
        await tasks.batch(ctx(batch_job_id(run_id, 0), job_try=2), run_id, 0)
        await asyncio.gather(*(tasks.batch(ctx("x"), run_id, n) for n in (1, 1, 2, 3, 2)))
        await tasks.batch(ctx("y"), run_id, 3)
        await assert_exact(h, run_id)


class FlakyStore:
    """The real store, except that the first `apply_batch` of each listed batch raises
    StoreUnavailable: before writing anything (`after=False`: the store was unreachable) or after
    the write committed (`after=True`: the reply was lost)."""

    def __init__(self, inner: Store, batches: set[int], *, after: bool) -> None:
        self._inner = inner
        self._pending = set(batches)
        self._after = after
        self.failures = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def apply_batch(self, run_id: str, n: int, entries: list[Job]) -> ApplyOutcome:
        if n in self._pending:
            self._pending.discard(n)
            self.failures += 1
            if self._after:
                await self._inner.apply_batch(run_id, n, entries)  # type: ignore[arg-type]
            raise StoreUnavailable("database is locked")
        return await self._inner.apply_batch(run_id, n, entries)  # type: ignore[arg-type]


@pytest.mark.parametrize("after", [False, True], ids=["before-write", "after-commit"])
async def test_a_batch_retried_after_a_transient_store_failure_counts_once(
    queue_kind: str,
    queue_settings: Callable[..., Settings],
    feeds: FeedServer,
    after: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    settings = queue_settings(queue_kind, batch_size=BATCH_SIZE, max_concurrency=2)
    flaky: list[FlakyStore] = []

    def wrap(store: Store) -> Store:
        flaky.append(FlakyStore(store, {1, 3}, after=after))
        return flaky[0]  # type: ignore[return-value]

    async with harness(settings, wrap) as h:
        run, _ = await h.scheduler.start_run(url, "test")
        await wait_final(h.store, [run.id], within=20)
        await idle(h, [batch_job_id(run.id, n) for n in range(4)])
        assert flaky[0].failures == 2  # both failed once, and were retried
        # A lost reply loses that step's event: the retry finds the result already recorded.
        await assert_exact(h, run.id, every_event=not after)
        no_failed_tasks(h, caplog)


async def test_a_fetch_redelivered_before_fetched_restages_from_scratch(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    settings = queue_settings("local", batch_size=BATCH_SIZE)
    async with harness(settings) as h:
        run, _ = await h.store.start_or_get_run(url, "test")
        # A first attempt crashed half-way through staging another version of the document:
        # six batches staged, the run running but not fetched.
        assert await h.store.mark_run_running(run.id) is not None
        for n in range(6):
            stale = Job(source="jobicy", external_id=f"old-{n}", title="old", content_hash="x")
            await h.store.stage_batch(run.id, n, [stale])
        producer = RecordingProducer()
        await Tasks(settings, h.pipeline, producer).fetch(ctx(fetch_job_id(run.id), 2), run.id)
        after = await h.store.get_run(run.id)
        assert after is not None
        assert (after.batches_total, after.attempts) == (4, 2)
        assert await h.store.pending_batches(run.id) == [0, 1, 2, 3]
        for n in (4, 5):  # the crashed attempt's extra batches are gone
            assert await h.store.load_staged_batch(run.id, n) is None
        assert [job_id for _, _, job_id in producer.enqueued] == [
            batch_job_id(run.id, n) for n in range(4)
        ]
        for task, args, job_id in producer.enqueued:
            assert task == BATCH
            await h.tasks.batch(ctx(job_id), *args)  # type: ignore[arg-type]
        await assert_exact(h, run.id)
        assert feeds.hits["/feed"] == 1


async def test_a_fetch_redelivered_after_fetched_only_enqueues_what_is_left(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    settings = queue_settings("local", batch_size=BATCH_SIZE)
    async with harness(settings) as h:
        run, _ = await h.store.start_or_get_run(url, "test")
        first = RecordingProducer()
        tasks = Tasks(settings, h.pipeline, first)
        await tasks.fetch(ctx(fetch_job_id(run.id)), run.id)
        assert len(first.enqueued) == 4
        await tasks.batch(ctx("b0"), run.id, 0)
        await tasks.batch(ctx("b2"), run.id, 2)

        again = RecordingProducer()
        await Tasks(settings, h.pipeline, again).fetch(ctx(fetch_job_id(run.id), 2), run.id)

        assert feeds.hits["/feed"] == 1  # not fetched again
        assert [job_id for _, _, job_id in again.enqueued] == [
            batch_job_id(run.id, 1), batch_job_id(run.id, 3),
        ]  # fmt: skip
        current = await h.store.get_run(run.id)
        assert current is not None
        assert (current.batches_total, current.batches_done) == (4, 2)
        for n in (1, 3):
            await tasks.batch(ctx(f"b{n}"), run.id, n)
        # A fetch delivered after the run closed does nothing at all.
        late = RecordingProducer()
        await Tasks(settings, h.pipeline, late).fetch(ctx(fetch_job_id(run.id), 3), run.id)
        assert late.enqueued == []
        assert feeds.hits["/feed"] == 1
        await assert_exact(h, run.id)


def unavailable(status: int = 503, retry_after: str | None = None) -> Doc:
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return Doc(b"busy", status=status, content_type="text/plain", headers=headers)


async def test_transient_feed_errors_retry_with_backoff_and_the_run_succeeds(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    body = rss(items(range(1, ITEMS + 1)))
    url = feeds.script("/flaky", [unavailable(), unavailable(502), Doc(body)])
    settings = queue_settings(queue_kind, batch_size=BATCH_SIZE, max_tries=3)
    async with harness(settings) as h:
        run, _ = await h.scheduler.start_run(url, "test")
        (done,) = await wait_finished(h, [run.id], within=20)
        assert feeds.hits["/flaky"] == 3
        assert (done.status, done.attempts, done.error) == (RunStatus.SUCCEEDED, 3, None)
        await assert_exact(h, run.id)
        feed = await h.store.get_feed(url)
        assert feed is not None
        assert feed.consecutive_failures == 0


async def test_a_transient_error_on_every_try_fails_the_run_once(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.script("/down", [unavailable()])
    settings = queue_settings(queue_kind, max_tries=3)
    async with harness(settings) as h:
        run, _ = await h.scheduler.start_run(url, "test")
        (done,) = await wait_final(h.store, [run.id], within=20)
        await idle(h, [fetch_job_id(run.id)])
        feed = await h.store.get_feed(url)
    assert feeds.hits["/down"] == 3  # max_tries requests, then the failure is recorded once
    assert done.status is RunStatus.FAILED
    assert done.error is not None
    assert (done.error.reason, done.error.status, done.attempts) == ("http_5xx", 503, 3)
    assert feed is not None
    assert feed.consecutive_failures == 1


async def test_a_permanent_error_fails_at_once(
    queue_kind: str, queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.base_url + "/missing"  # the feed server answers 404
    settings = queue_settings(queue_kind, max_tries=3)
    async with harness(settings) as h:
        run, _ = await h.scheduler.start_run(url, "test")
        (done,) = await wait_final(h.store, [run.id], within=20)
        await idle(h, [fetch_job_id(run.id)])
        feed = await h.store.get_feed(url)
    assert feeds.hits["/missing"] == 1
    assert done.status is RunStatus.FAILED
    assert done.error is not None
    assert (done.error.reason, done.error.status, done.attempts) == ("http_4xx", 404, 1)
    assert feed is not None
    assert feed.consecutive_failures == 1


async def test_retry_after_is_the_retry_delay(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.script("/limited", [unavailable(429, "7")])
    settings = queue_settings("local", retry_base_delay_s=0.5, max_tries=3)
    async with harness(settings) as h:
        run, _ = await h.store.start_or_get_run(url, "test")
        tasks = Tasks(settings, h.pipeline, RecordingProducer())
        with pytest.raises(RetryLater) as first:
            await tasks.fetch(ctx(fetch_job_id(run.id), 1), run.id)
        with pytest.raises(RetryLater) as second:
            await tasks.fetch(ctx(fetch_job_id(run.id), 2), run.id)
        still = await h.store.get_run(run.id)
    assert (first.value.defer_s, second.value.defer_s) == (7.0, 7.0)  # over 0.5 s and 1 s
    assert first.value.reason == "http_4xx"
    assert still is not None
    assert still.status is RunStatus.RUNNING  # left open for the retry
    assert feeds.hits["/limited"] == 2


def test_backoff_doubles_and_a_longer_retry_after_wins(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(retry_base_delay_s=2.0)
    assert [retry_delay(settings, ctx("j", t)) for t in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retry_delay(settings, ctx("j", 2), retry_after_s=1.0) == 4.0
    assert retry_delay(settings, ctx("j", 2), retry_after_s=30.0) == 30.0


@pytest.mark.redis
async def test_arq_defers_the_retry_by_retry_after(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.script("/limited", [unavailable(429, "30")])
    settings = queue_settings("arq", retry_base_delay_s=0.05, max_tries=3)
    async with harness(settings) as h:
        run, _ = await h.scheduler.start_run(url, "test")
        job_id = fetch_job_id(run.id)
        redis: Redis = Redis.from_url(REDIS_URL)
        try:

            async def deferred_score() -> float | None:
                if feeds.hits.get("/limited") != 1:
                    return None
                in_progress = await redis.exists(f"arq:in-progress:{job_id}")
                score = await redis.zscore(settings.queue_name, job_id)
                return None if in_progress or score is None else score

            score = await wait_until(deferred_score, within=10, what="the fetch to be deferred")
        finally:
            await redis.aclose()
        # arq re-queued the job 30 s ahead (give or take the time the try took).
        assert 28.0 <= score / 1000 - time.time() <= 30.5
        assert await h.scheduler.is_pending(job_id)
        current = await h.store.get_run(run.id)
        assert current is not None
        assert current.status is RunStatus.RUNNING


async def test_a_retry_after_too_long_to_wait_fails_the_run_and_pushes_the_feed_back(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.script("/limited", [unavailable(429, "7200")])
    settings = queue_settings("local", max_tries=3, schedule="1h")
    async with harness(settings) as h:
        run, _ = await h.scheduler.start_run(url, "test")
        (done,) = await wait_finished(h, [run.id], within=20)
        feed = await h.store.get_feed(url)
    assert feeds.hits["/limited"] == 1
    assert done.status is RunStatus.FAILED
    assert done.error is not None
    assert done.error.retry_after_s == 7200
    assert feed is not None
    assert feed.next_run_at is not None
    assert done.finished_at is not None
    assert (feed.next_run_at - done.finished_at).total_seconds() == 7200
