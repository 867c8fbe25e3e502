"""Task code, the same whichever queue delivers it. Thin: bind the log context, call the pipeline,
turn transient errors into RetryLater. Every task may run twice; the pipeline makes that safe."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from jobimport.errors import FeedError, StoreUnavailable
from jobimport.pipeline import Pipeline
from jobimport.queue.base import Producer, RetryLater, TaskContext
from jobimport.queue.dispatch import enqueue_next_step
from jobimport.settings import Settings

log = structlog.get_logger(__name__)


def retry_delay(settings: Settings, ctx: TaskContext, retry_after_s: float | None = None) -> float:
    """Exponential backoff (base × 2^(try−1)); a longer Retry-After from the server wins."""
    delay: float = settings.retry_base_delay_s * 2 ** (ctx.job_try - 1)
    return max(delay, retry_after_s or 0.0)


@dataclass(frozen=True, slots=True)
class Tasks:
    """The fetch and batch tasks bound to their resources."""

    settings: Settings
    pipeline: Pipeline
    producer: Producer

    async def fetch(self, ctx: TaskContext, run_id: str) -> None:
        """Fetch and stage a run's feed, then enqueue its batches (all of them, or the ones still
        without a result when this is a redelivery of an already fetched run)."""
        with structlog.contextvars.bound_contextvars(run_id=run_id, job_try=ctx.job_try):
            try:
                run = await self.pipeline.fetch_and_stage(run_id, may_retry=not ctx.final_try)
            except FeedError as exc:  # transient and tries remain: the run stays open
                delay = retry_delay(self.settings, ctx, exc.info.retry_after_s)
                log.warning("fetch will retry", reason=exc.info.reason, delay_s=delay)
                raise RetryLater(delay, exc.info.reason) from exc
            except StoreUnavailable as exc:
                if ctx.final_try:
                    raise  # the reconciler enqueues the run again once the store is back
                raise RetryLater(retry_delay(self.settings, ctx), "store unavailable") from exc
            if run.staged and not run.status.is_final:
                await enqueue_next_step(self.pipeline.store, self.producer, run)

    async def batch(self, ctx: TaskContext, run_id: str, n: int) -> None:
        """Apply one staged batch. Idempotent: a repeat returns the first result."""
        with structlog.contextvars.bound_contextvars(run_id=run_id, job_try=ctx.job_try):
            try:
                await self.pipeline.apply_batch(run_id, n)
            except StoreUnavailable as exc:
                if ctx.final_try:
                    raise  # the reconciler re-enqueues it; after repeated loss it fails as `lost`
                raise RetryLater(retry_delay(self.settings, ctx), "store unavailable") from exc
