"""What the queue holds now, by kind of task: the data behind `GET /api/queue`.

`snapshot_arq` reads what arq keeps in Redis for a queue; `LocalQueue.snapshot()` reports the
in-process queue the same way. Both give a `QueueSnapshot`.

Recently failed tasks (arq): the worker runs with `keep_result=0`, on purpose (a kept result
makes arq refuse the same job id, which the reconciler reuses to re-enqueue a stuck run), so arq
itself remembers no failure. Failures are recorded instead in a sorted set of our own next to the
queue (`failed_key`), by `record_failure`, which the worker's task functions call through
`track_failures`; entries older than `FAILED_WINDOW_S` are dropped as new ones are added, and the
key expires when no task has failed for that long.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from arq import ArqRedis, Retry
from arq.constants import in_progress_key_prefix
from arq.typing import WorkerCoroutine
from redis.exceptions import RedisError

from jobimport.queue.names import BATCH, FETCH, TICK

log = structlog.get_logger(__name__)

Kind = Literal["fetch", "batch", "tick", "other"]
KINDS: tuple[Kind, ...] = ("fetch", "batch", "tick", "other")
Backend = Literal["arq", "local"]
_KIND_NAMES: dict[str, Kind] = {kind: kind for kind in KINDS}

FAILED_WINDOW_S = 3600.0
"""How far back "recently failed" looks, on both queues."""
MAX_FAILED_KEPT = 10_000
"""Cap on the failure entries kept per queue, whatever the window."""
HEAD = 1000
"""How many of the oldest ready entries are checked for an in-progress key (running)."""
SAMPLE = 1000
"""Above this many entries in a state, the per-kind split is estimated from a sample."""
SAMPLE_CHUNKS = 10
"""A sample is this many runs of consecutive entries, spread evenly over the state's range."""


@dataclass(frozen=True, slots=True)
class KindCounts:
    waiting: int = 0
    running: int = 0
    deferred: int = 0
    failed: int = 0

    def __add__(self, other: KindCounts) -> KindCounts:
        return KindCounts(
            self.waiting + other.waiting,
            self.running + other.running,
            self.deferred + other.deferred,
            self.failed + other.failed,
        )

    def to_json(self) -> dict[str, int]:
        return {
            "waiting": self.waiting,
            "running": self.running,
            "deferred": self.deferred,
            "failed": self.failed,
        }


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """The queue at one moment. `waiting`: due, not started; `running`: started, not ended;
    `deferred`: due later (retry backoff, or enqueued with a delay); `failed`: ended in failure
    within the last `failed_window_s` seconds. `oldest_waiting_s`: how long the oldest waiting
    task has been due. `exact` is False when a per-kind split was estimated from a sample (the
    totals are exact either way)."""

    backend: Backend
    kinds: Mapping[Kind, KindCounts]
    oldest_waiting_s: float | None
    failed_window_s: float
    exact: bool = True

    @property
    def total(self) -> KindCounts:
        return sum((self.kinds.get(kind, KindCounts()) for kind in KINDS), KindCounts())

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "total": self.total.to_json(),
            "kinds": {kind: self.kinds.get(kind, KindCounts()).to_json() for kind in KINDS},
            "oldestWaitingS": self.oldest_waiting_s,
            "failedWindowS": self.failed_window_s,
            "exact": self.exact,
        }


def kind_of_task(task: str) -> Kind:
    """The kind of a task by its name (names.py); the tick's cron name carries its queue."""
    if task == FETCH:
        return "fetch"
    if task == BATCH:
        return "batch"
    if task == TICK or task.startswith(TICK + ":"):
        return "tick"
    return "other"


def kind_of_job_id(job_id: str) -> Kind:
    """The kind of an arq job by its deterministic id (names.py): `run:<id>:fetch`,
    `run:<id>:batch:<n>`, and the tick's `jobimport.tick:<queue>:<slot ms>`."""
    if job_id.startswith("run:"):
        if job_id.endswith(":fetch"):
            return "fetch"
        if job_id.rpartition(":")[0].endswith(":batch"):
            return "batch"
    if job_id.startswith(TICK + ":"):
        return "tick"
    return "other"


def failed_key(queue_name: str) -> str:
    """Our sorted set of the queue's recent failures: member `<kind>|<job id>|<ms>`, score ms."""
    return f"{queue_name}:failed"


def _now_ms() -> int:
    return int(time.time() * 1000)  # arq scores jobs by the wall clock in ms


async def record_failure(
    redis: ArqRedis, queue_name: str, job_id: str, *, now_ms: int | None = None
) -> None:
    """Remember that `job_id` ended in failure for good. Never raises: it is called while a
    task's own error propagates, and losing a count is better than masking that error."""
    now = _now_ms() if now_ms is None else now_ms
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


def _spread(lo: int, hi: int) -> list[tuple[int, int]]:
    """Inclusive rank ranges covering [lo, hi) whole when small, else SAMPLE entries in
    SAMPLE_CHUNKS runs spread evenly over it."""
    size = hi - lo
    if size <= 0:
        return []
    if size <= SAMPLE:
        return [(lo, hi - 1)]
    run = SAMPLE // SAMPLE_CHUNKS
    step = (size - run) / (SAMPLE_CHUNKS - 1)
    return [(lo + round(i * step), lo + round(i * step) + run - 1) for i in range(SAMPLE_CHUNKS)]


def _estimate(sample: Iterable[Kind], total: int) -> dict[Kind, int]:
    """Split `total` by kind in the proportions of `sample` (largest remainders), so the parts
    add up to `total`. Exact when the sample is the whole state."""
    seen = Counter(sample)
    size = sum(seen.values())
    if total <= 0:
        return {}
    if size == 0:  # entries moved between the two reads
        return {"other": total}
    shares = {kind: seen[kind] * total / size for kind in KINDS}
    parts = {kind: int(share) for kind, share in shares.items()}
    by_remainder = sorted(KINDS, key=lambda k: shares[k] - parts[k], reverse=True)
    for kind in by_remainder[: total - sum(parts.values())]:
        parts[kind] += 1
    return parts


@dataclass(slots=True)
class _States:
    waiting: dict[Kind, int] = field(default_factory=dict)
    running: dict[Kind, int] = field(default_factory=dict)
    deferred: dict[Kind, int] = field(default_factory=dict)
    failed: dict[Kind, int] = field(default_factory=dict)

    def by_kind(self) -> dict[Kind, KindCounts]:
        return {
            kind: KindCounts(
                waiting=self.waiting.get(kind, 0),
                running=self.running.get(kind, 0),
                deferred=self.deferred.get(kind, 0),
                failed=self.failed.get(kind, 0),
            )
            for kind in KINDS
        }


async def snapshot_arq(
    redis: ArqRedis, queue_name: str, *, now_ms: int | None = None
) -> QueueSnapshot:
    """The arq queue `queue_name` now, in two round trips whatever its size.

    arq keeps a queue as a sorted set of job ids scored by when they may run (ms): score <= now
    is due (waiting or running), score > now is deferred. Running jobs stay in the set and have
    an `arq:in-progress:<id>` key. Counts come from ZCARD/ZCOUNT, so they are exact. Running is
    found among the HEAD oldest due entries: arq starts due jobs in score order, at most
    `max_jobs` per worker, so they are there unless more than HEAD jobs run at once. The kind
    of a job comes from its id (names.py), so no job definition is read. When a state holds
    more than SAMPLE entries, its kind split is estimated from SAMPLE ids read by rank in
    SAMPLE_CHUNKS runs spread over it, and `exact` is False. arq's `queued_jobs()` and
    `all_job_results()` are not used: they read every job (and KEYS the whole database).
    """
    now = _now_ms() if now_ms is None else now_ms
    failures = failed_key(queue_name)
    since = now - int(FAILED_WINDOW_S * 1000)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zcard(queue_name)
        pipe.zcount(queue_name, "-inf", now)
        pipe.zrange(queue_name, 0, HEAD - 1, withscores=True)
        pipe.zcard(failures)
        pipe.zcount(failures, since, "+inf")
        total, due, head, failed_card, failed_count = await pipe.execute()
    head_due = [(_text(member), score) for member, score in head if score <= now]

    async with redis.pipeline(transaction=False) as pipe:
        if head_due:
            pipe.mget([in_progress_key_prefix + job_id for job_id, _ in head_due])
        waiting_ranges = [] if due <= HEAD else _spread(0, due)
        for start, end in waiting_ranges:
            pipe.zrange(queue_name, start, end, withscores=True)
        deferred_ranges = _spread(due, total)
        for start, end in deferred_ranges:
            pipe.zrange(queue_name, start, end, withscores=True)
        failed_ranges = _spread(failed_card - failed_count, failed_card)
        for start, end in failed_ranges:
            pipe.zrange(failures, start, end)
        replies: list[Any] = list(await pipe.execute())

    in_progress = replies.pop(0) if head_due else []
    running_ids = {
        job_id for (job_id, _), flag in zip(head_due, in_progress, strict=True) if flag is not None
    }
    states = _States()
    states.running = dict(Counter(kind_of_job_id(job_id) for job_id in running_ids))
    running = len(running_ids)

    waiting_ids = [job_id for job_id, _ in head_due if job_id not in running_ids]
    oldest = next((score for job_id, score in head_due if job_id not in running_ids), None)
    if oldest is None and due > len(head_due) and head_due:
        oldest = head_due[-1][1]  # every checked one runs: the next waiting one is younger
    if waiting_ranges:
        sampled = [
            _text(m) for reply in replies[: len(waiting_ranges)] for m, s in reply if s <= now
        ]
        waiting_ids = [job_id for job_id in sampled if job_id not in running_ids]
        replies = replies[len(waiting_ranges) :]
    states.waiting = _estimate(map(kind_of_job_id, waiting_ids), max(due - running, 0))

    deferred_ids = [
        _text(m) for reply in replies[: len(deferred_ranges)] for m, s in reply if s > now
    ]
    states.deferred = _estimate(map(kind_of_job_id, deferred_ids), total - due)
    replies = replies[len(deferred_ranges) :]
    failed_kinds = [_failure_kind(_text(m)) for reply in replies for m in reply]
    states.failed = _estimate(failed_kinds, failed_count)

    return QueueSnapshot(
        backend="arq",
        kinds=states.by_kind(),
        oldest_waiting_s=None if oldest is None else max(now - oldest, 0) / 1000,
        failed_window_s=FAILED_WINDOW_S,
        exact=due <= HEAD and total - due <= SAMPLE and failed_count <= SAMPLE,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _failure_kind(member: str) -> Kind:
    return _KIND_NAMES.get(member.partition("|")[0], "other")
