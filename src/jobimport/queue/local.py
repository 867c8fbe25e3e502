"""The in-process queue: the embedded default when no Redis is configured.

It runs the same task code with the same rules as the arq worker: MAX_CONCURRENCY tasks at once,
deterministic job ids (a job already queued or running is not queued twice), RetryLater with
exponential backoff up to MAX_TRIES, DeferTask (run again later as the same try), JOB_TIMEOUT_S
per task (a timeout is final, as in arq).
It does not promise what Redis gives: queued tasks are lost when the process exits (the runs stay
in the store, and the reconciler re-enqueues them at the next start), and it serves one process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from jobimport.queue.base import DeferTask, RetryLater, TaskContext
from jobimport.queue.failures import FAILED_WINDOW_S, MAX_FAILED_KEPT
from jobimport.queue.names import KINDS, Kind, kind_of_task
from jobimport.queue.snapshot import KindCounts, QueueSnapshot

Handler = Callable[..., Awaitable[None]]
log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Job:
    task: str
    args: tuple[str | int, ...]
    job_id: str
    job_try: int = 1


@dataclass(slots=True)
class QueueStats:
    """What the queue holds now, and how many tasks ended in failure since start."""

    waiting: int = 0
    running: int = 0
    deferred: int = 0
    failed: int = 0
    oldest_waiting_s: float | None = None


class LocalQueue:
    """An asyncio task queue. `start()` inside a running loop, `close()` to stop."""

    def __init__(self, *, concurrency: int, max_tries: int, job_timeout_s: float) -> None:
        self._concurrency = concurrency
        self._max_tries = max_tries
        self._job_timeout_s = job_timeout_s
        self._handlers: dict[str, Handler] = {}
        self._ready: asyncio.Queue[_Job] = asyncio.Queue()
        self._known: set[str] = set()
        self._deferred: dict[str, asyncio.TimerHandle] = {}
        self._waiting_since: dict[str, float] = {}
        self._running = 0
        self._failed = 0
        # By kind, for snapshot(): job ids of deferred jobs, counts of waiting and running ones,
        # and (monotonic time, kind) of recent failures.
        self._deferred_kinds: dict[str, Kind] = {}
        self._waiting_kinds: Counter[Kind] = Counter()
        self._running_kinds: Counter[Kind] = Counter()
        self._failures: deque[tuple[float, Kind]] = deque(maxlen=MAX_FAILED_KEPT)
        self._workers: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    def register(self, task: str, handler: Handler) -> None:
        self._handlers[task] = handler

    async def enqueue(self, task: str, *args: str | int, job_id: str, defer_s: float = 0.0) -> bool:
        if task not in self._handlers:
            raise ValueError(f"no handler for task {task!r}")
        if job_id in self._known:
            return False
        self._known.add(job_id)
        self._idle.clear()
        self._schedule(_Job(task, args, job_id), defer_s)
        return True

    def _schedule(self, job: _Job, defer_s: float) -> None:
        if defer_s <= 0:
            self._make_ready(job)
            return

        def ready() -> None:
            self._deferred.pop(job.job_id, None)
            self._deferred_kinds.pop(job.job_id, None)
            self._make_ready(job)

        self._deferred[job.job_id] = asyncio.get_running_loop().call_later(defer_s, ready)
        self._deferred_kinds[job.job_id] = kind_of_task(job.task)

    def _make_ready(self, job: _Job) -> None:
        self._waiting_since[job.job_id] = time.monotonic()
        self._waiting_kinds[kind_of_task(job.task)] += 1
        self._ready.put_nowait(job)

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"local-queue-{i}")
                for i in range(self._concurrency)
            ]

    @property
    def closing(self) -> bool:
        """True once `close()` began: no new task starts."""
        return self._closing

    async def close(self, grace_s: float = 0.0) -> None:
        """Stop: take no new task, give the running ones `grace_s` to finish, cancel the rest.
        What did not run stays in flight in the store; the reconciler restarts it next time."""
        self._closing = True
        for handle in self._deferred.values():
            handle.cancel()
        self._deferred.clear()
        self._deferred_kinds.clear()
        busy = [worker for worker in self._workers if worker in self._busy]
        for worker in self._workers:
            if worker not in self._busy:
                worker.cancel()  # idle: waiting for a task that must not start now
        if busy and grace_s > 0:
            await asyncio.wait(busy, timeout=grace_s)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def is_pending(self, job_id: str) -> bool:
        """True while the job is queued, deferred or running here."""
        return job_id in self._known

    async def join(self) -> None:
        """Wait until nothing is queued, deferred or running."""
        await self._idle.wait()

    def stats(self) -> QueueStats:
        oldest = None
        if self._waiting_since:
            oldest = time.monotonic() - min(self._waiting_since.values())
        return QueueStats(
            waiting=self._ready.qsize(),
            running=self._running,
            deferred=len(self._deferred),
            failed=self._failed,
            oldest_waiting_s=oldest,
        )

    def snapshot(self) -> QueueSnapshot:
        """`stats()` by kind of task, with failures counted over the last FAILED_WINDOW_S only
        (the same shape as the arq queue's snapshot)."""
        stats = self.stats()
        since = time.monotonic() - FAILED_WINDOW_S
        while self._failures and self._failures[0][0] < since:
            self._failures.popleft()
        failed = Counter(kind for _, kind in self._failures)
        deferred = Counter(self._deferred_kinds.values())
        kinds = {
            kind: KindCounts(
                waiting=self._waiting_kinds[kind],
                running=self._running_kinds[kind],
                deferred=deferred[kind],
                failed=failed[kind],
            )
            for kind in KINDS
        }
        return QueueSnapshot(
            backend="local",
            kinds=kinds,
            oldest_waiting_s=stats.oldest_waiting_s,
            failed_window_s=FAILED_WINDOW_S,
        )

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None  # started with create_task
        while not self._closing:
            job = await self._ready.get()
            kind = kind_of_task(job.task)
            self._waiting_since.pop(job.job_id, None)
            self._waiting_kinds[kind] -= 1
            self._running += 1
            self._running_kinds[kind] += 1
            self._busy.add(me)
            try:
                await self._run(job)
            finally:
                self._running -= 1
                self._running_kinds[kind] -= 1
                self._busy.discard(me)

    async def _run(self, job: _Job) -> None:
        ctx = TaskContext(job_id=job.job_id, job_try=job.job_try, max_tries=self._max_tries)
        handler = self._handlers[job.task]
        try:
            await asyncio.wait_for(handler(ctx, *job.args), self._job_timeout_s)
        except DeferTask as later:
            self._schedule(job, later.defer_s)  # the same try, still known: waiting, not lost
            return
        except RetryLater as retry:
            if job.job_try < self._max_tries:
                log.info("task retry", job_id=job.job_id, job_try=job.job_try, reason=retry.reason)
                job.job_try += 1
                self._schedule(job, retry.defer_s)
                return
            self._count_failure(job)
            log.error("task failed after last try", job_id=job.job_id, reason=retry.reason)
        except TimeoutError:
            self._count_failure(job)
            log.error("task timed out", job_id=job.job_id, timeout_s=self._job_timeout_s)
        except Exception:
            self._count_failure(job)
            log.exception("task failed", job_id=job.job_id)
        self._finish(job)

    def _count_failure(self, job: _Job) -> None:
        self._failed += 1
        self._failures.append((time.monotonic(), kind_of_task(job.task)))

    def _finish(self, job: _Job) -> None:
        self._known.discard(job.job_id)
        if not self._known:
            self._idle.set()


async def run_every(interval_s: float, step: Callable[[], Awaitable[object]]) -> None:
    """Call `step` now and then at every multiple of `interval_s` on the wall clock, forever;
    an exception is logged and the next slot still runs (the in-process stand-in for arq cron)."""
    while True:
        try:
            await step()
        except Exception:
            log.exception("periodic step failed")
        await asyncio.sleep(interval_s - time.time() % interval_s)
