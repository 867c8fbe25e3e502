"""What task code needs from a queue, whichever queue runs it (arq on Redis or in-process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jobimport.errors import JobImportError


class QueueUnavailable(JobImportError):
    """Redis could not be reached (or did not answer in time) to enqueue a task or read the
    queue; an enqueued run waits in the store (reconciler), an endpoint answers 503."""


class RetryLater(Exception):
    """Raised by a task on a transient error: run it again after `defer_s`, if tries remain."""

    def __init__(self, defer_s: float, reason: str) -> None:
        super().__init__(f"retry in {defer_s:.1f}s: {reason}")
        self.defer_s = defer_s
        self.reason = reason


class DeferTask(Exception):
    """Raised by a task that cannot start yet (its feed's host has no free slot): run it again
    after `defer_s` as the same try. Not a failure and not a try; the job stays queued, so the
    reconciler sees it waiting, not lost."""

    def __init__(self, defer_s: float, reason: str) -> None:
        super().__init__(f"deferred {defer_s:.1f}s: {reason}")
        self.defer_s = defer_s
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TaskContext:
    """The delivery of one task: its deterministic job id and which try this is (1-based)."""

    job_id: str
    job_try: int
    max_tries: int

    @property
    def final_try(self) -> bool:
        return self.job_try >= self.max_tries


class Producer(Protocol):
    """Puts tasks on the queue. False when a job with that id is already queued or running."""

    async def enqueue(
        self, task: str, *args: str | int, job_id: str, defer_s: float = 0.0
    ) -> bool: ...
