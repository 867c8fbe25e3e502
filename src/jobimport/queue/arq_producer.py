"""arq on Redis: connection settings, a JSON serializer, and the producer.

Task messages are JSON, not arq's default pickle: whoever can write to Redis must not be able to
run code in the workers. Messages carry only (run id, batch number); the items wait in the store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any, TypeVar

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.jobs import Job, JobStatus
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobimport.errors import ResourceUnavailable
from jobimport.queue.base import QueueUnavailable
from jobimport.queue.names import health_check_key
from jobimport.settings import Settings, mask_url_password

T = TypeVar("T")


async def bounded(call: Awaitable[T], timeout_s: float, what: str) -> T:
    """`call`, or QueueUnavailable when Redis fails or takes longer than `timeout_s` (a stopped
    Redis accepts connections and never answers: only a deadline ends the wait)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    except TimeoutError:
        raise QueueUnavailable(f"{what}: Redis did not answer within {timeout_s:g} s") from None
    except (RedisError, OSError) as exc:
        raise QueueUnavailable(f"{what}: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


async def check_redis(url: str, timeout_s: float) -> None:
    """PING Redis on a connection of its own (which also sends AUTH and SELECT); raise
    ResourceUnavailable naming the problem when it refuses or does not answer within
    `timeout_s`."""
    client: Redis = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        async with asyncio.timeout(timeout_s):
            await client.ping()
    except TimeoutError:
        raise _unusable(url, _no_answer(timeout_s)) from None
    except (RedisError, OSError) as exc:
        raise _unusable(url, one_line(exc)) from None
    finally:
        await client.aclose()


def _unusable(url: str, detail: str) -> ResourceUnavailable:
    where = mask_url_password(url)
    return ResourceUnavailable(f"Redis at {where} (JOBIMPORT_REDIS_URL) cannot be used: {detail}")


def _no_answer(timeout_s: float) -> str:
    return f"no answer within {timeout_s:g} s (JOBIMPORT_REDIS_CONNECT_TIMEOUT_S)"


def serialize(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def deserialize(data: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(data)
    return value


def redis_settings(settings: Settings) -> RedisSettings:
    if settings.redis_url is None:
        raise ValueError("JOBIMPORT_REDIS_URL is not set")
    # Fail fast: the supervisor and the reconciler handle an outage, not a long connect loop.
    return replace(RedisSettings.from_dsn(settings.redis_url), conn_timeout=2, conn_retries=0)


async def create_arq_pool(settings: Settings) -> ArqRedis:
    # arq bounds the connect but not its first PING: a stopped Redis would hold it forever.
    async with asyncio.timeout(settings.redis_connect_timeout_s):
        return await create_pool(
            redis_settings(settings),
            job_serializer=serialize,
            job_deserializer=deserialize,
            default_queue_name=settings.queue_name,
        )


async def open_arq_pool(settings: Settings) -> ArqRedis:
    """`create_arq_pool` at start-up: a failure is ResourceUnavailable naming Redis."""
    url = settings.redis_url or ""
    try:
        return await create_arq_pool(settings)
    except TimeoutError:
        raise _unusable(url, _no_answer(settings.redis_connect_timeout_s)) from None
    except (RedisError, OSError) as exc:
        raise _unusable(url, one_line(exc)) from None


class ArqProducer:
    """Enqueues tasks on arq with deterministic job ids (arq drops a duplicate id)."""

    def __init__(self, pool: ArqRedis, queue_name: str, timeout_s: float = 10.0) -> None:
        self._pool = pool
        self._queue_name = queue_name
        self._timeout_s = timeout_s

    async def enqueue(self, task: str, *args: str | int, job_id: str, defer_s: float = 0.0) -> bool:
        job = await bounded(
            self._pool.enqueue_job(
                task,
                *args,
                _job_id=job_id,
                _queue_name=self._queue_name,
                _defer_by=defer_s if defer_s > 0 else None,
            ),
            self._timeout_s,
            f"cannot enqueue {job_id}",
        )
        return job is not None


async def arq_job_pending(pool: ArqRedis, job_id: str) -> bool:
    """True while arq holds the job: queued, deferred (retry backoff) or in progress. Looks in
    the pool's queue (JOBIMPORT_QUEUE_NAME), not arq's default one."""
    status = await Job(job_id, pool, _queue_name=pool.default_queue_name).status()
    return status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress)


async def worker_alive(settings: Settings) -> bool:
    """True when a worker wrote its arq health-check key recently (it expires on its own)."""
    try:
        pool = await create_arq_pool(settings)
    except (RedisError, OSError):
        return False
    try:
        return bool(await pool.exists(health_check_key(settings.queue_name)))
    finally:
        await pool.aclose()
