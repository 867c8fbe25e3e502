"""Tasks that failed for good, recorded in a sorted set of our own next to the arq queue.

The worker runs with `keep_result=0`, on purpose (a kept result makes arq refuse the same job id,
which the reconciler reuses to re-enqueue a stuck run), so arq itself remembers no failure. The
worker's task functions call `record_failure` through `track_failures`; entries older than
`FAILED_WINDOW_S` are dropped as new ones are added, and the key expires when no task has
failed for that long. `snapshot.py` reads the set for `GET /api/queue`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import structlog
from arq import ArqRedis, Retry
from arq.typing import WorkerCoroutine
from redis.exceptions import RedisError

from jobimport.queue.names import kind_of_job_id

log = structlog.get_logger(__name__)
FAILED_WINDOW_S = 3600.0
"""How far back "recently failed" looks, on both queues."""


MAX_FAILED_KEPT = 10_000
"""Cap on the failure entries kept per queue, whatever the window."""


def failed_key(queue_name: str) -> str:
    """Our sorted set of the queue's recent failures: member `<kind>|<job id>|<ms>`, score ms."""
    return f"{queue_name}:failed"


def wall_clock_ms() -> int:
    return int(time.time() * 1000)  # arq scores jobs by the wall clock in ms


async def record_failure(
    redis: ArqRedis, queue_name: str, job_id: str, *, now_ms: int | None = None
) -> None:
    """Remember that `job_id` ended in failure for good. Never raises: it is called while a
    task's own error propagates, and losing a count is better than masking that error."""
    now = wall_clock_ms() if now_ms is None else now_ms
    window_ms = int(FAILED_WINDOW_S * 1000)
    key = failed_key(queue_name)
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {f"{kind_of_job_id(job_id)}|{job_id}|{now}": now})
            pipe.zremrangebyscore(key, "-inf", now - window_ms)
            pipe.zremrangebyrank(key, 0, -(MAX_FAILED_KEPT + 1))
            pipe.pexpire(key, window_ms)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("task failure not recorded", job_id=job_id, error=str(exc))


def track_failures(
    task: WorkerCoroutine, queue_name: str, *, timeout_s: float | None = None
) -> WorkerCoroutine:
    """Wrap an arq task function so that ending in failure for good is recorded
    (`record_failure`). `Retry` is not a failure; any other exception is (arq does not retry
    it). arq's own timeout cancels the task, which looks like a shutdown from inside: to count
    timeouts, pass `timeout_s` and give arq a slightly longer timeout, so this one fires first
    and ends the task with TimeoutError (a final failure in arq too). Jobs arq fails before
    running them (max tries exceeded on redelivery, definition expired) are not counted."""

    @functools.wraps(task)
    async def tracked(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            if timeout_s is None:
                return await task(ctx, *args, **kwargs)
            async with asyncio.timeout(timeout_s):
                return await task(ctx, *args, **kwargs)
        except Retry:
            raise
        except Exception:
            await record_failure(ctx["redis"], queue_name, ctx["job_id"])
            raise

    return tracked
