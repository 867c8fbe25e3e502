"""The Store protocol: everything jobimport keeps, behind one async interface with two backends.

Contract (tested by tests/store/test_contract*.py against every backend):
- Job identity is (source, external_id), enforced by a unique index. The feed URL is not part of it.
- `apply_batch` is idempotent per (run_id, n): the first call that records the batch result also
  upserts the jobs and adds the counts to the run, in one step; any later call returns that first
  result and changes nothing. A redelivered batch whose jobs were already written by a crashed
  attempt classifies them as that attempt did (first_seen_run_id / last_changed_run_id).
- Classification is relative to the store when the batch applies: new = inserted by this run,
  updated = content hash changed, unchanged = same hash (only last_seen_* is touched).
- A run closes when its last batch result is recorded, by one conditional update; its final status
  comes from `models.final_status`.
- Expiry (EXPIRE_AFTER_RUNS = the store's `expire_after_runs`): every (job, feed) link remembers
  the run that last listed the job and how many whole-document runs of that feed missed it
  since. When a run closes with `models.reads_whole_document`, each link of its feed that this
  run did not list counts one more miss (a not_modified run: only links already missing, since
  its document is the one before). A job whose every link has `expire_after_runs` misses or
  more becomes `expired` (expired_at = now), counted in that run's `counts.expired`. A job
  listed again is `active` again (expired_at cleared) and its link's misses start over.
  Expiry is done once per run, in the step that closes it (or, where a backend cannot do it in
  that step, idempotently right after it).
- Rollups (store/rollups.py): `count_runs_by_status`, `sum_run_counts`, `hourly_totals` and
  `Page.total` of `list_runs` always equal counting the stored runs by hand; each backend keeps
  per-hour rollups of final runs, changed in the step that makes a run final and the one that
  prunes it, and adds the runs in flight live.
- A cancelled run (`cancel_run`) is final: later batch steps change nothing and return
  `first_time=False`; staging and `mark_run_staged` leave it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from jobimport.models import (
    BatchResult,
    FeedErrorInfo,
    FeedState,
    FetchInfo,
    ImportRun,
    Job,
    JobStatus,
    RunCounts,
    RunStatus,
    StagedEntry,
)

SCHEMA_VERSION = 9
"""Bumped with every change to the stored shape; each backend migrates forward at open()."""

T = TypeVar("T")

DueCursor = tuple[datetime | None, str]
"""Where a page of `Store.list_due_feeds` ended: the (next_run_at, url) of its last feed."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and the total number of matches."""

    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class HourTotals:
    """The runs created in one hour (UTC; `hour` is its start): how many, and their items."""

    hour: datetime
    runs: int
    counts: RunCounts


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A stored job: the normalized job plus its history in the store."""

    id: str
    job: Job
    first_seen_at: datetime
    last_seen_at: datetime
    last_changed_at: datetime
    first_seen_run_id: str
    last_seen_run_id: str
    last_changed_run_id: str
    feeds: tuple[str, ...] = ()
    status: JobStatus = JobStatus.ACTIVE
    expired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What `apply_batch` did. `first_time` is False when the result already existed (a replay);
    `run` is the run after the step, closed if this batch was its last."""

    result: BatchResult
    first_time: bool
    run: ImportRun


@dataclass(frozen=True, slots=True)
class RunQuery:
    """Filters and paging for import logs. Results are newest first unless `sort` says otherwise."""

    feed_url: str | None = None
    statuses: tuple[RunStatus, ...] = ()
    only_with_failures: bool = False
    created_after: datetime | None = None
    created_before: datetime | None = None
    sort: str = "created_at"
    descending: bool = True
    limit: int = 20
    offset: int = 0


JOB_SORTS = (
    "last_changed_at",
    "published_at",
    "first_seen_at",
    "last_seen_at",
    "title",
    "company",
)
"""Sort keys of JobQuery. Ties break by document position, then id; missing values (no
published date, no company) sort first ascending and last descending, on every backend."""


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Filters, sort and paging for jobs. `text`: every word appears (case-insensitively) in the
    title, company or plain-text description; `company`, `job_type`, `source`: exact;
    `location`: contains, case-insensitively; `category`: one of the job's categories, exact;
    `feed_url`: a feed that listed the job; `status`: active or expired (None: both).
    Default order: newest change first."""

    text: str | None = None
    status: JobStatus | None = None
    source: str | None = None
    feed_url: str | None = None
    company: str | None = None
    location: str | None = None
    job_type: str | None = None
    category: str | None = None
    updated_since: datetime | None = None
    sort: str = "last_changed_at"
    descending: bool = True
    limit: int = 20
    offset: int = 0
    extra: dict[str, str] = field(default_factory=dict)


FEED_SETTINGS = frozenset({"name", "schedule", "paused", "headers", "next_run_at", "pause_note"})
"""The FeedState fields `Store.update_feed` may change."""


def check_feed_changes(changes: Mapping[str, Any]) -> None:
    """ValueError unless every key of `changes` is in FEED_SETTINGS (`Store.update_feed`)."""
    unknown = set(changes) - FEED_SETTINGS
    if unknown:
        raise ValueError(
            f"not feed settings: {', '.join(sorted(unknown))};"
            f" use {', '.join(sorted(FEED_SETTINGS))}"
        )


class Store(Protocol):
    """Storage of feeds, runs (import logs), staged batches, batch results and jobs."""

    # lifecycle
    async def open(self) -> None:
        """Connect, then create or migrate the schema / indexes to SCHEMA_VERSION."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def check_integrity(self) -> str | None:
        """None when the database passes the backend's integrity check, else what is wrong (one
        line). Never holds up the store's other calls: SQLite runs `PRAGMA quick_check` on a
        connection of its own; MongoDB has no cheap equivalent and answers None. StoreError
        when the check itself cannot run."""

    # feeds
    async def seed_feeds(self, urls: Sequence[str]) -> None:
        """Register the configured feeds (JOBIMPORT_FEEDS): a missing one is inserted with origin
        CONFIG (created_at = now); an existing API or ADHOC one becomes CONFIG, keeping its state
        and settings. A CONFIG feed not in `urls` becomes API (it may now be deleted); it is not
        paused or removed. Idempotent."""

    async def add_feed(self, state: FeedState) -> FeedState | None:
        """Register a run-time feed: insert `state` with origin API (created_at = now), or turn an
        ADHOC feed of that URL into an API one with `state`'s settings (keeping its run state).
        None when a CONFIG or API feed of that URL exists (nothing changes)."""

    async def get_feed(self, url: str) -> FeedState | None:
        """The stored feed of that URL, of any origin."""

    async def get_feed_by_id(self, feed_id: str) -> FeedState | None:
        """The stored feed whose `models.feed_id(url)` is `feed_id`, of any origin."""

    async def list_feeds(self) -> list[FeedState]:
        """The registered feeds (CONFIG and API, paused or not), oldest first (created_at, then
        url). ADHOC feeds are not listed."""

    async def list_due_feeds(
        self, now: datetime, *, after: DueCursor | None = None, limit: int = 200
    ) -> list[FeedState]:
        """One page (at most `limit`) of the registered feeds that are not paused and are due at
        `now` (`next_run_at` unset, or at or before `now`), in (next_run_at, url) order with the
        never-run ones (unset) first, strictly after `after` (the cursor of the previous page's
        last feed). Keyset paging on an index, so a tick never holds every feed: a feed whose
        next_run_at moves while the pages are read is neither read twice nor holds up the rest."""

    async def update_feed(self, feed_id: str, changes: dict[str, Any]) -> FeedState | None:
        """Change some of a feed's settings (keys of FEED_SETTINGS only, else ValueError) and
        return the feed after the change; None when no feed has that id. Run state is untouched
        (except `next_run_at`, when given)."""

    async def delete_feed(self, feed_id: str) -> bool:
        """Remove an API or ADHOC feed (its jobs, runs and job links stay). False when no such
        feed exists or it is a CONFIG feed (nothing changes)."""

    async def save_feed_run_state(self, state: FeedState) -> None:
        """Write the run state of `state.url` (validators, last run, failure streak, next run,
        alerted_at); its settings and origin are kept. A missing feed (deleted while its run
        was in flight, or imported once by URL) is inserted unregistered: ADHOC, with this run
        state only (`FeedState.run_state_only`), never with `state`'s settings or headers."""

    # runs
    async def start_or_get_run(
        self,
        feed_url: str,
        trigger: str,
        *,
        retry_of: str | None = None,
        unless_closed_since: datetime | None = None,
    ) -> tuple[ImportRun, bool]:
        """Create a `queued` run of the feed, or return the feed's run in flight (queued or
        running) if it has one. Atomic: two concurrent calls never create two in-flight runs.
        `retry_of` links a new run to the run it retries. With `unless_closed_since` (the
        scheduler tick: when it read its feed list), no run is created either when a run of the
        feed closed at or after that time (to the store's time precision); that run, the latest
        to close, is returned instead. Returns (run, created)."""

    async def cancel_run(self, run_id: str) -> ImportRun | None:
        """Stop a queued or running run: status CANCELLED, finished_at = now, its staged batches
        dropped; batch results already recorded and their counts stay. Returns the run after
        the step; None when the run is unknown or already final (nothing changes)."""

    async def get_run(self, run_id: str) -> ImportRun | None: ...

    async def list_runs(self, query: RunQuery) -> Page[ImportRun]: ...

    async def runs_version(self) -> str:
        """A cheap, index-backed value that changes whenever an import log is created, written
        or deleted (conditional GETs): the number of runs, the newest `created_at`, and every
        field of every run in flight. A final run is never written again, only pruned. Jobs are
        written only in steps that also write their run in flight, so it covers jobs too."""

    async def run_version(self, run_id: str) -> str | None:
        """A value that changes whenever that run changes (its stored fields, without reading
        its failures, which only grow with `batches_done`); None when the run is unknown."""

    async def mark_run_running(self, run_id: str) -> ImportRun | None:
        """queued → running (sets started_at once, counts an attempt). A run already running stays
        running (a redelivered fetch task). Returns None if the run is final or unknown."""

    async def close_run_early(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: FeedErrorInfo | None = None,
        fetch: FetchInfo | None = None,
    ) -> ImportRun | None:
        """Close a run that never staged (feed failure, 304): only if it is not yet fetched and not
        final. Returns the run after the update, or None when the condition did not hold."""

    async def reset_staging(self, run_id: str) -> None:
        """Drop every staged batch of a run that is not yet fetched (a redelivered fetch task)."""

    async def link_fingerprints(self, feed_url: str, job_ids: Sequence[str]) -> dict[str, str]:
        """The fingerprints (`SeenItem`) that the last runs of `feed_url` stored for those of
        `job_ids` it listed: job id → fingerprint. One indexed query."""

    async def stage_batch(self, run_id: str, n: int, entries: Sequence[StagedEntry]) -> None:
        """Store batch `n` (0-based) of the run: its jobs, sightings (`SeenItem`) and item
        failures in document order."""

    async def mark_run_staged(
        self,
        run_id: str,
        batches_total: int,
        *,
        fetch: FetchInfo | None = None,
        error: FeedErrorInfo | None = None,
        warnings: Mapping[str, int] | None = None,
    ) -> ImportRun:
        """Record that all `batches_total` batches are staged (once: a second call changes nothing),
        with the HTTP outcome, a part-way document error and the document's own warnings (its
        encoding), if any. With zero batches the run closes at once. Returns the run after the
        step."""

    async def load_staged_batch(self, run_id: str, n: int) -> list[StagedEntry] | None:
        """The staged entries of batch n, or None when there are none (applied and dropped)."""

    async def pending_batches(self, run_id: str) -> list[int]:
        """Numbers of the run's batches that have no result yet."""

    async def apply_batch(
        self, run_id: str, n: int, entries: Sequence[StagedEntry]
    ) -> ApplyOutcome:
        """Upsert the batch's jobs, record its result and add its counts to the run, once; close
        the run if this was its last batch; drop the staged batch. Idempotent per (run_id, n).
        A job's link to the run's feed keeps the job's `fingerprint`. A `SeenItem` counts
        `unchanged` and moves the job's `last_seen_*` and link as a listing does, in bulk, without
        touching its content; a sighting of a job no longer stored fails as `lost`."""

    async def get_batch_result(self, run_id: str, n: int) -> BatchResult | None: ...

    # reconciliation
    async def list_stale_runs(self, idle_since: datetime) -> list[ImportRun]:
        """Runs in flight (queued or running) whose `updated_at` is older than `idle_since`,
        oldest first. Every write to a run sets its `updated_at` to the store clock's now."""

    async def note_requeue(self, run_id: str) -> ImportRun | None:
        """Count one re-enqueue of an in-flight run by the reconciler (requeues += 1, updated_at
        = now). None when the run is final or unknown."""

    async def fail_batch(self, run_id: str, n: int, reason: str, message: str) -> ApplyOutcome:
        """Record batch n's result with every staged entry failed for `reason` (its items are
        lost for good), exactly like `apply_batch` records a result: once per (run, n), counts
        added in the same step, the run closed if it was the last batch. Staged jobs fail with
        `reason` and `message`; staged item failures keep theirs. StoreError when the batch is
        neither staged nor recorded."""

    # retention
    async def prune_runs(self, finished_before: datetime) -> int:
        """Delete final runs that finished before `finished_before` (those without finished_at:
        created before it), with their failures, batch results and staged batches. Runs in
        flight and every job stay. Returns the number of runs deleted."""

    # jobs
    async def get_job(self, job_id: str) -> JobRecord | None: ...

    async def list_jobs(self, query: JobQuery) -> Page[JobRecord]: ...

    async def count_jobs(self) -> int: ...

    # metrics
    async def count_runs_by_status(self) -> dict[str, int]:
        """Number of import logs per status value; statuses with no run are absent."""

    async def sum_run_counts(self) -> RunCounts:
        """The counts of every import log in the store, added up."""

    async def hourly_totals(self, since: datetime, until: datetime) -> list[HourTotals]:
        """Per hour (UTC) from the hour of `since` up to `until` (exclusive), the runs created in
        it and their counts added up, final runs and runs in flight alike; hours without runs
        are left out; oldest first. Read from per-hour rollups, never run by run."""
