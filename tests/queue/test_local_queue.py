"""The in-process queue on its own: concurrency, dedupe by job id, retries, timeouts, join."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from jobimport.queue.base import RetryLater, TaskContext
from jobimport.queue.local import LocalQueue
from tests.support import wait_until


@asynccontextmanager
async def running(
    *, concurrency: int = 2, max_tries: int = 3, job_timeout_s: float = 5.0
) -> AsyncIterator[LocalQueue]:
    queue = LocalQueue(concurrency=concurrency, max_tries=max_tries, job_timeout_s=job_timeout_s)
    try:
        yield queue
    finally:
        await queue.close()


async def joined(queue: LocalQueue, within: float = 5.0) -> None:
    await asyncio.wait_for(queue.join(), within)


async def test_runs_at_most_concurrency_tasks_at_once() -> None:
    release = asyncio.Event()
    now = 0
    peak = 0
    done: list[int] = []

    async def task(ctx: TaskContext, n: int) -> None:
        nonlocal now, peak
        now += 1
        peak = max(peak, now)
        try:
            await release.wait()
        finally:
            now -= 1
        done.append(n)

    async with running(concurrency=3) as queue:
        queue.register("t", task)
        queue.start()
        for n in range(10):
            assert await queue.enqueue("t", n, job_id=f"job:{n}")

        async def three_running() -> bool:
            return now == 3

        await wait_until(three_running, within=5, what="three tasks running")
        # More waiting tasks than slots, and the loop has had every chance to start them.
        for _ in range(20):
            await asyncio.sleep(0)
        stats = queue.stats()
        assert (now, stats.running, stats.waiting) == (3, 3, 7)
        release.set()
        await joined(queue)
    assert peak == 3
    assert sorted(done) == list(range(10))


async def test_a_job_id_queued_or_running_is_not_queued_again() -> None:
    release = asyncio.Event()
    calls: list[str] = []

    async def task(ctx: TaskContext, name: str) -> None:
        calls.append(name)
        await release.wait()

    async with running() as queue:
        queue.register("t", task)
        assert await queue.enqueue("t", "first", job_id="same")
        assert not await queue.enqueue("t", "queued twice", job_id="same")
        assert await queue.is_pending("same")
        queue.start()

        async def started() -> bool:
            return calls == ["first"]

        await wait_until(started, within=5, what="the task to start")
        assert not await queue.enqueue("t", "while running", job_id="same")
        release.set()
        await joined(queue)
        assert not await queue.is_pending("same")
        # Done: the id may be used again (a later redelivery is a new job).
        assert await queue.enqueue("t", "again", job_id="same")
        await joined(queue)
    assert calls == ["first", "again"]


async def test_retry_later_runs_again_until_max_tries_then_counts_one_failure() -> None:
    tries: list[tuple[int, bool]] = []

    async def flaky(ctx: TaskContext) -> None:
        tries.append((ctx.job_try, ctx.final_try))
        raise RetryLater(0.01, "still broken")

    async with running(max_tries=3) as queue:
        queue.register("t", flaky)
        queue.start()
        await queue.enqueue("t", job_id="j")
        await joined(queue)
        assert tries == [(1, False), (2, False), (3, True)]
        assert queue.stats().failed == 1


async def test_retry_later_then_success_is_no_failure() -> None:
    tries: list[int] = []

    async def second_time_lucky(ctx: TaskContext) -> None:
        tries.append(ctx.job_try)
        if ctx.job_try == 1:
            raise RetryLater(0.3, "transient")

    async with running() as queue:
        queue.register("t", second_time_lucky)
        queue.start()
        await queue.enqueue("t", job_id="j")

        async def deferred() -> bool:
            return queue.stats().deferred == 1

        await wait_until(deferred, within=5, what="the retry to be deferred")
        assert await queue.is_pending("j")  # a deferred retry is still the same pending job
        assert not await queue.enqueue("t", job_id="j")
        await joined(queue)
        assert tries == [1, 2]
        assert queue.stats().failed == 0


async def test_a_task_over_the_job_timeout_fails_once_without_retry() -> None:
    calls = 0
    forever = asyncio.Event()

    async def hangs(ctx: TaskContext) -> None:
        nonlocal calls
        calls += 1
        await forever.wait()

    async with running(job_timeout_s=0.05) as queue:
        queue.register("t", hangs)
        queue.start()
        await queue.enqueue("t", job_id="j")
        await joined(queue)
        assert (calls, queue.stats().failed) == (1, 1)


async def test_an_unexpected_error_fails_once_and_the_queue_goes_on() -> None:
    ran: list[str] = []

    async def task(ctx: TaskContext, name: str) -> None:
        ran.append(name)
        if name == "bad":
            raise ValueError("boom")

    async with running(concurrency=1) as queue:
        queue.register("t", task)
        queue.start()
        await queue.enqueue("t", "bad", job_id="a")
        await queue.enqueue("t", "good", job_id="b")
        await joined(queue)
        assert ran == ["bad", "good"]
        assert queue.stats().failed == 1


async def test_join_waits_for_deferred_and_follow_up_jobs() -> None:
    order: list[str] = []

    async with running() as queue:

        async def parent(ctx: TaskContext) -> None:
            order.append("parent")
            # Like the fetch task enqueueing its batches: join() must wait for these too.
            assert await queue.enqueue("child", job_id="c", defer_s=0.05)

        async def child(ctx: TaskContext) -> None:
            order.append("child")

        queue.register("parent", parent)
        queue.register("child", child)
        queue.start()
        await queue.enqueue("parent", job_id="p")
        await joined(queue)
        assert order == ["parent", "child"]
        stats = queue.stats()
        assert (stats.waiting, stats.running, stats.deferred, stats.failed) == (0, 0, 0, 0)


async def test_unknown_task_is_refused() -> None:
    async with running() as queue:
        with pytest.raises(ValueError, match="no handler"):
            await queue.enqueue("nope", job_id="x")
