"""arq on Redis: connection settings, a JSON serializer, and the producer.

Task messages are JSON, not arq's default pickle: whoever can write to Redis must not be able to
run code in the workers. Messages carry only (run id, batch number); the items wait in the store.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError

from jobimport.errors import JobImportError
from jobimport.queue.names import health_check_key
from jobimport.settings import Settings


class QueueUnavailable(JobImportError):
    """Redis could not be reached to enqueue a task; the run waits in the store (reconciler)."""


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
    return await create_pool(
        redis_settings(settings),
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=settings.queue_name,
    )


class ArqProducer:
    """Enqueues tasks on arq with deterministic job ids (arq drops a duplicate id)."""

    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self._pool = pool
        self._queue_name = queue_name

    async def enqueue(self, task: str, *args: str | int, job_id: str, defer_s: float = 0.0) -> bool:
        try:
            job = await self._pool.enqueue_job(
                task,
                *args,
                _job_id=job_id,
                _queue_name=self._queue_name,
                _defer_by=defer_s if defer_s > 0 else None,
            )
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(f"cannot enqueue {job_id}: {exc}") from exc
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
