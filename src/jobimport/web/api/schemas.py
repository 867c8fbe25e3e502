"""Request and query shapes of the HTTP API (pydantic), and the envelopes only the API answers
(pages, progress, errors). The shapes of the domain types (import logs, jobs, feeds) are
`jobimport.wire`'s, shared with the CLI and the events. The OpenAPI document is generated from
these, and every JSON response is validated through them before it is sent, so the document
cannot drift from what the API answers. JSON keys follow the import log: `fileName`,
`totalFetched`, `newJobs`, … (camelCase)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobimport.models import JobStatus, RunStatus
from jobimport.wire import FailureOut, FeedOut, ImportLog, ImportSummary, JobOut

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
        if isinstance(value, datetime):
            try:  # in UTC, as the store compares; 0001-01-01T00:00+14:00 is before year 1
                return value.astimezone(UTC)
            except OverflowError:
                raise ValueError("the time is out of range in UTC") from None
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


class Progress(BaseModel):
    batchesTotal: int | None = Field(description="Known once the feed is staged.")
    batchesDone: int
    percent: float | None = Field(description="batchesDone / batchesTotal × 100, when known.")


class ImportDetail(ImportLog):
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


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    next: str | None


# --- feeds -----------------------------------------------------------------------------------


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
