"""Pure domain types shared by every layer. No I/O here, and no imports of our own modules."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """Life of an import run. The first two are in flight; the rest are final."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    NOT_MODIFIED = "not_modified"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


class FeedFailureReason(StrEnum):
    """Why a whole feed (or the rest of its document) could not be read."""

    TIMEOUT = "timeout"
    DNS = "dns"
    CONNECT = "connect"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    TOO_LARGE = "too_large"
    BLOCKED = "blocked"
    NOT_A_FEED = "not_a_feed"
    MALFORMED_XML = "malformed_xml"
    MALFORMED_JSON = "malformed_json"  # a JSON Feed that is not valid JSON (or broke off)
    ENTITIES_FORBIDDEN = "entities_forbidden"
    SSRF_REFUSED = "ssrf_refused"
    INVALID_URL = "invalid_url"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    INVALID_REQUEST = "invalid_request"  # the request cannot be sent (a feed's header value)
    UNSUPPORTED_FORMAT = "unsupported_format"
    STORE_ERROR = "store_error"
    LOST = "lost"
    INTERNAL = "internal"


class ItemFailureReason(StrEnum):
    """Why a single item was not imported. The item fails alone; its run goes on."""

    MISSING_TITLE = "missing_title"
    INVALID_URL = "invalid_url"
    INVALID_DATE = "invalid_date"  # no longer produced (now a warning); old import logs have it
    DUPLICATE_IN_FEED = "duplicate_in_feed"
    TOO_LARGE = "too_large"
    STORE_ERROR = "store_error"
    LOST = "lost"


class WarningReason(StrEnum):
    """A leniency an item was imported with: it still imports, and the run counts it once per
    reason per item. A warning is never a failure."""

    DATE_UNPARSED = "date_unparsed"  # a date was present but unreadable: published_at is null
    ENCODING_REPLACED = "encoding_replaced"  # undecodable bytes were replaced (U+FFFD)
    HTML_ENTITY = "html_entity"  # an HTML entity XML does not define was read as its character
    UNDECLARED_PREFIX = "undeclared_prefix"  # an element used a namespace prefix never declared


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file attached to an item (RSS `<enclosure>`, Atom `link rel="enclosure"`, JSON Feed
    `attachments`): an absolute http(s) URL, its media type and its length in bytes, when given."""

    url: str
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A normalized job posting. Identity is (`source`, `external_id`), never the feed URL.

    Text fields are plain text; `description_html` is sanitized HTML safe to show;
    `description_text` is its plain-text copy for search. `content_hash` covers every field a
    reader sees.

    `warnings` are the `WarningReason` values of the leniencies the item was read with, each at
    most once, sorted. They describe the import, not the job: not in the content hash, not stored
    with the job (only staged batches keep them, for their run's counts), not compared by `==`.
    `fingerprint` is what the feed said (`SeenItem`): stored on the job's link to the feed that
    listed it, not with the job, and not compared by `==` either.
    """

    source: str
    external_id: str
    title: str
    content_hash: str
    company: str | None = None
    location: str | None = None
    job_type: str | None = None
    categories: tuple[str, ...] = ()
    summary: str | None = None
    description_html: str = ""
    description_text: str = ""
    url: str | None = None
    logo_url: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    position: int = 0
    warnings: tuple[str, ...] = field(default=(), compare=False)
    fingerprint: str | None = field(default=None, compare=False)

    @property
    def identity(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def id(self) -> str:
        return job_id(self.source, self.external_id)


@dataclass(frozen=True, slots=True)
class SeenItem:
    """An item whose feed says exactly what it said when the stored job was last read from that
    feed: its fingerprint (the raw item as parsed, the base its links resolve against and the
    normalizer's version) equals the one on the job's link to the feed. It is staged without
    its content and applied as a sighting: counted `unchanged`, `lastSeenAt` moved, the link
    refreshed. `warnings` are the item's, as `Job.warnings`."""

    source: str
    external_id: str
    fingerprint: str
    position: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def id(self) -> str:
        return job_id(self.source, self.external_id)


def utc_now() -> datetime:
    """The default clock of the store, the scheduler and the alerts: now, in UTC."""
    return datetime.now(UTC)


def job_id(source: str, external_id: str) -> str:
    """A job's public id: stable, URL-safe, the same on every backend."""
    return hashlib.sha256(f"{source}\x00{external_id}".encode()).hexdigest()[:24]


def new_run_id(now: datetime) -> str:
    """A run id that sorts by creation time: 12 hex digits of milliseconds, then 12 random ones."""
    return f"{int(now.timestamp() * 1000):012x}{os.urandom(6).hex()}"


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """An item that could not be imported, with a stable reason code and a human message.

    `position` is the item's 0-based index in its document; `identity` and `url` are set when known.
    """

    reason: str
    message: str
    position: int | None = None
    identity: str | None = None
    url: str | None = None
    title: str | None = None


StagedEntry = Job | SeenItem | ItemFailure
"""What a staged batch holds, in document order: the normalized jobs, the items seen unchanged,
and the item failures."""


@dataclass(frozen=True, slots=True)
class FeedErrorInfo:
    """A feed-level failure as recorded on a run: reason code, message, and where it applies."""

    reason: str
    message: str
    status: int | None = None
    line: int | None = None
    column: int | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class FetchInfo:
    """The HTTP outcome of a run's download."""

    status: int | None = None
    not_modified: bool = False
    bytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    content_type: str | None = None
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class RunCounts:
    """Counts of one run (or of one batch). Invariants: fetched = imported + failed and
    imported = new + updated + unchanged. `expired` stands apart (see `reads_whole_document`)."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    expired: int = 0
    """Jobs this run's close expired (outside the invariants: they were not in the document)."""

    @property
    def imported(self) -> int:
        return self.new + self.updated + self.unchanged

    def __add__(self, other: RunCounts) -> RunCounts:
        return RunCounts(
            fetched=self.fetched + other.fetched,
            new=self.new + other.new,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            failed=self.failed + other.failed,
            expired=self.expired + other.expired,
        )


MAX_STORED_FAILURES = 100
"""Item failures kept in full per run; the rest are only counted by reason."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What applying one staged batch did. Written once per (run, n); a replay returns it."""

    run_id: str
    n: int
    counts: RunCounts
    failures: tuple[ItemFailure, ...] = ()
    warnings: dict[str, int] = field(default_factory=dict, hash=False)
    """Leniencies by reason (WarningReason): how many of the batch's jobs needed each."""


@dataclass(frozen=True, slots=True)
class ImportRun:
    """One import of one feed: the import log. `id` is the run id."""

    id: str
    feed_url: str
    status: RunStatus
    created_at: datetime
    trigger: str = "cli"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counts: RunCounts = RunCounts()
    failures: tuple[ItemFailure, ...] = ()
    failure_counts: dict[str, int] = field(default_factory=dict)
    error: FeedErrorInfo | None = None
    fetch: FetchInfo | None = None
    batches_total: int | None = None
    batches_done: int = 0
    attempts: int = 0
    updated_at: datetime | None = None
    requeues: int = 0
    retry_of: str | None = None
    warnings: dict[str, int] = field(default_factory=dict)
    """Leniencies by reason (WarningReason): items count once per reason, the document's own
    (its encoding) once per run. Never failures: a run with only warnings succeeds."""

    @property
    def staged(self) -> bool:
        """True once every batch of the run is staged and `batches_total` is known (not to be
        confused with `counts.fetched`, the number of items read)."""
        return self.batches_total is not None

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


def add_counts(into: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    """Two maps of counts by reason, added."""
    total = dict(into)
    for reason, count in more.items():
        total[reason] = total.get(reason, 0) + count
    return total


def count_warnings(entries: Iterable[StagedEntry]) -> dict[str, int]:
    """Warnings by reason over `entries`: each job counts once per reason it carries."""
    counts: dict[str, int] = {}
    for entry in entries:
        if not isinstance(entry, ItemFailure):
            for reason in entry.warnings:
                counts[reason] = counts.get(reason, 0) + 1
    return counts


def final_status(counts: RunCounts, error: FeedErrorInfo | None) -> RunStatus:
    """The status a fetched run ends with once every batch has a result (DESIGN §3)."""
    if counts.imported == 0:
        return RunStatus.FAILED if (counts.failed or error) else RunStatus.SUCCEEDED
    if counts.failed or error:
        return RunStatus.PARTIAL
    return RunStatus.SUCCEEDED


def reads_whole_document(
    status: RunStatus,
    error: FeedErrorInfo | None,
    failure_counts: Mapping[str, int] | None = None,
) -> bool:
    """Whether a closed run saw the feed's whole document, so a job missing from it is really
    gone: succeeded, not_modified, or partial with only item failures. Only such runs advance
    the expiry of jobs (EXPIRE_AFTER_RUNS); a failed run, a broken document or a cancelled run
    never expires anything, and neither does a run with items lost or refused by the store
    (they were in the document but never applied)."""
    counts = failure_counts or {}
    if counts.get(ItemFailureReason.LOST.value) or counts.get(ItemFailureReason.STORE_ERROR.value):
        return False
    if status in (RunStatus.SUCCEEDED, RunStatus.NOT_MODIFIED):
        return True
    return status is RunStatus.PARTIAL and error is None


class FeedOrigin(StrEnum):
    """Where a stored feed comes from. Only CONFIG and API feeds are listed and scheduled."""

    CONFIG = "config"  # seeded from JOBIMPORT_FEEDS: can be paused, not deleted
    API = "api"  # added at run time (API or admin page): can be deleted
    ADHOC = "adhoc"  # only imported once by URL (CLI): state kept for conditional GET


class JobStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"


def feed_id(url: str) -> str:
    """A feed's public id: stable, URL-safe, derived from its URL, the same on every backend."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FeedState:
    """A stored feed: its settings (name, schedule, paused, headers: written by people through
    `Store.add_feed` / `update_feed`) and its run state (validators, last run, failure streak,
    next run, alert: written by the pipeline through `Store.save_feed_run_state`)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_run_id: str | None = None
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    next_run_at: datetime | None = None
    # settings
    name: str | None = None
    schedule: str | None = None  # None: JOBIMPORT_SCHEDULE
    paused: bool = False
    origin: FeedOrigin = FeedOrigin.ADHOC
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # secrets: never logged
    created_at: datetime | None = None
    # Why jobimport paused it at start (a stored header value or schedule that is no longer
    # accepted); None when no such note. Cleared when a person resumes it or changes those.
    pause_note: str | None = None
    # run state: when the failure alert of the current streak was sent (None: not alerted)
    alerted_at: datetime | None = None

    @property
    def id(self) -> str:
        return feed_id(self.url)

    @property
    def registered(self) -> bool:
        """Listed, scheduled when not paused (seeded from configuration or added at run time)."""
        return self.origin is not FeedOrigin.ADHOC

    def run_state_only(self) -> FeedState:
        """This run state as an unregistered feed: what `Store.save_feed_run_state` inserts when
        the feed is missing (deleted while its run was in flight, or imported once by URL)."""
        return FeedState(url=self.url, **{name: getattr(self, name) for name in FEED_RUN_STATE})


FEED_RUN_STATE = (
    "etag",
    "last_modified",
    "last_run_id",
    "last_run_at",
    "last_status",
    "last_success_at",
    "consecutive_failures",
    "next_run_at",
    "alerted_at",
)
"""The FeedState fields the pipeline writes (`Store.save_feed_run_state`); the rest: settings."""
