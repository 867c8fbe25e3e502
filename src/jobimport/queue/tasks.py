"""Task code, the same whichever queue delivers it. Thin: bind the log context, call the pipeline,
turn transient errors into RetryLater. Every task may run twice; the pipeline makes that safe."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from jobimport.errors import FeedError, StoreUnavailable
from jobimport.pipeline import Pipeline
from jobimport.queue.base import DeferTask, Producer, RetryLater, TaskContext
from jobimport.queue.dispatch import enqueue_next_step
from jobimport.queue.hostslots import (
    HostSlots,
    LocalHostSlots,
    SlotsUnavailable,
    host_of,
    slot_wait_s,
)
from jobimport.settings import Settings

log = structlog.get_logger(__name__)


def retry_delay(settings: Settings, ctx: TaskContext, retry_after_s: float | None = None) -> float:
    """Exponential backoff (base × 2^(try−1)); a longer Retry-After from the server wins."""
    delay: float = settings.retry_base_delay_s * 2 ** (ctx.job_try - 1)
    return max(delay, retry_after_s or 0.0)


@dataclass(frozen=True, slots=True)
class Tasks:
    """The fetch and batch tasks bound to their resources. `slots`: the per-host fetch slots
    (None: counted in this process, MAX_PER_HOST per host)."""

    settings: Settings
    pipeline: Pipeline
    producer: Producer
    slots: HostSlots | None = None

    def __post_init__(self) -> None:
        if self.slots is None:
            object.__setattr__(self, "slots", LocalHostSlots(self.settings.max_per_host))

    async def fetch(self, ctx: TaskContext, run_id: str) -> None:
        """Take a slot of the feed's host (or defer: DeferTask), then fetch and stage the run's
        feed and enqueue its batches (all of them, or the ones still without a result when this
        is a redelivery of an already fetched run)."""
        with structlog.contextvars.bound_contextvars(run_id=run_id, job_try=ctx.job_try):
            try:
                slot = await self._take_slot(run_id)
            except (StoreUnavailable, SlotsUnavailable) as exc:
                if ctx.final_try:
                    raise  # the reconciler enqueues the run again once they are back
                raise RetryLater(retry_delay(self.settings, ctx), str(exc)) from exc
            try:
                await self._fetch(ctx, run_id)
            finally:
                if slot is not None:
                    assert self.slots is not None
                    await self.slots.release(*slot)

    async def _take_slot(self, run_id: str) -> tuple[str, str] | None:
        """(host, lease) of a slot taken for the run's feed; None when the run needs no fetch
        (unknown, final or staged: the pipeline only reads it). DeferTask when the host has no
        free slot."""
        run = await self.pipeline.store.get_run(run_id)
        if run is None or run.status.is_final or run.staged:
            return None
        assert self.slots is not None
        host = host_of(run.feed_url)
        lease = await self.slots.acquire(host)
        if lease is None:
            delay = slot_wait_s()
            log.info("host busy: fetch deferred", host=host, delay_s=round(delay, 2))
            raise DeferTask(delay, f"{host} has no free fetch slot")
        return host, lease

    async def _fetch(self, ctx: TaskContext, run_id: str) -> None:
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
