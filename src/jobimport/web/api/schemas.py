"""Request and response shapes of the HTTP API (pydantic). The OpenAPI document is generated from
these, and every JSON response is validated through them before it is sent, so the document
cannot drift from what the API answers. JSON keys follow the import log: `fileName`,
`totalFetched`, `newJobs`, … (camelCase)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobimport.models import FeedOrigin, JobStatus, RunStatus

# --- errors ----------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_parameter`.")
    message: str = Field(description="What went wrong, for people.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Context, e.g. `parameter` for a bad query parameter."
    )


class ErrorEnvelope(BaseModel):
    """Every error answer of the API."""

    error: ErrorBody


# --- query parameters ------------------------------------------------------------------------


class QueryModel(BaseModel):
    """Base of the query-parameter models: unknown parameters are refused, naive times are UTC."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class NoQuery(QueryModel):
    """An endpoint without query parameters: any given is refused."""


class PageQuery(QueryModel):
    limit: int = Field(20, ge=1, le=100, description="Page size, 1–100.")
    cursor: str | None = Field(
        None,
        max_length=512,
        description="Opaque cursor from a previous answer's `next`; not with `page`.",
    )
    page: int | None = Field(
        None, ge=1, le=1_000_000, description="1-based page number; not with `cursor`."
    )
    order: Literal["asc", "desc"] = Field("desc", description="Sort direction.")


ImportSort = Literal[
    "createdAt",
    "startedAt",
    "durationMs",
    "fileName",
    "status",
    "totalFetched",
    "newJobs",
    "updatedJobs",
    "unchangedJobs",
    "failedJobs",
]


class ImportListQuery(PageQuery):
    sort: ImportSort = Field("createdAt", description="Column to sort by.")
    feed: str | None = Field(None, max_length=2048, description="Only runs of this feed URL.")
    status: list[RunStatus] = Field(
        default_factory=list,
        description="Only runs with one of these statuses (repeat it, or separate with commas).",
    )
    since: datetime | None = Field(None, description="Runs created at or after this time.")
    until: datetime | None = Field(None, description="Runs created before this time.")
    withFailures: bool = Field(
        False, description="Only runs with failed items or a feed-level error."
    )


class FailureQuery(QueryModel):
    failuresLimit: int = Field(20, ge=1, le=100, description="Failures per page, 1–100.")
    failuresCursor: str | None = Field(
        None, max_length=512, description="Cursor from `failuresNext`; not with `failuresPage`."
    )
    failuresPage: int | None = Field(None, ge=1, le=1000, description="1-based failures page.")


JobSort = Literal["updatedAt", "publishedAt", "firstSeenAt", "lastSeenAt", "title", "company"]


class JobListQuery(PageQuery):
    sort: JobSort = Field("updatedAt", description="Field to sort by.")
    q: str | None = Field(
        None,
        max_length=200,
        description="Words that must all appear in the title, company or description.",
    )
    company: str | None = Field(None, max_length=500, description="Exact company name.")
    location: str | None = Field(
        None, max_length=500, description="Text the location contains (case-insensitive)."
    )
    type: str | None = Field(None, max_length=200, description="Exact job type, e.g. `Full Time`.")
    category: str | None = Field(None, max_length=500, description="One of the job's categories.")
    source: str | None = Field(
        None, max_length=200, description="`jobicy`, `higheredjobs` or a feed host."
    )
    feed: str | None = Field(None, max_length=2048, description="Jobs listed by this feed URL.")
    status: JobStatus | None = Field(
        None, description="`active` or `expired` (gone from every feed that listed it)."
    )
    updatedSince: datetime | None = Field(
        None, description="Jobs whose content changed (or appeared) at or after this time."
    )


class FeedListQuery(QueryModel):
    limit: int = Field(20, ge=1, le=100, description="Page size, 1–100.")
    cursor: str | None = Field(None, max_length=512, description="Cursor from `next`.")
    page: int | None = Field(None, ge=1, le=1_000_000, description="1-based page number.")


# --- import logs -----------------------------------------------------------------------------


class FailureOut(BaseModel):
    reason: str
    message: str
    position: int | None = Field(description="0-based index of the item in its document.")
    identity: str | None
    url: str | None
    title: str | None


class FeedErrorOut(BaseModel):
    reason: str
    message: str
    status: int | None
    line: int | None
    column: int | None
    retryAfterS: float | None


class HttpOut(BaseModel):
    status: int | None
    notModified: bool
    bytes: int
    etag: str | None
    lastModified: str | None
    finalUrl: str | None
    contentType: str | None
    durationMs: int | None


class ImportSummary(BaseModel):
    """An import log without its list of failed items (see docs/import-log.md)."""

    id: str
    fileName: str = Field(description="The feed URL.")
    status: RunStatus
    trigger: str
    createdAt: datetime
    startedAt: datetime | None
    finishedAt: datetime | None
    durationMs: int | None
    totalFetched: int
    totalImported: int
    newJobs: int
    updatedJobs: int
    unchangedJobs: int
    failedJobs: int
    expiredJobs: int = Field(description="Jobs this run expired (missing from the feed).")
    failureCounts: dict[str, int]
    error: FeedErrorOut | None
    http: HttpOut | None
    batchesTotal: int | None
    batchesDone: int
    updatedAt: datetime | None
    attempts: int
    requeues: int
    retryOf: str | None = Field(description="The run this run retries, if it is a retry.")


class ImportLog(ImportSummary):
    """An import log with the first 100 failed items in full."""

    failures: list[FailureOut]


class Progress(BaseModel):
    batchesTotal: int | None = Field(description="Known once the feed is staged.")
    batchesDone: int
    percent: float | None = Field(description="batchesDone / batchesTotal × 100, when known.")


class ImportDetail(ImportSummary):
    """One import log, its failed items paged, and its batch progress."""

    failures: list[FailureOut] = Field(description="This page of the stored failed items.")
    failuresTotal: int = Field(description="Failed items stored in full (at most 100).")
    failuresNext: str | None = Field(description="`failuresCursor` of the next page, or null.")
    progress: Progress


class ImportPage(BaseModel):
    items: list[ImportSummary]
    total: int = Field(description="Matches of the filters, over all pages.")
    next: str | None = Field(description="`cursor` of the next page, or null on the last page.")


class ImportRequest(BaseModel):
    """Body of POST /api/imports; absent or without `feeds`: every registered feed that is not
    paused."""

    model_config = ConfigDict(extra="forbid")

    feeds: list[str] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Registered feed URLs to import now (paused ones too).",
    )


class RunsAccepted(BaseModel):
    runs: list[ImportLog] = Field(
        description="One run per feed: a new queued run, or the feed's run already in flight."
    )


# --- jobs ------------------------------------------------------------------------------------


class JobOut(BaseModel):
    id: str
    source: str
    externalId: str
    title: str
    company: str | None
    location: str | None
    type: str | None
    categories: list[str]
    summary: str | None = Field(description="The feed's teaser, plain text.")
    descriptionHtml: str = Field(description="The full description, sanitized HTML.")
    url: str | None
    logoUrl: str | None
    publishedAt: datetime | None
    firstSeenAt: datetime
    lastSeenAt: datetime
    updatedAt: datetime = Field(description="When its content last changed (or it appeared).")
    firstSeenRunId: str
    lastSeenRunId: str
    lastChangedRunId: str
    feeds: list[str] = Field(description="Every feed URL that listed it.")
    status: JobStatus = Field(description="`expired` once gone from every feed that listed it.")
    expiredAt: datetime | None


class JobDetail(JobOut):
    descriptionText: str = Field(description="The description as plain text.")
    raw: dict[str, Any] = Field(description="The item as read from the feed, as JSON.")


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    next: str | None


# --- feeds -----------------------------------------------------------------------------------


class FeedOut(BaseModel):
    id: str
    url: str
    name: str | None
    origin: FeedOrigin = Field(description="`config`: from JOBIMPORT_FEEDS; `api`: added later.")
    paused: bool
    schedule: str | None = Field(description="Its own schedule; null = JOBIMPORT_SCHEDULE.")
    effectiveSchedule: str
    headerNames: list[str] = Field(description="Request headers it sends (values never shown).")
    createdAt: datetime | None
    alerted: bool = Field(description="A failure alert was sent for its current streak.")
    lastRunId: str | None
    lastRunAt: datetime | None
    lastStatus: RunStatus | None
    lastSuccessAt: datetime | None
    consecutiveFailures: int
    nextRunAt: datetime | None = Field(description="Null: never imported, due at the next tick.")
    due: bool = Field(description="The scheduler starts it at its next tick.")
    inFlightRunId: str | None = Field(description="Its queued or running run, if any.")


class FeedPage(BaseModel):
    items: list[FeedOut]
    total: int
    next: str | None


# --- health and session ----------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]


class Check(BaseModel):
    ok: bool
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    role: str
    checks: dict[str, Check] = Field(description="`store`, `redis` (when configured), `worker`.")


class SessionRequest(BaseModel):
    """Body of POST /api/session (or send the token as a bearer header instead)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=1024)
