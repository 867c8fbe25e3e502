"""The resources of a process, one async context manager each: store, event bus, queue, and the
task processing (worker or in-process queue, plus the scheduler tick). The CLI composes them with
`open_runtime`; the web app enters each in its own `cleanup_ctx` (`web/app.py`).

Roles: `worker` runs tasks and the scheduler tick; `web` only enqueues; `all` does both; `inline`
runs tasks on an in-process queue with no tick (what `jobimport import` uses).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiohttp
import structlog
from arq import ArqRedis

from jobimport.alerts import AlertSender
from jobimport.errors import StoreDamaged, StoreError, StoreUnavailable
from jobimport.events.hub import EventBus, Hub
from jobimport.events.redis_bus import RedisBus, stream_key
from jobimport.events.types import Publish, RunEvent
from jobimport.models import utc_now
from jobimport.pipeline import Pipeline
from jobimport.queue.arq_producer import (
    ArqProducer,
    arq_job_pending,
    bounded,
    check_redis,
    open_arq_pool,
)
from jobimport.queue.base import Producer
from jobimport.queue.hostslots import LEASE_MARGIN_S, HostSlots, LocalHostSlots, RedisHostSlots
from jobimport.queue.local import LocalQueue, run_every
from jobimport.queue.names import BATCH, FETCH
from jobimport.queue.snapshot import QueueSnapshot, snapshot_arq
from jobimport.queue.tasks import Tasks
from jobimport.queue.worker import SupervisedWorker
from jobimport.reader.fetch import make_client_session
from jobimport.scheduler import PendingCheck, Scheduler, pause_unusable_feeds
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import Store

Role = Literal["all", "web", "worker", "inline"]
ROLES: tuple[Role, ...] = ("all", "web", "worker", "inline")
LOCAL_GRACE_S = 4.0
ALERT_DRAIN_S = 5.0
"""On shutdown, alert deliveries under way get this long to finish."""
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Events:
    """`hub`: this process's events, in process. `bus`: the deployment's events (the Redis Stream
    when Redis is configured, else the hub itself). `publish` sends to both, once each."""

    hub: Hub
    bus: EventBus
    publish: Publish


@dataclass(frozen=True, slots=True)
class QueueHandle:
    """The queue of this process: arq on Redis (`pool`) or in-process (`local`). Each read of
    Redis made for a request gives up after `timeout_s` (REDIS_TIMEOUT_S) with QueueUnavailable."""

    producer: Producer
    is_pending: PendingCheck
    slots: HostSlots
    local: LocalQueue | None = None
    pool: ArqRedis | None = None
    queue_name: str = ""
    timeout_s: float = 2.0

    async def snapshot(self) -> QueueSnapshot:
        """What the queue holds now, by kind of task (GET /api/queue)."""
        if self.local is not None:
            return self.local.snapshot()
        assert self.pool is not None
        return await bounded(
            snapshot_arq(self.pool, self.queue_name), self.timeout_s, "cannot read the queue"
        )

    async def depth(self) -> int:
        """Tasks waiting or deferred (not running)."""
        if self.local is not None:
            stats = self.local.stats()
            return stats.waiting + stats.deferred
        assert self.pool is not None
        return int(await bounded(self.pool.zcard(self.queue_name), self.timeout_s, "queue depth"))

    async def check(self) -> None:
        """Raise QueueUnavailable unless Redis answers a PING in time (no-op in-process)."""
        if self.pool is not None:
            await bounded(self.pool.ping(), self.timeout_s, "the queue cannot be reached")


@dataclass(frozen=True, slots=True)
class Services:
    """The objects that do the work, bound to the resources above. Built, never closed."""

    pipeline: Pipeline
    tasks: Tasks
    scheduler: Scheduler


@dataclass(slots=True)
class Processing:
    """What runs tasks in this process, if anything: the in-process queue and its tick, or the
    supervised arq worker (which runs the tick as a unique cron)."""

    local: LocalQueue | None = None
    worker: SupervisedWorker | None = None
    ticker: asyncio.Task[None] | None = None

    @property
    def runs_tasks(self) -> bool:
        return self.local is not None or self.worker is not None

    def healthy(self) -> bool:
        if self.worker is not None:
            return self.worker.running.is_set()
        return self.local is not None and (self.ticker is None or not self.ticker.done())


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    role: Role
    store: Store
    session: aiohttp.ClientSession
    events: Events
    queue: QueueHandle
    pipeline: Pipeline
    tasks: Tasks
    scheduler: Scheduler
    processing: Processing

    @property
    def hub(self) -> Hub:
        return self.events.hub

    @property
    def bus(self) -> EventBus:
        return self.events.bus

    @property
    def producer(self) -> Producer:
        return self.queue.producer

    @property
    def local_queue(self) -> LocalQueue | None:
        return self.queue.local

    @property
    def worker(self) -> SupervisedWorker | None:
        return self.processing.worker


def uses_redis(settings: Settings, role: Role) -> bool:
    return bool(settings.redis_url) and role != "inline"


def fan_out(*targets: Publish) -> Publish:
    async def publish(event: RunEvent) -> None:
        for target in targets:
            await target(event)

    return publish


@contextlib.asynccontextmanager
async def store_context(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Store]:
    """The opened (and migrated) store, with the configured feeds (JOBIMPORT_FEEDS) seeded and
    the feeds whose stored settings are now refused paused, with a note."""
    store = open_store(
        settings.database_url, clock=clock, expire_after_runs=settings.expire_after_runs
    )
    await store.open()
    try:
        await store.seed_feeds(settings.feeds)
        await pause_unusable_feeds(store)
        yield store
    finally:
        await store.close()


@dataclass(slots=True)
class StoreHealth:
    """The outcome of this process's last integrity check of the store (`Store.check_integrity`:
    SQLite's quick_check). `problem` None: passed, or not checked yet; `checks` counts the
    checks that reached a verdict."""

    problem: str | None = None
    checked_at: datetime | None = None
    checks: int = 0

    async def check(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        try:
            problem = await store.check_integrity()
        except StoreDamaged as exc:
            problem = str(exc)
        except StoreUnavailable as exc:  # busy or unreachable: no verdict either way
            log.warning("store integrity check could not run", error=str(exc))
            return
        except StoreError as exc:
            problem = f"the check could not run: {exc}"
        self.problem, self.checked_at, self.checks = problem, clock(), self.checks + 1
        if problem is not None:
            log.error("store integrity check failed", problem=problem)


@contextlib.asynccontextmanager
async def store_check_context(
    settings: Settings, store: Store, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[StoreHealth]:
    """Check the store's integrity in the background: at start (never awaited, so start-up does
    not wait on it) and then every STORE_CHECK_INTERVAL_S after the previous check ended (0:
    never). Requests only read the outcome."""
    health = StoreHealth()
    interval_s = settings.store_check_interval_s
    if interval_s <= 0:
        yield health
        return

    async def loop() -> None:
        while True:
            try:
                await health.check(store, clock)
            except Exception:  # a bug in a check must not end the checks
                log.exception("store integrity check failed to run")
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(loop(), name="store-check")
    try:
        yield health
    finally:
        await _cancel(task)


@contextlib.asynccontextmanager
async def events_context(
    settings: Settings, role: Role, extra_publish: Publish | None = None
) -> AsyncIterator[Events]:
    """The event hub, and with Redis the stream every replica publishes to and reads from."""
    hub = Hub(replay=settings.events_replay)
    targets: list[Publish] = [hub.publish]
    bus: EventBus = hub
    redis_bus: RedisBus | None = None
    if settings.redis_url and uses_redis(settings, role):
        # Before anything starts: a Redis that cannot be used stops start-up with one line.
        await check_redis(settings.redis_url, settings.redis_connect_timeout_s)
    if settings.redis_url:  # even `inline`: a web replica then shows CLI imports too
        redis_bus = RedisBus(
            settings.redis_url,
            stream_key(settings.queue_name),
            max_len=settings.events_replay,
            publish_timeout_s=settings.redis_timeout_s,
        )
        bus = redis_bus
        targets.append(redis_bus.publish)
        if role in ("all", "web"):
            await redis_bus.start()  # before anything is published: no event is missed
    if extra_publish is not None:
        targets.append(extra_publish)
    # Alerts leave from the process whose pipeline decided them, never from the subscribers.
    alerts = AlertSender(settings) if settings.alert_webhook_url else None
    if alerts is not None:
        targets.append(alerts.publish)
    try:
        yield Events(hub=hub, bus=bus, publish=fan_out(*targets))
    finally:
        hub.close()
        if alerts is not None:
            await alerts.aclose(ALERT_DRAIN_S)
        if redis_bus is not None:
            await redis_bus.aclose()


@contextlib.asynccontextmanager
async def queue_context(settings: Settings, role: Role) -> AsyncIterator[QueueHandle]:
    """arq on Redis when configured (not for `inline`), else the in-process queue (not started)."""
    if uses_redis(settings, role):
        pool = await open_arq_pool(settings)
        try:

            async def arq_pending(job_id: str) -> bool:
                return await arq_job_pending(pool, job_id)

            yield QueueHandle(
                producer=ArqProducer(pool, settings.queue_name, settings.redis_timeout_s),
                is_pending=arq_pending,
                # Counted in Redis: every worker of the queue shares MAX_PER_HOST per host.
                slots=RedisHostSlots(
                    pool,
                    settings.queue_name,
                    settings.max_per_host,
                    lease_ttl_s=settings.job_timeout_s + LEASE_MARGIN_S,
                ),
                pool=pool,
                queue_name=settings.queue_name,
                timeout_s=settings.redis_timeout_s,
            )
        finally:
            await pool.aclose()
        return
    local = LocalQueue(
        concurrency=settings.max_concurrency,
        max_tries=settings.max_tries,
        job_timeout_s=settings.job_timeout_s,
    )
    try:
        yield QueueHandle(
            producer=local,
            is_pending=local.is_pending,
            slots=LocalHostSlots(settings.max_per_host),
            local=local,
        )
    finally:
        await local.close()


def build_services(
    settings: Settings,
    store: Store,
    session: aiohttp.ClientSession,
    events: Events,
    queue: QueueHandle,
    clock: Callable[[], datetime] = utc_now,
) -> Services:
    pipeline = Pipeline(settings, store, session, publish=events.publish)
    tasks = Tasks(settings, pipeline, queue.producer, queue.slots)
    scheduler = Scheduler(
        settings, store, pipeline, queue.producer, queue.is_pending, clock, events.publish
    )
    return Services(pipeline=pipeline, tasks=tasks, scheduler=scheduler)


@contextlib.asynccontextmanager
async def processing_context(
    settings: Settings, role: Role, queue: QueueHandle, services: Services
) -> AsyncIterator[Processing]:
    """Start running tasks (and the tick) if the role does; on exit stop taking new ones. arq
    hands the tasks it was running back to the queue; the in-process queue's are picked up by
    the reconciler at the next start."""
    processing = Processing()
    async with contextlib.AsyncExitStack() as stack:
        if queue.local is not None and role in ("all", "worker", "inline"):
            local = queue.local
            local.register(FETCH, services.tasks.fetch)
            local.register(BATCH, services.tasks.batch)
            local.start()
            processing.local = local
            # On exit, running tasks get the same grace as an arq worker's (the store's runs
            # of anything cut short are reconciled at the next start).
            stack.push_async_callback(local.close, LOCAL_GRACE_S)
            if role != "inline":
                # Nothing survives a restart in this queue: pick up the previous process's runs.
                await services.scheduler.reconcile(idle_s=0)
                processing.ticker = asyncio.create_task(
                    run_every(settings.tick_interval_s, services.scheduler.tick), name="tick"
                )
                stack.push_async_callback(_cancel, processing.ticker)
        elif queue.pool is not None and role in ("all", "worker"):
            worker = SupervisedWorker(settings, services.tasks, services.scheduler.tick)
            worker.start()
            processing.worker = worker
            stack.push_async_callback(worker.close)
        yield processing


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    role: Role,
    *,
    extra_publish: Publish | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> AsyncIterator[Runtime]:
    """Open every resource the role needs, and close them in reverse order on exit."""
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(store_context(settings, clock))
        session = await stack.enter_async_context(make_client_session(settings))
        events = await stack.enter_async_context(events_context(settings, role, extra_publish))
        queue = await stack.enter_async_context(queue_context(settings, role))
        services = build_services(settings, store, session, events, queue, clock)
        processing = await stack.enter_async_context(
            processing_context(settings, role, queue, services)
        )
        yield Runtime(
            settings=settings,
            role=role,
            store=store,
            session=session,
            events=events,
            queue=queue,
            pipeline=services.pipeline,
            tasks=services.tasks,
            scheduler=services.scheduler,
            processing=processing,
        )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
