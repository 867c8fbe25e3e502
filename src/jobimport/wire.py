"""The JSON shapes of the domain types, each defined once (pydantic, camelCase keys). The API
answers with them (its OpenAPI document is generated from them), `jobimport import --json` prints
them and the run events carry them. Build one with `Shape.of(value)`, write it with
`model_dump(mode="json")` or `model_dump_json()`.

Key order is part of the format: `jobimport import --json` and the event payloads keep the order
they always had (tests/test_wire.py spells out their bytes), so fields are declared in that order.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, Field
from pydantic.alias_generators import to_camel

from jobimport.models import FeedOrigin, FeedState, ImportRun, Job, JobStatus, RunStatus

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Mirror(BaseModel):
    """Base of the shapes that have their dataclass's fields, in order, under camelCase names.
    They are built from the fields themselves, so the mapping is never written out by hand
    (tests/test_wire_shapes.py checks each shape stays in step with its dataclass)."""

    @classmethod
    def of(cls, value: DataclassInstance) -> Self:
        return cls.model_validate({to_camel(f.name): getattr(value, f.name) for f in fields(value)})


# --- the parts of an import log --------------------------------------------------------------


class FailureOut(Mirror):
    reason: str
    message: str
    position: int | None = Field(description="0-based index of the item in its document.")
    identity: str | None
    url: str | None
    title: str | None


class FeedErrorOut(Mirror):
    reason: str
    message: str
    status: int | None
    line: int | None
    column: int | None
    retryAfterS: float | None


class HttpOut(Mirror):
    status: int | None
    notModified: bool
    bytes: int
    etag: str | None
    lastModified: str | None
    finalUrl: str | None
    contentType: str | None
    durationMs: int | None


# --- import logs -----------------------------------------------------------------------------


class ImportLog(BaseModel):
    """An import log with the first 100 failed items in full."""

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
    failures: list[FailureOut]
    failureCounts: dict[str, int]
    warnings: dict[str, int] = Field(
        description="Leniencies by reason (`date_unparsed`, `encoding_replaced`, …): an item "
        "counts once per reason, the document's own once. Never failures."
    )
    error: FeedErrorOut | None
    http: HttpOut | None
    batchesTotal: int | None
    batchesDone: int
    updatedAt: datetime | None
    attempts: int
    requeues: int
    retryOf: str | None = Field(description="The run this run retries, if it is a retry.")

    @classmethod
    def of(cls, run: ImportRun) -> Self:
        return cls(**_run_fields(run), failures=[FailureOut.of(f) for f in run.failures])


class ImportSummary(ImportLog):
    """An import log without its list of failed items (see docs/import-log.md)."""

    # Left out of the JSON (and of the OpenAPI schema): listings stay small.
    failures: list[FailureOut] = Field(default_factory=list, exclude=True)

    @classmethod
    def of(cls, run: ImportRun) -> Self:
        return cls(**_run_fields(run))


def _run_fields(run: ImportRun) -> dict[str, Any]:
    """Every field of an import log but `failures`."""
    counts = run.counts
    return {
        "id": run.id,
        "fileName": run.feed_url,
        "status": run.status,
        "trigger": run.trigger,
        "createdAt": run.created_at,
        "startedAt": run.started_at,
        "finishedAt": run.finished_at,
        "durationMs": run.duration_ms,
        "totalFetched": counts.fetched,
        "totalImported": counts.imported,
        "newJobs": counts.new,
        "updatedJobs": counts.updated,
        "unchangedJobs": counts.unchanged,
        "failedJobs": counts.failed,
        "expiredJobs": counts.expired,
        "failureCounts": dict(run.failure_counts),
        "warnings": dict(run.warnings),
        "error": None if run.error is None else FeedErrorOut.of(run.error),
        "http": None if run.fetch is None else HttpOut.of(run.fetch),
        "batchesTotal": run.batches_total,
        "batchesDone": run.batches_done,
        "updatedAt": run.updated_at,
        "attempts": run.attempts,
        "requeues": run.requeues,
        "retryOf": run.retry_of,
    }


# --- jobs ------------------------------------------------------------------------------------


class EnclosureOut(Mirror):
    """A file attached to the item (`models.Enclosure`): an http(s) URL, its media type and its
    length when given."""

    url: str
    type: str | None
    length: int | None = Field(description="In bytes, as the feed gave it.")


class JobItem(BaseModel):
    """A job as its feed lists it: an item of a preview, and the start of a stored job."""

    id: str
    source: str
    externalId: str
    title: str
    company: str | None
    location: str | None
    type: str | None
    categories: list[str]
    summary: str | None = Field(description="The feed's teaser, plain text.")
    url: str | None
    publishedAt: datetime | None
    author: str | None = Field(description="`dc:creator`, `author`, or the Atom/JSON Feed author.")
    enclosures: list[EnclosureOut] = Field(
        description="Files attached to the item (RSS enclosure, Atom rel=enclosure, attachments)."
    )

    @classmethod
    def of(cls, job: Job, **more: Any) -> Self:
        """`more`: the fields a subclass adds (what the store knows of the job)."""
        return cls(
            id=job.id,
            source=job.source,
            externalId=job.external_id,
            title=job.title,
            company=job.company,
            location=job.location,
            type=job.job_type,
            categories=list(job.categories),
            summary=job.summary,
            url=job.url,
            publishedAt=job.published_at,
            author=job.author,
            enclosures=[EnclosureOut.of(e) for e in job.enclosures],
            **more,
        )


class JobOut(JobItem):
    descriptionHtml: str = Field(description="The full description, sanitized HTML.")
    logoUrl: str | None
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


# --- feeds -----------------------------------------------------------------------------------


class FeedRef(BaseModel):
    """Which feed: what an alert names, and the start of a feed's full state."""

    id: str
    url: str
    name: str | None

    @classmethod
    def of(cls, feed: FeedState, **more: Any) -> Self:
        """`more`: the fields a subclass adds."""
        return cls(id=feed.id, url=feed.url, name=feed.name, **more)


class FeedOut(FeedRef):
    origin: FeedOrigin = Field(description="`config`: from JOBIMPORT_FEEDS; `api`: added later.")
    paused: bool
    pauseNote: str | None = Field(
        None,
        description="Why jobimport paused it at start (a stored schedule or header value that is"
        " now refused); null when none.",
    )
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


# --- run events ------------------------------------------------------------------------------


class RunEventOut(BaseModel):
    """The payload of a run event: its type and the run's log as it stood then."""

    type: str
    run: ImportLog


class FeedAlertOut(BaseModel):
    """The payload of a `feed.alert` event."""

    type: str
    kind: Literal["failing", "recovered"]
    feed: FeedRef | None
    consecutiveFailures: int
    run: ImportLog
