"""The wire format is frozen: the bytes `jobimport import --json` prints and the bytes an event
carries (SSE and the Redis Stream) for fixed runs. Any change to them breaks clients, so the
expected text is spelled out here, not computed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jobimport import cli
from jobimport.events.hub import Envelope
from jobimport.events.types import FeedAlert, RunFinished, RunQueued
from jobimport.models import (
    FeedErrorInfo,
    FeedOrigin,
    FeedState,
    FetchInfo,
    ImportRun,
    ItemFailure,
    RunCounts,
    RunStatus,
)

FULL = ImportRun(
    id="019b7d1a2c3e4f5a6b7c8d9e",
    feed_url="https://jobs.example.test/feed?q=café&x=1",
    status=RunStatus.PARTIAL,
    created_at=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    trigger="api",
    started_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    finished_at=datetime(2026, 1, 2, 3, 4, 7, 500000, tzinfo=UTC),
    counts=RunCounts(fetched=7, new=3, updated=1, unchanged=1, failed=2, expired=4),
    failures=(
        ItemFailure(
            reason="missing_title",
            message="item has no <title> — skipped",
            position=0,
            identity="jobicy:42",
            url="https://jobs.example.test/42",
            title="Ingénieur",
        ),
        ItemFailure(reason="invalid_date", message="bad date"),
    ),
    failure_counts={"missing_title": 1, "invalid_date": 1},
    warnings={"date_unparsed": 2, "encoding_replaced": 1},
    error=FeedErrorInfo(
        reason="malformed_xml",
        message='unexpected "&" in text',
        status=200,
        line=38,
        column=3,
        retry_after_s=1.5,
    ),
    fetch=FetchInfo(
        status=200,
        not_modified=False,
        bytes=123456,
        etag='W/"abc"',
        last_modified="Fri, 02 Jan 2026 03:04:05 GMT",
        final_url="https://jobs.example.test/feed",
        content_type="application/rss+xml; charset=utf-8",
        duration_ms=321,
    ),
    batches_total=3,
    batches_done=3,
    attempts=2,
    updated_at=datetime(2026, 1, 2, 5, 4, 7, 120, tzinfo=timezone(timedelta(hours=2))),
    requeues=1,
    retry_of="019b7d1a2c3e4f5a6b7c8d00",
)

BARE = ImportRun(
    id="019b7d1a2c3e4f5a6b7c8d9f",
    feed_url="https://x.test/",
    status=RunStatus.QUEUED,
    created_at=datetime(2026, 1, 2, 3, 4, 5),  # naive: written as it is, without an offset
)

NOT_MODIFIED = ImportRun(
    id="019b7d1a2c3e4f5a6b7c8da0",
    feed_url="https://x.test/",
    status=RunStatus.FAILED,
    created_at=datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
    started_at=datetime(2026, 1, 2, 3, 4, 5, 2, tzinfo=UTC),
    finished_at=datetime(2026, 1, 2, 3, 4, 5, 2, tzinfo=UTC),
    error=FeedErrorInfo(reason="http_5xx", message="503", status=503, retry_after_s=30.0),
    fetch=FetchInfo(status=304, not_modified=True),
    batches_total=0,
)

CLI_JSON = """\
[
  {
    "id": "019b7d1a2c3e4f5a6b7c8d9e",
    "fileName": "https://jobs.example.test/feed?q=caf\\u00e9&x=1",
    "status": "partial",
    "trigger": "api",
    "createdAt": "2026-01-02T03:04:05.123456Z",
    "startedAt": "2026-01-02T03:04:06Z",
    "finishedAt": "2026-01-02T03:04:07.500000Z",
    "durationMs": 1500,
    "totalFetched": 7,
    "totalImported": 5,
    "newJobs": 3,
    "updatedJobs": 1,
    "unchangedJobs": 1,
    "failedJobs": 2,
    "expiredJobs": 4,
    "failures": [
      {
        "reason": "missing_title",
        "message": "item has no <title> \\u2014 skipped",
        "position": 0,
        "identity": "jobicy:42",
        "url": "https://jobs.example.test/42",
        "title": "Ing\\u00e9nieur"
      },
      {
        "reason": "invalid_date",
        "message": "bad date",
        "position": null,
        "identity": null,
        "url": null,
        "title": null
      }
    ],
    "failureCounts": {
      "missing_title": 1,
      "invalid_date": 1
    },
    "warnings": {
      "date_unparsed": 2,
      "encoding_replaced": 1
    },
    "error": {
      "reason": "malformed_xml",
      "message": "unexpected \\"&\\" in text",
      "status": 200,
      "line": 38,
      "column": 3,
      "retryAfterS": 1.5
    },
    "http": {
      "status": 200,
      "notModified": false,
      "bytes": 123456,
      "etag": "W/\\"abc\\"",
      "lastModified": "Fri, 02 Jan 2026 03:04:05 GMT",
      "finalUrl": "https://jobs.example.test/feed",
      "contentType": "application/rss+xml; charset=utf-8",
      "durationMs": 321
    },
    "batchesTotal": 3,
    "batchesDone": 3,
    "updatedAt": "2026-01-02T05:04:07.000120+02:00",
    "attempts": 2,
    "requeues": 1,
    "retryOf": "019b7d1a2c3e4f5a6b7c8d00"
  },
  {
    "id": "019b7d1a2c3e4f5a6b7c8d9f",
    "fileName": "https://x.test/",
    "status": "queued",
    "trigger": "cli",
    "createdAt": "2026-01-02T03:04:05",
    "startedAt": null,
    "finishedAt": null,
    "durationMs": null,
    "totalFetched": 0,
    "totalImported": 0,
    "newJobs": 0,
    "updatedJobs": 0,
    "unchangedJobs": 0,
    "failedJobs": 0,
    "expiredJobs": 0,
    "failures": [],
    "failureCounts": {},
    "warnings": {},
    "error": null,
    "http": null,
    "batchesTotal": null,
    "batchesDone": 0,
    "updatedAt": null,
    "attempts": 0,
    "requeues": 0,
    "retryOf": null
  },
  {
    "id": "019b7d1a2c3e4f5a6b7c8da0",
    "fileName": "https://x.test/",
    "status": "failed",
    "trigger": "cli",
    "createdAt": "2026-01-02T03:04:05.000001Z",
    "startedAt": "2026-01-02T03:04:05.000002Z",
    "finishedAt": "2026-01-02T03:04:05.000002Z",
    "durationMs": 0,
    "totalFetched": 0,
    "totalImported": 0,
    "newJobs": 0,
    "updatedJobs": 0,
    "unchangedJobs": 0,
    "failedJobs": 0,
    "expiredJobs": 0,
    "failures": [],
    "failureCounts": {},
    "warnings": {},
    "error": {
      "reason": "http_5xx",
      "message": "503",
      "status": 503,
      "line": null,
      "column": null,
      "retryAfterS": 30.0
    },
    "http": {
      "status": 304,
      "notModified": true,
      "bytes": 0,
      "etag": null,
      "lastModified": null,
      "finalUrl": null,
      "contentType": null,
      "durationMs": null
    },
    "batchesTotal": 0,
    "batchesDone": 0,
    "updatedAt": null,
    "attempts": 0,
    "requeues": 0,
    "retryOf": null
  }
]
"""


def test_import_json_output_is_byte_for_byte_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    cli._print_runs([FULL, BARE, NOT_MODIFIED], as_json=True)
    assert capsys.readouterr().out == CLI_JSON


def wire(payload: dict[str, object]) -> str:
    """The event's data as the hub sends it over SSE and the Redis bus writes it to the stream."""
    text = Envelope(id="1", type="x", data=payload).text
    assert text == json.dumps(payload, separators=(",", ":"))  # redis_bus.publish's encoding
    return text


BARE_EVENT = (
    '{"type":"run.queued","run":{"id":"019b7d1a2c3e4f5a6b7c8d9f","fileName":"https://x.test/",'
    '"status":"queued","trigger":"cli","createdAt":"2026-01-02T03:04:05","startedAt":null,'
    '"finishedAt":null,"durationMs":null,"totalFetched":0,"totalImported":0,"newJobs":0,'
    '"updatedJobs":0,"unchangedJobs":0,"failedJobs":0,"expiredJobs":0,"failures":[],'
    '"failureCounts":{},"warnings":{},"error":null,"http":null,"batchesTotal":null,"batchesDone":0,'
    '"updatedAt":null,"attempts":0,"requeues":0,"retryOf":null}}'
)

FULL_RUN = (
    '{"id":"019b7d1a2c3e4f5a6b7c8d9e","fileName":"https://jobs.example.test/feed?q=caf\\u00e9&x=1",'
    '"status":"partial","trigger":"api","createdAt":"2026-01-02T03:04:05.123456Z",'
    '"startedAt":"2026-01-02T03:04:06Z","finishedAt":"2026-01-02T03:04:07.500000Z",'
    '"durationMs":1500,"totalFetched":7,"totalImported":5,"newJobs":3,"updatedJobs":1,'
    '"unchangedJobs":1,"failedJobs":2,"expiredJobs":4,"failures":[{"reason":"missing_title",'
    '"message":"item has no <title> \\u2014 skipped","position":0,"identity":"jobicy:42",'
    '"url":"https://jobs.example.test/42","title":"Ing\\u00e9nieur"},{"reason":"invalid_date",'
    '"message":"bad date","position":null,"identity":null,"url":null,"title":null}],'
    '"failureCounts":{"missing_title":1,"invalid_date":1},'
    '"warnings":{"date_unparsed":2,"encoding_replaced":1},"error":{"reason":"malformed_xml",'
    '"message":"unexpected \\"&\\" in text","status":200,"line":38,"column":3,"retryAfterS":1.5},'
    '"http":{"status":200,"notModified":false,"bytes":123456,"etag":"W/\\"abc\\"",'
    '"lastModified":"Fri, 02 Jan 2026 03:04:05 GMT","finalUrl":"https://jobs.example.test/feed",'
    '"contentType":"application/rss+xml; charset=utf-8","durationMs":321},"batchesTotal":3,'
    '"batchesDone":3,"updatedAt":"2026-01-02T05:04:07.000120+02:00","attempts":2,"requeues":1,'
    '"retryOf":"019b7d1a2c3e4f5a6b7c8d00"}'
)


def test_run_event_payload_is_byte_for_byte_the_same() -> None:
    assert wire(RunQueued(BARE).to_json()) == BARE_EVENT
    assert wire(RunFinished(FULL).to_json()) == '{"type":"run.finished","run":' + FULL_RUN + "}"


def test_alert_event_payload_is_byte_for_byte_the_same() -> None:
    feed = FeedState(
        url=FULL.feed_url, name="Jobs “é”", origin=FeedOrigin.API, consecutive_failures=3
    )
    assert wire(FeedAlert(FULL, kind="failing", feed=feed).to_json()) == (
        '{"type":"feed.alert","kind":"failing","feed":{"id":"8b9b44f7c0d9d4e0",'
        '"url":"https://jobs.example.test/feed?q=caf\\u00e9&x=1",'
        '"name":"Jobs \\u201c\\u00e9\\u201d"},"consecutiveFailures":3,"run":' + FULL_RUN + "}"
    )
    assert wire(FeedAlert(BARE, kind="recovered").to_json()) == (
        '{"type":"feed.alert","kind":"recovered","feed":null,"consecutiveFailures":0,"run":'
        + BARE_EVENT.removeprefix('{"type":"run.queued","run":')
    )
