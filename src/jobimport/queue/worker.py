"""The arq worker, embeddable in a running aiohttp process or run alone (`jobimport worker`).

Built inside the running loop with `handle_signals=False` (the host owns SIGTERM). If Redis goes
away, arq's main loop raises and `async_run` ends: `SupervisedWorker` rebuilds the worker with a
fresh pool and backs off until Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from arq import ArqRedis, Retry, cron
from arq.constants import retry_key_prefix
from arq.worker import Function, Worker, func
from redis.exceptions import RedisError

from jobimport.queue.arq_producer import create_arq_pool, deserialize, serialize
from jobimport.queue.base import DeferTask, RetryLater, TaskContext
from jobimport.queue.failures import track_failures
from jobimport.queue.names import BATCH, FETCH, health_check_key, tick_job_name
from jobimport.queue.tasks import Tasks
from jobimport.settings import Settings

log = structlog.get_logger(__name__)
HEALTH_CHECK_INTERVAL_S = 30
SHUTDOWN_GRACE_S = 5.0
"""How long a stopping worker lets its running jobs finish before it cancels (re-queues) them."""
Tick = Callable[[], Awaitable[Any]]


def _task_context(ctx: dict[str, Any], max_tries: int) -> TaskContext:
    return TaskContext(job_id=ctx["job_id"], job_try=ctx["job_try"], max_tries=max_tries)


def build_worker(settings: Settings, tasks: Tasks, tick: Tick | None, pool: Any) -> Worker:
    """An arq Worker running our tasks; `tick` (if given) runs as a unique cron every
    TICK_INTERVAL_S seconds, so with several workers each slot fires once."""

    async def fetch(ctx: dict[str, Any], run_id: str) -> None:
        try:
            await tasks.fetch(_task_context(ctx, settings.max_tries), run_id)
        except RetryLater as retry:
            raise Retry(defer=retry.defer_s) from retry
        except DeferTask as later:
            # arq counts a try per delivery (its retry key): give this one back, so waiting
            # for a host slot never uses up MAX_TRIES.
            with contextlib.suppress(RedisError, OSError):  # at worst this wait costs a try
                await ctx["redis"].decr(retry_key_prefix + ctx["job_id"])
            raise Retry(defer=later.defer_s) from later

    async def batch(ctx: dict[str, Any], run_id: str, n: int) -> None:
        try:
            await tasks.batch(_task_context(ctx, settings.max_tries), run_id, n)
        except RetryLater as retry:
            raise Retry(defer=retry.defer_s) from retry

    # arq keeps no results here (keep_result=0), so failures are recorded for GET /api/queue.
    queue = settings.queue_name
    functions: list[Function] = [
        func(track_failures(fetch, queue), name=FETCH, max_tries=settings.max_tries),
        func(track_failures(batch, queue), name=BATCH, max_tries=settings.max_tries),
    ]
    cron_jobs = []
    if tick is not None:

        async def run_tick(ctx: dict[str, Any]) -> None:
            del ctx
            await tick()

        step = settings.tick_interval_s
        cron_jobs.append(
            cron(
                track_failures(run_tick, queue),
                # arq's unique cron job id is `<name>:<slot>`, global in Redis: the queue in the
                # name keeps deployments that share a Redis from taking each other's slots.
                name=tick_job_name(settings.queue_name),
                second=set(range(0, 60, step)) if step < 60 else {0},
                unique=True,
                # No run_at_startup: its job id is the start time, unique to each worker, so
                # every worker would tick at start. The first tick comes at the next slot.
                run_at_startup=False,
                timeout=settings.job_timeout_s,
                max_tries=1,
            )
        )
    return Worker(
        functions=functions,
        cron_jobs=cron_jobs,
        redis_pool=pool,
        queue_name=settings.queue_name,
        health_check_key=health_check_key(settings.queue_name),
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        max_jobs=settings.max_concurrency,
        job_timeout=settings.job_timeout_s,
        max_tries=settings.max_tries,
        keep_result=0,  # results are in the store; a kept result would block re-enqueueing an id
        handle_signals=False,
        job_serializer=serialize,
        job_deserializer=deserialize,
        poll_delay=0.2,
    )


class SupervisedWorker:
    """Runs an arq worker and restarts it (new pool, backoff up to 10 s) whenever it ends."""

    def __init__(self, settings: Settings, tasks: Tasks, tick: Tick | None) -> None:
        self._settings = settings
        self._tasks = tasks
        self._tick = tick
        self._worker: Worker | None = None
        self._pool: ArqRedis | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0
        self.running = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="arq-worker")

    async def _supervise(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                self._pool = await create_arq_pool(self._settings)
                self._worker = build_worker(self._settings, self._tasks, self._tick, self._pool)
                self.running.set()
                delay = 0.5
                await self._worker.async_run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away (or never came): restart below
                log.warning("worker stopped; restarting", error=repr(exc), delay_s=delay)
            finally:
                self.running.clear()
                await self._close_worker()
            if self._stopping:
                return
            self.restarts += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _close_worker(self) -> None:
        worker, self._worker = self._worker, None
        pool, self._pool = self._pool, None
        grace_s = min(SHUTDOWN_GRACE_S, self._settings.job_timeout_s)
        if worker is not None and pool is not None:
            await stop_worker(worker, pool, grace_s=grace_s)
        elif pool is not None:
            with contextlib.suppress(RedisError, OSError):
                await pool.aclose(close_connection_pool=True)

    async def close(self) -> None:
        self._stopping = True
        await self._close_worker()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def stop_worker(worker: Worker, pool: ArqRedis, *, grace_s: float) -> None:
    """Stop an arq worker: take no new job, give the running ones `grace_s` to finish, cancel the
    rest (arq puts a cancelled job back on the queue, as on SIGTERM), then close the pool.

    Not `Worker.close()`: that cancels every job at once, so a job cancelled while arq records its
    outcome makes it raise CancelledError half-way, and any error there (Redis gone) skips closing
    the pool, whose sockets then leak."""
    worker.allow_pick_jobs = False
    main = worker.main_task
    if main is not None and not main.done():
        main.cancel()
        await asyncio.gather(main, return_exceptions=True)
    running = [task for task in worker.tasks.values() if not task.done()]
    if running:
        _, late = await asyncio.wait(running, timeout=grace_s)
        if late:
            log.warning("cancelling jobs still running at shutdown", jobs=len(late))
            for job in list(worker.job_tasks.values()):
                job.cancel()  # arq's run_job catches it and re-queues the job
            await asyncio.wait(late, timeout=grace_s)
        for task in running:
            if task.done() and not task.cancelled():
                task.exception()  # mark it retrieved: arq has logged the job's outcome
    with contextlib.suppress(RedisError, OSError):
        await pool.delete(worker.health_check_key)
    with contextlib.suppress(RedisError, OSError):
        await pool.aclose(close_connection_pool=True)
