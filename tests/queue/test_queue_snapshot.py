"""Queue snapshots (`GET /api/queue`): waiting, running, deferred and recently failed tasks by
kind, on arq (the real Redis, a queue of the test's own) and on the in-process queue."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from arq import ArqRedis, Retry
from arq.worker import Worker, func
from redis.asyncio import Redis

from jobimport.queue.arq_producer import ArqProducer, create_arq_pool, deserialize, serialize
from jobimport.queue.base import RetryLater, TaskContext
from jobimport.queue.failures import FAILED_WINDOW_S, failed_key, record_failure, track_failures
from jobimport.queue.local import LocalQueue
from jobimport.queue.names import (
    BATCH,
    FETCH,
    KINDS,
    TICK,
    batch_job_id,
    fetch_job_id,
    kind_of_job_id,
    kind_of_task,
    tick_job_name,
)
from jobimport.queue.snapshot import SAMPLE, KindCounts, QueueSnapshot, snapshot_arq
from jobimport.settings import Settings
from tests.support import delete_keys, wait_until


def counts(snapshot: QueueSnapshot) -> dict[str, tuple[int, int, int, int]]:
    """Per kind (waiting, running, deferred, failed), kinds with nothing left out."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for kind, c in snapshot.kinds.items():
        if c != KindCounts():
            out[kind] = (c.waiting, c.running, c.deferred, c.failed)
    return out


@dataclass
class Scope:
    """This test's queue name and run-id prefix on the shared Redis."""

    queue_name: str
    prefix: str
    settings: Settings

    def run(self, n: int) -> str:
        return f"{self.prefix}-{n}"


@pytest.fixture
async def scope(make_settings: Callable[..., Settings], redis_url: str) -> AsyncIterator[Scope]:
    queue_name = f"jobimport-test:{uuid.uuid4().hex}"
    prefix = uuid.uuid4().hex
    settings = make_settings(redis_url=redis_url, queue_name=queue_name)
    yield Scope(queue_name, prefix, settings)
    await delete_keys(redis_url, [f"{queue_name}*", f"arq:*{queue_name}*", f"arq:*run:{prefix}*"])


@pytest.fixture
async def pool(scope: Scope) -> AsyncIterator[ArqRedis]:
    opened = await create_arq_pool(scope.settings)
    yield opened
    await opened.aclose()


def test_kinds_from_task_names_and_job_ids() -> None:
    assert [kind_of_task(t) for t in (FETCH, BATCH, TICK, tick_job_name("q"), "x")] == [
        "fetch", "batch", "tick", "tick", "other",
    ]  # fmt: skip
    ids = [fetch_job_id("r1"), batch_job_id("r1", 12), f"{tick_job_name('q')}:1700000000000"]
    assert [kind_of_job_id(i) for i in ids] == ["fetch", "batch", "tick"]
    assert [kind_of_job_id(i) for i in ("run:r1:other", "abc", "run:r1:batch:x:y")] == [
        "other", "other", "other",
    ]  # fmt: skip


async def test_arq_waiting_and_deferred_by_kind(scope: Scope, pool: ArqRedis) -> None:
    producer = ArqProducer(pool, scope.queue_name)
    before_ms = int(time.time() * 1000)
    for n in range(2):
        assert await producer.enqueue(FETCH, scope.run(n), job_id=fetch_job_id(scope.run(n)))
    for n in range(3):
        assert await producer.enqueue(BATCH, scope.run(0), n, job_id=batch_job_id(scope.run(0), n))
    assert await producer.enqueue(
        FETCH, scope.run(9), job_id=fetch_job_id(scope.run(9)), defer_s=60
    )
    for n in range(2):
        job_id = batch_job_id(scope.run(9), n)
        assert await producer.enqueue(BATCH, scope.run(9), n, job_id=job_id, defer_s=60)
    assert await producer.enqueue("something.else", job_id=f"{scope.queue_name}:odd")

    now_ms = int(time.time() * 1000) + 5000  # five seconds later, nothing has been picked
    snapshot = await snapshot_arq(pool, scope.queue_name, now_ms=now_ms)

    assert snapshot.backend == "arq"
    assert counts(snapshot) == {
        "fetch": (2, 0, 1, 0),
        "batch": (3, 0, 2, 0),
        "other": (1, 0, 0, 0),
    }
    assert snapshot.total == KindCounts(waiting=6, running=0, deferred=3, failed=0)
    assert snapshot.oldest_waiting_s is not None
    assert 5.0 <= snapshot.oldest_waiting_s <= (now_ms - before_ms) / 1000
    assert snapshot.exact
    assert snapshot.failed_window_s == FAILED_WINDOW_S
    body = snapshot.to_json()
    assert body["total"] == {"waiting": 6, "running": 0, "deferred": 3, "failed": 0}
    assert set(body["kinds"]) == set(KINDS)


async def test_arq_empty_queue(scope: Scope, pool: ArqRedis) -> None:
    snapshot = await snapshot_arq(pool, scope.queue_name)
    assert counts(snapshot) == {}
    assert snapshot.oldest_waiting_s is None
    assert snapshot.exact


async def test_arq_running_and_failed_with_a_real_worker(scope: Scope, pool: ArqRedis) -> None:
    """One worker running one job at a time: a batch that fails for good, a fetch that blocks
    until the test lets it go, and a second fetch waiting behind it."""
    release = asyncio.Event()
    started: list[str] = []

    async def fetch(ctx: dict[str, Any], run_id: str) -> None:
        started.append(run_id)
        await release.wait()

    async def batch(ctx: dict[str, Any], run_id: str, n: int) -> None:
        raise ValueError("broken batch")

    worker_pool = await create_arq_pool(scope.settings)  # worker.close() closes it
    worker = Worker(
        functions=[
            func(track_failures(fetch, scope.queue_name), name=FETCH),
            func(track_failures(batch, scope.queue_name), name=BATCH, max_tries=3),
        ],
        redis_pool=worker_pool,
        queue_name=scope.queue_name,
        max_jobs=1,
        keep_result=0,
        poll_delay=0.05,
        handle_signals=False,
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    producer = ArqProducer(pool, scope.queue_name)
    order = [batch_job_id(scope.run(0), 0), fetch_job_id(scope.run(1)), fetch_job_id(scope.run(2))]
    assert await producer.enqueue(BATCH, scope.run(0), 0, job_id=order[0])
    assert await producer.enqueue(FETCH, scope.run(1), job_id=order[1])
    assert await producer.enqueue(FETCH, scope.run(2), job_id=order[2])
    # arq starts due jobs in score order: give them distinct scores, all already due, in `order`.
    first = await pool.zscore(scope.queue_name, order[0])
    assert first is not None
    scores = {job_id: first - len(order) + i for i, job_id in enumerate(order)}
    assert await pool.zadd(scope.queue_name, scores, xx=True, ch=True) == len(order)
    running = asyncio.create_task(worker.async_run())
    try:

        async def blocked() -> QueueSnapshot | None:
            snapshot = await snapshot_arq(pool, scope.queue_name)
            return snapshot if counts(snapshot).get("fetch", (0,))[:2] == (1, 1) else None

        async def state() -> object:
            return counts(await snapshot_arq(pool, scope.queue_name))

        snapshot = await wait_until(blocked, within=10, what="one fetch running", state=state)
        assert snapshot is not None
        assert started == [scope.run(1)]
        assert counts(snapshot) == {"fetch": (1, 1, 0, 0), "batch": (0, 0, 0, 1)}
        assert snapshot.oldest_waiting_s is not None
        assert snapshot.oldest_waiting_s >= 0

        release.set()

        async def drained() -> bool:
            return counts(await snapshot_arq(pool, scope.queue_name)) == {"batch": (0, 0, 0, 1)}

        await wait_until(drained, within=10, what="the queue to drain", state=state)
        assert started == [scope.run(1), scope.run(2)]
    finally:
        release.set()
        await worker.close()
        await asyncio.gather(running, return_exceptions=True)


async def test_track_failures_counts_errors_and_timeouts_not_retries(
    scope: Scope, pool: ArqRedis
) -> None:
    async def retries(ctx: dict[str, Any]) -> None:
        raise Retry(defer=1)

    async def hangs(ctx: dict[str, Any]) -> None:
        await asyncio.Event().wait()

    async def fine(ctx: dict[str, Any], value: int) -> int:
        return value * 2

    def ctx(job_id: str) -> dict[str, Any]:
        return {"redis": pool, "job_id": job_id, "job_try": 1}

    with pytest.raises(Retry):
        await track_failures(retries, scope.queue_name)(ctx(fetch_job_id(scope.run(0))))
    tracked = track_failures(hangs, scope.queue_name, timeout_s=0.05)
    with pytest.raises(TimeoutError):
        await tracked(ctx(batch_job_id(scope.run(1), 0)))
    assert await track_failures(fine, scope.queue_name)(ctx("x"), 21) == 42

    snapshot = await snapshot_arq(pool, scope.queue_name)
    assert counts(snapshot) == {"batch": (0, 0, 0, 1)}


async def test_failures_outside_the_window_are_not_counted(scope: Scope, pool: ArqRedis) -> None:
    now_ms = int(time.time() * 1000)
    old_ms = now_ms - int(FAILED_WINDOW_S * 1000) - 60_000
    await record_failure(pool, scope.queue_name, fetch_job_id(scope.run(0)), now_ms=old_ms)
    await record_failure(pool, scope.queue_name, fetch_job_id(scope.run(1)), now_ms=now_ms)
    await record_failure(pool, scope.queue_name, fetch_job_id(scope.run(1)), now_ms=now_ms + 1)

    snapshot = await snapshot_arq(pool, scope.queue_name, now_ms=now_ms + 2)
    assert counts(snapshot) == {"fetch": (0, 0, 0, 2)}  # the same job failing twice counts twice
    assert await pool.zcard(failed_key(scope.queue_name)) == 2  # the old one was dropped
    assert 0 < await pool.pttl(failed_key(scope.queue_name)) <= FAILED_WINDOW_S * 1000


async def test_a_large_queue_is_sampled_and_totals_stay_exact(scope: Scope, pool: ArqRedis) -> None:
    """5,000 due entries (1 fetch : 4 batches), 3,000 deferred (all fetches), 2,500 failures
    (all batches); two of the oldest due ones are in progress."""
    now_ms = int(time.time() * 1000)
    client: Redis = pool
    due = {}
    for i in range(5000):
        run_id = scope.run(i // 5)
        job_id = fetch_job_id(run_id) if i % 5 == 0 else batch_job_id(run_id, i % 5)
        due[job_id] = now_ms - 100_000 + i
    deferred = {fetch_job_id(scope.run(10_000 + i)): now_ms + 60_000 + i for i in range(3000)}
    failures = {
        f"batch|{batch_job_id(scope.run(i), 0)}|{now_ms - i}": now_ms - i for i in range(2500)
    }
    oldest = sorted(due, key=due.__getitem__)[:2]
    async with client.pipeline(transaction=False) as pipe:
        pipe.zadd(scope.queue_name, due)
        pipe.zadd(scope.queue_name, deferred)
        pipe.zadd(failed_key(scope.queue_name), failures)
        for job_id in oldest:
            pipe.set(f"arq:in-progress:{job_id}", b"1", px=60_000)
        await pipe.execute()

    snapshot = await snapshot_arq(pool, scope.queue_name, now_ms=now_ms)

    assert not snapshot.exact
    assert snapshot.total == KindCounts(waiting=4998, running=2, deferred=3000, failed=2500)
    fetch, batch = snapshot.kinds["fetch"], snapshot.kinds["batch"]
    assert (fetch.running, batch.running) == (1, 1)
    assert (fetch.deferred, batch.deferred) == (3000, 0)
    assert (fetch.failed, batch.failed) == (0, 2500)
    assert abs(fetch.waiting - 1000) <= 100, fetch  # an estimate from SAMPLE ids
    assert fetch.waiting + batch.waiting == 4998
    assert snapshot.oldest_waiting_s == pytest.approx((100_000 - 2) / 1000)
    assert SAMPLE < 4998


async def test_local_queue_snapshot_by_kind() -> None:
    release = asyncio.Event()
    queue = LocalQueue(concurrency=1, max_tries=2, job_timeout_s=5)
    started: list[str] = []

    async def fetch(ctx: TaskContext, run_id: str) -> None:
        started.append(run_id)
        await release.wait()

    async def batch(ctx: TaskContext, run_id: str, n: int) -> None:
        if n == 0:
            raise ValueError("broken batch")
        raise RetryLater(0.0, "try again")  # fails for good on the last of two tries

    queue.register(FETCH, fetch)
    queue.register(BATCH, batch)
    assert counts(queue.snapshot()) == {}
    assert await queue.enqueue(BATCH, "r0", 0, job_id=batch_job_id("r0", 0))
    assert await queue.enqueue(BATCH, "r0", 1, job_id=batch_job_id("r0", 1))
    assert await queue.enqueue(FETCH, "r1", job_id=fetch_job_id("r1"))
    assert await queue.enqueue(FETCH, "r2", job_id=fetch_job_id("r2"))
    assert await queue.enqueue(BATCH, "r3", 0, job_id=batch_job_id("r3", 0), defer_s=60)
    snapshot = queue.snapshot()
    assert snapshot.backend == "local"
    assert counts(snapshot) == {"fetch": (2, 0, 0, 0), "batch": (2, 0, 1, 0)}
    assert snapshot.oldest_waiting_s is not None
    queue.start()
    try:
        # The second try of batch 1 waits behind the running fetch (one task at a time).
        async def blocked() -> bool:
            return counts(queue.snapshot()) == {"fetch": (1, 1, 0, 0), "batch": (1, 0, 1, 1)}

        async def state() -> object:
            return counts(queue.snapshot())

        await wait_until(blocked, within=5, what="one fetch running", state=state)
        assert queue.stats().failed == 1  # stats() is unchanged: failures since start
        release.set()

        async def drained() -> bool:
            return counts(queue.snapshot()) == {"batch": (0, 0, 1, 2)}

        await wait_until(drained, within=5, what="the queue to drain", state=state)
        assert started == ["r1", "r2"]
        assert queue.snapshot().oldest_waiting_s is None
    finally:
        release.set()
        await queue.close()
    assert counts(queue.snapshot()) == {"batch": (0, 0, 0, 2)}  # close drops deferred tasks
