"""Scheduling: the unique tick (once per slot across workers), which feeds a tick starts, and the
per-feed failure backoff and Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from arq.worker import Worker

from jobimport.feed_policy import MAX_BACKOFF, next_run_at, parse_schedule
from jobimport.models import FeedState, RunStatus, utc_now
from jobimport.queue.arq_producer import create_arq_pool
from jobimport.queue.tasks import Tasks
from jobimport.queue.worker import build_worker, stop_worker
from jobimport.runtime import open_runtime
from jobimport.settings import Settings
from jobimport.store.base import RunQuery, Store
from tests.feedgen import items, rss
from tests.feedserver import Doc, FeedServer
from tests.queue.support import harness, wait_finished
from tests.support import REDIS_URL, delete_keys, wait_until

# --- the unique tick ---------------------------------------------------------------------------

NO_TASKS = cast(Tasks, None)  # these workers only tick


async def run_workers(
    settings_list: list[Settings], ticks: list[tuple[str, int]], *, slots: int
) -> None:
    """Run one arq worker per settings, each ticking into `ticks` as (queue, second), until
    `slots` distinct seconds have ticked on every queue (bounded); then stop them all."""
    workers: list[tuple[Worker, object, asyncio.Task[None]]] = []

    def recorder(queue: str) -> Callable[[], asyncio.Future[None]]:
        async def tick() -> None:
            ticks.append((queue, int(time.time())))

        return tick  # type: ignore[return-value]

    try:
        for settings in settings_list:
            pool = await create_arq_pool(settings)
            worker = build_worker(settings, NO_TASKS, recorder(settings.queue_name), pool)
            workers.append((worker, pool, asyncio.create_task(worker.async_run())))

        async def enough() -> bool:
            per_queue = {
                s.queue_name: {sec for q, sec in ticks if q == s.queue_name} for s in settings_list
            }
            return all(len(seconds) >= slots for seconds in per_queue.values())

        await wait_until(enough, within=slots + 5, what=f"{slots} tick slots", interval=0.1)
    finally:
        for worker, pool, task in workers:
            await stop_worker(worker, pool, grace_s=2)  # type: ignore[arg-type]
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def seconds_of(ticks: list[tuple[str, int]], queue: str) -> Counter[int]:
    return Counter(second for q, second in ticks if q == queue)


@pytest.mark.redis
@pytest.mark.slow
async def test_a_cron_slot_fires_once_with_two_workers(
    queue_settings: Callable[..., Settings], queue_name: str
) -> None:
    settings = queue_settings("arq", tick_interval_s=1)
    ticks: list[tuple[str, int]] = []
    await run_workers([settings, settings], ticks, slots=3)
    seconds = seconds_of(ticks, queue_name)
    assert len(seconds) >= 3
    assert [s for s, n in seconds.items() if n > 1] == [], ticks  # no slot ran twice
    assert sorted(seconds) == list(range(min(seconds), max(seconds) + 1)), ticks  # none skipped


@pytest.mark.redis
@pytest.mark.slow
async def test_two_queues_on_one_redis_each_get_every_slot(
    queue_settings: Callable[..., Settings], queue_name: str
) -> None:
    """Cron job ids are global in Redis: two deployments (queue names) sharing a Redis must not
    take each other's slots."""
    other = f"{queue_name}-other"
    one = queue_settings("arq", tick_interval_s=1)
    two = queue_settings("arq", tick_interval_s=1, queue_name=other)
    ticks: list[tuple[str, int]] = []
    try:
        await run_workers([one, two], ticks, slots=4)
    finally:
        await delete_keys(REDIS_URL, [f"{other}*", f"arq:*{other}*"])
    mine, theirs = seconds_of(ticks, queue_name), seconds_of(ticks, other)
    # While both ran (the workers start and stop a moment apart), each ticked in every slot.
    both = set(range(max(min(mine), min(theirs)), min(max(mine), max(theirs)) + 1))
    assert len(both) >= 2, ticks
    assert both <= set(mine), ticks
    assert both <= set(theirs), ticks
    assert max(mine.values()) == max(theirs.values()) == 1, ticks


# --- which feeds a tick starts -----------------------------------------------------------------


@pytest.mark.redis
async def test_the_tick_starts_due_feeds_once_and_never_a_feed_in_flight(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    never, later, unlisted = (feeds.base_url + p for p in ("/never", "/later", "/unlisted"))
    now = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    settings = queue_settings("arq", feeds=[never, later])
    # Role web: nothing runs the tasks, so a started run stays in flight (queued).
    async with open_runtime(settings, "web", clock=lambda: now[0]) as runtime:
        store = runtime.store
        await store.save_feed_run_state(
            FeedState(url=later, next_run_at=now[0] + timedelta(minutes=10))
        )
        await store.save_feed_run_state(
            FeedState(url=unlisted)
        )  # known to the store, not configured

        first = await runtime.scheduler.tick()
        assert len(first.started) == 1  # the never-imported feed, at once
        run = await store.get_run(first.started[0])
        assert run is not None
        assert (run.feed_url, run.status, run.trigger) == (never, RunStatus.QUEUED, "cron")

        again = await runtime.scheduler.tick()
        assert again.started == []  # in flight: not started again

        now[0] += timedelta(minutes=11)
        third = await runtime.scheduler.tick()
        assert len(third.started) == 1
        started = await store.get_run(third.started[0])
        assert started is not None
        assert started.feed_url == later
        runs = await store.list_runs(RunQuery(limit=10))
    assert sorted(r.feed_url for r in runs.items) == sorted([never, later])


class ListThenHook:
    """The real store, except that once a page of due feeds has been read, `hook` runs before
    the caller gets it: what happens between a tick's read and its starts, made certain."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.hook: Callable[[], Awaitable[None]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def list_due_feeds(self, now: datetime, **page: Any) -> list[FeedState]:
        listed = await self._inner.list_due_feeds(now, **page)
        hook, self.hook = self.hook, None
        if hook is not None:
            await hook()
        return listed


async def test_the_tick_does_not_start_a_feed_whose_run_closed_after_it_read_the_list(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    """Issue 14, item 12: a manual run of a new feed closed just after the tick read its list
    (the feed still never imported there, so due): the tick must not import it all again."""
    url = feeds.put("/new", rss(items(range(1, 6))))
    wrapped: list[ListThenHook] = []

    def wrap(store: Store) -> Store:
        wrapped.append(ListThenHook(store))
        return cast(Store, wrapped[0])

    async with harness(queue_settings("local"), wrap) as h:
        assert await h.store.add_feed(FeedState(url=url)) is not None
        manual: list[str] = []

        async def manual_run_closes() -> None:
            run, created = await h.scheduler.start_run(url, "api")
            assert created
            manual.append(run.id)
            (done,) = await wait_finished(h, [run.id], within=10)
            assert done.status is RunStatus.SUCCEEDED

        wrapped[0].hook = manual_run_closes
        report = await h.scheduler.tick()
        assert manual  # the hook ran, between the read and the starts
        assert report.started == []
        runs = await h.store.list_runs(RunQuery(feed_url=url))
        assert [r.id for r in runs.items] == manual
        feed = await h.store.get_feed(url)
        assert feed is not None
        assert feed.next_run_at is not None
        assert feed.next_run_at > utc_now()  # and the next tick finds it not due
        assert (await h.scheduler.tick()).started == []


# --- failure backoff ---------------------------------------------------------------------------


async def test_a_feed_that_keeps_failing_backs_off_until_it_succeeds(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    url = feeds.script("/sick", [Doc(b"down", status=500, content_type="text/plain")])
    settings = queue_settings("local", max_tries=1, schedule="1h")
    hour = timedelta(hours=1)
    async with harness(settings) as h:
        gaps = []
        for failures in range(1, 8):
            run, _ = await h.scheduler.start_run(url, "test")
            (done,) = await wait_finished(h, [run.id], within=10)
            assert done.status is RunStatus.FAILED
            feed = await h.store.get_feed(url)
            assert feed is not None
            assert (feed.consecutive_failures, feed.last_run_id) == (failures, run.id)
            assert feed.last_run_at == done.finished_at
            assert feed.next_run_at is not None
            assert feed.last_run_at is not None
            gaps.append((feed.next_run_at - feed.last_run_at) / hour)
        assert gaps == [1, 2, 4, 8, 16, 24, 24]  # × 2 per failure after the first, capped at 24 h
        assert feed.last_success_at is None

        feeds.script("/sick", [Doc(rss(items(range(1, 4))))])
        run, _ = await h.scheduler.start_run(url, "test")
        (done,) = await wait_finished(h, [run.id], within=10)
        healed = await h.store.get_feed(url)
    assert done.status is RunStatus.SUCCEEDED
    assert healed is not None
    assert healed.consecutive_failures == 0
    assert healed.last_success_at == done.finished_at
    assert healed.next_run_at is not None
    assert done.finished_at is not None
    assert healed.next_run_at - done.finished_at == hour


FINISHED = datetime(2026, 11, 23, 12, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 24), (7, 24), (50, 24)],
)
def test_backoff_doubles_per_failure_capped_at_24_hours(failures: int, expected: float) -> None:
    due = next_run_at(parse_schedule("1h"), FINISHED, consecutive_failures=failures)
    assert due - FINISHED == timedelta(hours=expected)


def test_backoff_of_a_cron_schedule_counts_in_its_period() -> None:
    quarter = parse_schedule("*/15 * * * *")
    assert next_run_at(quarter, FINISHED) == datetime(2026, 11, 23, 12, 15, tzinfo=UTC)
    # Three failures: 2^2 periods of 15 min after the run.
    due = next_run_at(quarter, FINISHED, consecutive_failures=3)
    assert due == FINISHED + timedelta(hours=1)


def test_retry_after_pushes_the_next_run_back_capped_at_24_hours() -> None:
    hourly = parse_schedule("1h")
    assert next_run_at(hourly, FINISHED, retry_after_s=60) == FINISHED + timedelta(hours=1)
    assert next_run_at(hourly, FINISHED, retry_after_s=3 * 3600) == FINISHED + timedelta(hours=3)
    assert next_run_at(hourly, FINISHED, retry_after_s=10**9) == FINISHED + MAX_BACKOFF
    both = next_run_at(hourly, FINISHED, consecutive_failures=3, retry_after_s=7200)
    assert both == FINISHED + timedelta(hours=4)  # the later of the two wins
