"""The only module that knows the order of the stages: fetch → parse → normalize → stage → apply.

A run is driven in two kinds of step, so a queue can carry them as separate tasks:
- `fetch_and_stage(run_id)`: download, parse and normalize the feed, stage its entries in batches of
  BATCH_SIZE, then mark the run staged with its number of batches. A repeat of this step restages
  from scratch while the run is not yet staged, and otherwise changes nothing.
- `apply_batch(run_id, n)`: apply one staged batch through the store's idempotent call. The step
  that records the last batch result closes the run.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
import structlog

from jobimport.batcher import Batcher
from jobimport.errors import FeedError, StoreError
from jobimport.events.types import (
    FeedAlert,
    FeedFailed,
    Publish,
    RunFinished,
    RunProgress,
    RunStarted,
    discard,
)
from jobimport.feed_policy import feed_outcome
from jobimport.models import (
    FeedErrorInfo,
    FeedState,
    FetchInfo,
    ImportRun,
    ItemFailure,
    RunStatus,
    StagedEntry,
)
from jobimport.reader.document import DocumentReader
from jobimport.reader.fetch import FeedResponse, open_feed
from jobimport.reader.normalize import Prepared
from jobimport.settings import Settings
from jobimport.store.base import Store

log = structlog.get_logger(__name__)

MAX_RETRY_AFTER_S = 300.0
"""A Retry-After longer than this fails the run (the feed's next run waits) instead of a retry."""


def retryable(exc: FeedError) -> bool:
    return exc.transient and (exc.info.retry_after_s or 0.0) <= MAX_RETRY_AFTER_S


CANCEL_CHECK_BATCHES = 10
"""While staging, look every this many batches whether the run was cancelled."""


class _Stager:
    """Stages a document's prepared items in batches of BATCH_SIZE. Each group is resolved
    against the store with one query (the fingerprints this feed's jobs were last read with):
    an item the feed repeats as it was becomes a `SeenItem`; only the others are normalized
    whole (in the document's thread: the CPU-bound part)."""

    def __init__(
        self, pipeline: Pipeline, run: ImportRun, reader: DocumentReader, executor: Executor
    ) -> None:
        self._pipeline, self._run, self._reader, self._executor = pipeline, run, reader, executor
        self._size = pipeline.settings.batch_size
        self._batcher = Batcher(self._size)
        self._pending: list[Prepared | ItemFailure] = []
        self.batches = 0

    async def take(self, items: list[Prepared | ItemFailure]) -> bool:
        """Stage the batches that `items` complete; False once the run was cancelled."""
        self._pending += items
        while len(self._pending) >= self._size:
            group, self._pending = self._pending[: self._size], self._pending[self._size :]
            if not await self._stage(self._batcher.add(await self._resolve(group))):
                return False
        return True

    async def flush(self) -> None:
        entries = await self._resolve(self._pending) if self._pending else []
        self._pending = []
        await self._stage([*self._batcher.add(entries), *self._batcher.flush()], check=False)

    async def _resolve(self, group: list[Prepared | ItemFailure]) -> list[StagedEntry]:
        reader = self._reader
        ids = [item.id for item in group if not isinstance(item, ItemFailure)]
        store = self._pipeline.store
        known = await store.link_fingerprints(self._run.feed_url, ids) if ids else {}
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, reader.resolve, group, known)

    async def _stage(self, batches: list[list[StagedEntry]], *, check: bool = True) -> bool:
        for batch in batches:
            await self._pipeline.store.stage_batch(self._run.id, self.batches, batch)
            self.batches += 1
            due = check and self.batches % CANCEL_CHECK_BATCHES == 0
            if due and await self._pipeline.is_cancelled(self._run.id):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The import stages bound to their resources. Cheap to build; holds no state between runs."""

    settings: Settings
    store: Store
    session: aiohttp.ClientSession
    publish: Publish = discard

    async def fetch_and_stage(self, run_id: str, *, may_retry: bool = False) -> ImportRun:
        """Fetch, parse, normalize and stage the run's feed; returns the run after the step.

        With `may_retry`, a transient feed error (network, 5xx, 429) is raised to the caller with
        the run left open, so a later try restages from scratch; without it, the run fails."""
        run = await self.store.mark_run_running(run_id)
        if run is None:
            existing = await self.store.get_run(run_id)
            if existing is None:
                raise StoreError(f"unknown run {run_id}")
            return existing  # already final: nothing to do
        with structlog.contextvars.bound_contextvars(run_id=run_id, feed=run.feed_url):
            if run.staged:
                log.info("run already staged; nothing to restage")
                return run
            await self.store.reset_staging(run_id)
            if run.attempts == 1:
                await self.publish(RunStarted(run))
            log.info("fetch started", attempt=run.attempts)
            return await self._fetch(run, may_retry)

    async def _fetch(self, run: ImportRun, may_retry: bool) -> ImportRun:
        feed = await self.store.get_feed(run.feed_url)
        started = time.monotonic()
        try:
            async with open_feed(
                self.session,
                run.feed_url,
                self.settings,
                etag=feed.etag if feed else None,
                last_modified=feed.last_modified if feed else None,
                extra_headers=feed.headers if feed else None,
            ) as response:
                if response.not_modified:
                    info = response.info(_ms_since(started))
                    log.info("feed not modified", status=response.status)
                    closed = await self.store.close_run_early(
                        run.id, RunStatus.NOT_MODIFIED, fetch=info
                    )
                    return await self._closed_early(run, closed)
                return await self._stage(run, response, started, may_retry)
        except FeedError as exc:
            if may_retry and retryable(exc):
                raise
            error = exc.info
            log.warning(
                "feed failed", reason=error.reason, error=error.message, status=error.status
            )
            fetch = FetchInfo(status=error.status, duration_ms=_ms_since(started))
            closed = await self.store.close_run_early(
                run.id, RunStatus.FAILED, error=error, fetch=fetch
            )
            return await self._closed_early(run, closed)

    async def _stage(
        self, run: ImportRun, response: FeedResponse, started: float, may_retry: bool
    ) -> ImportRun:
        loop = asyncio.get_running_loop()
        reader = DocumentReader(run.feed_url, charset=response.charset, base_url=response.base_url)
        stream_error: FeedError | None = None
        # One thread per document: lxml parsers must not hop between threads mid-document.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse") as executor:
            stager = _Stager(self, run, reader, executor)
            try:
                async for chunk in response.chunks():
                    prepared = await loop.run_in_executor(executor, reader.feed_prepared, chunk)
                    if not await stager.take(prepared):
                        log.info("run cancelled while staging", batches=stager.batches)
                        return await self._current(run.id)
            except FeedError as exc:  # the body broke off (cap, timeout): keep what came before
                if may_retry and retryable(exc):
                    raise  # a later try restages the whole document
                stream_error = exc
            await stager.take(await loop.run_in_executor(executor, reader.close_prepared))
            await stager.flush()
        batches = stager.batches
        broke_off = stream_error or reader.error
        error = None if broke_off is None else broke_off.info
        info = response.info(_ms_since(started))
        if error is not None:
            log.warning(
                "document broke off",
                reason=error.reason,
                error=error.message,
                line=error.line,
                column=error.column,
            )
        if batches == 0 and error is not None:
            closed = await self.store.close_run_early(
                run.id, RunStatus.FAILED, error=error, fetch=info
            )
            return await self._closed_early(run, closed)
        fetched = await self.store.mark_run_staged(
            run.id, batches, fetch=info, error=error, warnings=reader.warnings
        )
        log.info("feed staged", batches=batches, bytes=info.bytes, duration_ms=info.duration_ms)
        if fetched.status is RunStatus.CANCELLED:
            return fetched  # whoever cancelled it announced it
        if fetched.status.is_final:  # zero batches: the store closed it at once
            await self._on_closed(fetched)
        return fetched

    async def is_cancelled(self, run_id: str) -> bool:
        current = await self.store.get_run(run_id)
        return current is None or current.status is RunStatus.CANCELLED

    async def _current(self, run_id: str) -> ImportRun:
        current = await self.store.get_run(run_id)
        if current is None:
            raise StoreError(f"unknown run {run_id}")
        return current

    async def cancel(self, run_id: str) -> ImportRun | None:
        """Stop a queued or running run where it stands (see `Store.cancel_run`) and announce
        it. None when the run is unknown or already final. Tasks of the run still queued find it
        final and do nothing."""
        cancelled = await self.store.cancel_run(run_id)
        if cancelled is not None:
            await self._on_closed(cancelled)
        return cancelled

    async def _closed_early(self, run: ImportRun, closed: ImportRun | None) -> ImportRun:
        if closed is None:  # another attempt got there first
            current = await self.store.get_run(run.id)
            return current or run
        await self._on_closed(closed)
        return closed

    async def apply_batch(self, run_id: str, n: int) -> ImportRun:
        """Apply staged batch n once; returns the run after the step (closed if it was the last)."""
        with structlog.contextvars.bound_contextvars(run_id=run_id, batch=n):
            entries = await self.store.load_staged_batch(run_id, n)
            if entries is None:
                run = await self._current(run_id)
                if run.status is RunStatus.CANCELLED:
                    return run  # its staged batches went with the cancel
                if await self.store.get_batch_result(run_id, n) is None:
                    raise StoreError(f"batch {n} of run {run_id} is neither staged nor applied")
                return run
            outcome = await self.store.apply_batch(run_id, n, entries)
            if outcome.first_time:
                counts = outcome.result.counts
                log.info(
                    "batch applied",
                    feed=outcome.run.feed_url,
                    new=counts.new,
                    updated=counts.updated,
                    unchanged=counts.unchanged,
                    failed=counts.failed,
                )
                await self.publish(RunProgress(outcome.run))
                if _closed_by_batches(outcome.run):
                    await self._on_closed(outcome.run)
            return outcome.run

    async def fail_batch(self, run_id: str, n: int, reason: str, message: str) -> ImportRun:
        """Fail every item of staged batch n for `reason` (its tasks were lost for good)."""
        outcome = await self.store.fail_batch(run_id, n, reason, message)
        if outcome.first_time:
            await self.publish(RunProgress(outcome.run))
            if _closed_by_batches(outcome.run):
                await self._on_closed(outcome.run)
        return outcome.run

    async def close_early(self, run_id: str, status: RunStatus, error: FeedErrorInfo) -> ImportRun:
        """Close a run that never finished staging (its fetch was lost for good)."""
        closed = await self.store.close_run_early(run_id, status, error=error)
        current = closed or await self.store.get_run(run_id)
        if current is None:
            raise StoreError(f"unknown run {run_id}")
        if closed is not None:
            await self._on_closed(closed)
        return current

    async def _on_closed(self, run: ImportRun) -> None:
        """Remember the outcome on the feed (validators, failure streak) and announce it."""
        await self._record_feed_outcome(run)
        counts = run.counts
        log.info(
            "run finished",
            run_id=run.id,
            feed=run.feed_url,
            status=run.status.value,
            fetched=counts.fetched,
            new=counts.new,
            updated=counts.updated,
            unchanged=counts.unchanged,
            failed=counts.failed,
            error=None if run.error is None else run.error.reason,
        )
        if run.status is RunStatus.FAILED and run.error is not None:
            await self.publish(FeedFailed(run))
        await self.publish(RunFinished(run))

    async def _record_feed_outcome(self, run: ImportRun) -> None:
        """Write what the closed run means for its feed (see `feed_policy.feed_outcome`) and
        announce the alert it raises, if any."""
        before = await self.store.get_feed(run.feed_url) or FeedState(url=run.feed_url)
        outcome = feed_outcome(
            before,
            run,
            default_schedule=self.settings.schedule,
            alert_after_failures=self.settings.alert_after_failures,
        )
        await self.store.save_feed_run_state(outcome.state)
        if outcome.alert is not None:
            failures = outcome.state.consecutive_failures
            log.warning("feed alert", kind=outcome.alert, failures=failures, feed=run.feed_url)
            await self.publish(FeedAlert(run, kind=outcome.alert, feed=outcome.state))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _closed_by_batches(run: ImportRun) -> bool:
    """Whether a batch step left the run closed by its batches. A cancelled run was announced
    by `cancel`, whichever batch step raced it."""
    return run.status.is_final and run.status is not RunStatus.CANCELLED
