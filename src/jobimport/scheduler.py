"""Starting runs and keeping them moving: start_run, the due-feed tick, and the reconciler.

Runs are the source of truth, not the queue: a run is created (queued) in the store before its
fetch task is enqueued, and the reconciler re-enqueues work of runs that stopped moving (a lost
Redis, a killed worker), under the same deterministic job ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from jobimport.events.types import Publish, RunQueued
from jobimport.feed_policy import parse_schedule
from jobimport.models import FeedErrorInfo, FeedState, ImportRun, RunStatus
from jobimport.pipeline import Pipeline
from jobimport.queue.base import Producer
from jobimport.queue.dispatch import enqueue_next_step
from jobimport.queue.names import batch_job_id, fetch_job_id
from jobimport.reader.headers import check_feed_headers
from jobimport.settings import Settings
from jobimport.store.base import DueCursor, Store

log = structlog.get_logger(__name__)

PRUNE_EVERY = timedelta(days=1)
DUE_PAGE = 200
"""Due feeds read per store query by the tick: it never holds every feed at once."""


def unusable_reason(feed: FeedState) -> str | None:
    """Why a feed's stored settings cannot be used (None: they can): a schedule or a header
    value stored before today's checks, which the API would now refuse. The same checks as the
    API (`parse_schedule`, `check_feed_headers`); the note never holds a header value."""
    problems = []
    if feed.schedule is not None:
        try:
            parse_schedule(feed.schedule)
        except ValueError as exc:
            problems.append(f"schedule: {exc}")
    try:
        check_feed_headers(feed.headers)
    except ValueError as exc:
        problems.append(f"headers: {exc}")
    return "; ".join(problems) or None


async def pause_unusable_feeds(store: Store) -> list[FeedState]:
    """At start: pause every registered feed whose stored settings are unusable, with a note
    saying why (never a crash, never a silent change of the values). Returns the feeds paused
    or noted now; one already paused with the same note is left alone."""
    changed = []
    for feed in await store.list_feeds():
        reason = unusable_reason(feed)
        note = None if reason is None else f"paused at start: {reason}"
        if note is None or (feed.paused and feed.pause_note == note):
            continue
        log.warning("feed paused: its stored settings are refused", feed=feed.url, note=note)
        updated = await store.update_feed(feed.id, {"paused": True, "pause_note": note})
        if updated is not None:
            changed.append(updated)
    return changed


class PendingCheck(Protocol):
    """Whether a job id is still queued, deferred or running (so its run is waiting, not lost)."""

    async def __call__(self, job_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class TickReport:
    started: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    pruned: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Scheduler:
    settings: Settings
    store: Store
    pipeline: Pipeline
    producer: Producer
    is_pending: PendingCheck
    clock: Callable[[], datetime]
    publish: Publish
    # When this process last pruned (a one-slot list: the dataclass itself stays frozen).
    pruned_at: list[datetime] = field(default_factory=list)
    due_page: int = DUE_PAGE

    async def start_run(
        self,
        feed_url: str,
        trigger: str,
        *,
        retry_of: str | None = None,
        unless_closed_since: datetime | None = None,
    ) -> tuple[ImportRun, bool]:
        """Create a queued run and enqueue its fetch, or return the feed's run in flight (or,
        with `unless_closed_since`, its run that closed since then; see Store.start_or_get_run)."""
        run, created = await self.store.start_or_get_run(
            feed_url, trigger, retry_of=retry_of, unless_closed_since=unless_closed_since
        )
        if created:
            await self.publish(RunQueued(run))
            # If this enqueue is lost, the run is still in the store: the reconciler retries it.
            await enqueue_next_step(self.store, self.producer, run)
            log.info("run queued", run_id=run.id, feed=feed_url, trigger=trigger)
        return run, created

    async def start_runs(self, feed_urls: Sequence[str], trigger: str) -> list[ImportRun]:
        return [(await self.start_run(url, trigger))[0] for url in feed_urls]

    async def tick(self) -> TickReport:
        """Start every registered feed that is due and not paused, reconcile stuck runs, and
        prune old import logs once a day."""
        now = self.clock()
        report = TickReport()
        after: DueCursor | None = None
        while True:
            # Keyset pages of due feeds (store.list_due_feeds): memory stays flat however many
            # feeds are registered, and a feed whose run closes meanwhile is not read twice.
            page = await self.store.list_due_feeds(now, after=after, limit=self.due_page)
            for feed in page:
                # The page may be stale by now: a run of this feed that closed since `now` (a
                # manual one) already did this run's work, and set a later next_run_at.
                run, created = await self.start_run(feed.url, "cron", unless_closed_since=now)
                if created:
                    report.started.append(run.id)
            if len(page) < self.due_page:
                break
            after = (page[-1].next_run_at, page[-1].url)
        await self.reconcile(report)
        await self.prune_if_due(now, report)
        return report

    async def prune_if_due(self, now: datetime, report: TickReport | None = None) -> int:
        """Delete import logs older than RETENTION_DAYS, at most once per PRUNE_EVERY in this
        process (the first tick after a start prunes). Jobs are never pruned."""
        days = self.settings.retention_days
        last = self.pruned_at[0] if self.pruned_at else None
        if days == 0 or (last is not None and now - last < PRUNE_EVERY):
            return 0
        pruned = await self.store.prune_runs(now - timedelta(days=days))
        self.pruned_at[:] = [now]
        if pruned:
            log.info("pruned old import logs", runs=pruned, retention_days=days)
        if report is not None:
            report.pruned.append(pruned)
        return pruned

    async def reconcile(
        self, report: TickReport | None = None, *, idle_s: float | None = None
    ) -> TickReport:
        """Re-enqueue the work of runs with no progress for RECONCILE_AFTER_S (or `idle_s`) whose
        tasks are no longer queued; after RECONCILE_MAX_REQUEUES, fail what is left as `lost`."""
        report = report or TickReport()
        idle = self.settings.reconcile_after_s if idle_s is None else idle_s
        for run in await self.store.list_stale_runs(self.clock() - timedelta(seconds=idle)):
            with structlog.contextvars.bound_contextvars(run_id=run.id, feed=run.feed_url):
                await self._reconcile_run(run, report)
        return report

    async def _reconcile_run(self, run: ImportRun, report: TickReport) -> None:
        pending = await self.store.pending_batches(run.id) if run.staged else []
        job_ids = [batch_job_id(run.id, n) for n in pending] or [fetch_job_id(run.id)]
        if run.staged and not pending:
            return  # every batch has a result; the run closes in the step that recorded the last
        waiting = [job_id for job_id in job_ids if await self.is_pending(job_id)]
        if waiting:
            return  # still queued behind other work: slow, not lost
        if run.requeues >= self.settings.reconcile_max_requeues:
            await self._give_up(run, pending)
            report.lost.append(run.id)
            return
        if await self.store.note_requeue(run.id) is None:
            return  # it closed meanwhile
        log.warning("re-enqueueing a stuck run", requeues=run.requeues + 1, batches=len(pending))
        await enqueue_next_step(self.store, self.producer, run, pending)
        report.requeued.append(run.id)

    async def _give_up(self, run: ImportRun, pending: list[int]) -> None:
        message = f"tasks lost {run.requeues} times (queue or worker lost); gave up"
        log.error("run lost", batches=len(pending))
        if not run.staged:
            error = FeedErrorInfo(reason="lost", message=message)
            await self.pipeline.close_early(run.id, RunStatus.FAILED, error)
            return
        for n in pending:
            await self.pipeline.fail_batch(run.id, n, "lost", message)
