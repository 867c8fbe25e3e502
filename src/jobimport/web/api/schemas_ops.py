"""Request and response shapes of the operations endpoints: managing feeds, previewing a feed,
and the queue (the domain types' shapes are `jobimport.wire`'s). The OpenAPI document is
generated from these, like from `schemas`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from jobimport.feed_policy import parse_schedule
from jobimport.reader.headers import check_feed_headers
from jobimport.wire import FailureOut, FeedErrorOut, HttpOut, JobItem

MAX_URL_CHARS = 2048


def _schedule(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    parse_schedule(value)  # ValueError → 400 naming the field
    return value


def _headers(value: dict[str, str] | None) -> dict[str, str] | None:
    return None if value is None else check_feed_headers(value)


class FeedCreate(BaseModel):
    """Body of POST /api/feeds."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS, description="http(s) feed URL.")
    name: str | None = Field(None, max_length=200, description="A label for people.")
    schedule: str | None = Field(
        None, max_length=200, description="`1h`-style interval or cron; null = the default."
    )
    headers: dict[str, str] | None = Field(
        None, description="Request headers to send (a token); stored, never shown back."
    )
    paused: StrictBool = Field(False, description="Add it paused: cron skips it.")

    _check_schedule = field_validator("schedule")(_schedule)
    _check_headers = field_validator("headers")(_headers)


class FeedPatch(BaseModel):
    """Body of PATCH /api/feeds/{id}: the fields given are changed, the rest kept."""

    model_config = ConfigDict(extra="forbid")

    paused: StrictBool | None = Field(None, description="Pause (cron skips it) or resume.")
    schedule: str | None = Field(None, max_length=200, description="null = the default.")
    name: str | None = Field(None, max_length=200)
    headers: dict[str, str] | None = Field(None, description="Replaces them all; null = none.")

    _check_schedule = field_validator("schedule")(_schedule)
    _check_headers = field_validator("headers")(_headers)


class PreviewRequest(BaseModel):
    """Body of POST /api/feeds/preview."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS)
    headers: dict[str, str] | None = None

    _check_headers = field_validator("headers")(_headers)


class FeedPreviewOut(BaseModel):
    url: str
    totalFetched: int = Field(description="Items read (the item count of the feed).")
    failedJobs: int = Field(description="Items that would fail.")
    items: list[JobItem] = Field(description="The first 10 items that would import.")
    failures: list[FailureOut] = Field(description="The first 50 failed items with reasons.")
    error: FeedErrorOut | None = Field(description="Why the feed (or its rest) could not be read.")
    http: HttpOut | None
    warnings: dict[str, int] = Field(
        description="Leniencies by reason, as an import would count them (never failures)."
    )


class QueueCounts(BaseModel):
    waiting: int
    running: int
    deferred: int = Field(description="Waiting for a later time (retry backoff).")
    failed: int = Field(description="Ended in failure within `failedWindowS`.")


class QueueOut(BaseModel):
    backend: Literal["arq", "local"]
    kinds: dict[str, QueueCounts] = Field(description="`fetch`, `batch`, `tick`, `other`.")
    totals: QueueCounts
    oldestWaitingS: float | None = Field(description="Age of the oldest waiting task.")
    failedWindowS: float | None = Field(description="How far back `failed` looks.")
    exact: bool = Field(
        description="False when a large queue's split by kind was estimated from a sample"
        " (the totals are exact)."
    )
