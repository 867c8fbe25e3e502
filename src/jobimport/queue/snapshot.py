"""What the queue holds now, by kind of task: the data behind `GET /api/queue`. Reads only.

`snapshot_arq` reads what arq keeps in Redis for a queue, and the failures `failures.py`
records; `LocalQueue.snapshot()` reports the in-process queue the same way. Both give a
`QueueSnapshot`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from arq import ArqRedis
from arq.constants import in_progress_key_prefix

from jobimport.queue.failures import FAILED_WINDOW_S, failed_key, wall_clock_ms
from jobimport.queue.names import KINDS, Kind, kind_of_job_id

log = structlog.get_logger(__name__)

Backend = Literal["arq", "local"]
_KIND_NAMES: dict[str, Kind] = {kind: kind for kind in KINDS}

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
    now = wall_clock_ms() if now_ms is None else now_ms
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
