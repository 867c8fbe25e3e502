"""What a run in flight needs next from the queue: the one owner of that decision, used by the
fetch task (after staging), by `Scheduler.start_run` and by the reconciler (after a loss)."""

from __future__ import annotations

from collections.abc import Sequence

from jobimport.models import ImportRun
from jobimport.queue.base import Producer
from jobimport.queue.names import BATCH, FETCH, batch_job_id, fetch_job_id
from jobimport.store.base import Store


async def enqueue_next_step(
    store: Store, producer: Producer, run: ImportRun, pending: Sequence[int] | None = None
) -> int:
    """Enqueue the run's fetch while it is not fully staged; once it is, every batch without a
    result (`pending`, when the caller already read `store.pending_batches`). Job ids are
    deterministic, so work still queued is not enqueued twice. Returns how many were new."""
    if not run.staged:
        return int(await producer.enqueue(FETCH, run.id, job_id=fetch_job_id(run.id)))
    batches = await store.pending_batches(run.id) if pending is None else pending
    enqueued = 0
    for n in batches:
        if await producer.enqueue(BATCH, run.id, n, job_id=batch_job_id(run.id, n)):
            enqueued += 1
    return enqueued
