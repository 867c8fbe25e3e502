"""MongoDB document shapes of the domain types, and the way back.

Datetimes are stored as BSON dates (millisecond precision, UTC) and made aware again on reading,
since a client without `tz_aware=True` (or mongomock) hands back naive UTC values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from jobimport.errors import StoreError
from jobimport.models import (
    MAX_STORED_FAILURES,
    BatchResult,
    ImportRun,
    ItemFailure,
    Job,
    JobStatus,
    RunCounts,
    RunStatus,
)
from jobimport.store import codec
from jobimport.store.base import JobRecord

Doc = dict[str, Any]

BATCH_COUNT_FIELDS = ("fetched", "new", "updated", "unchanged", "failed")
COUNT_FIELDS = (*BATCH_COUNT_FIELDS, "expired")
"""A run's counts; a batch has no `expired` (its run's close sets that, see runs.py)."""


DEFAULT_DATABASE = "jobimport"


def database_name(url: str, database: str | None) -> str:
    """The `database` argument, else the URL's path, else "jobimport"."""
    if database:
        return database
    path = unquote(urlsplit(url).path).strip("/")
    return path or DEFAULT_DATABASE


def to_ms(value: datetime) -> datetime:
    """Aware UTC at millisecond precision: what a BSON date keeps, so values we return equal the
    values a later read returns."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def required_dt(value: Any) -> datetime:
    result = codec.aware(value)
    if result is None:
        raise StoreError("a stored document lacks a required date")
    return result


def counts_to_doc(counts: RunCounts, fields: tuple[str, ...] = COUNT_FIELDS) -> Doc:
    return {name: getattr(counts, name) for name in fields}


def counts_from_doc(doc: Doc | None) -> RunCounts:
    doc = doc or {}
    return RunCounts(**{name: int(doc.get(name) or 0) for name in COUNT_FIELDS})


def failures_from_docs(docs: Any) -> tuple[ItemFailure, ...]:
    return tuple(codec.failure_from_dict(doc) for doc in docs or ())


def new_run_doc(
    run_id: str, feed_url: str, trigger: str, now: datetime, retry_of: str | None = None
) -> Doc:
    """A queued run. `in_flight` is what the partial unique index on feed_url sees: it is set
    while the run is queued or running and removed when the run closes."""
    return {
        "_id": run_id,
        "feed_url": feed_url,
        "status": RunStatus.QUEUED.value,
        "trigger": trigger,
        "retry_of": retry_of,
        "created_at": now,
        "started_at": None,
        "finished_at": None,
        "duration_ms": None,
        "counts": counts_to_doc(RunCounts()),
        "failures": [],
        "failure_counts": {},
        "warnings": {},
        "error": None,
        "fetch": None,
        "batches_done": 0,
        "applied_batches": [],
        "attempts": 0,
        "requeues": 0,
        "updated_at": now,
        "in_flight": True,
    }


def run_from_doc(doc: Doc) -> ImportRun:
    total = doc.get("batches_total")
    created_at = required_dt(doc["created_at"])
    return ImportRun(
        id=doc["_id"],
        feed_url=doc["feed_url"],
        status=RunStatus(doc["status"]),
        created_at=created_at,
        trigger=doc.get("trigger") or "cli",
        started_at=codec.aware(doc.get("started_at")),
        finished_at=codec.aware(doc.get("finished_at")),
        counts=counts_from_doc(doc.get("counts")),
        failures=failures_from_docs(doc.get("failures")),
        failure_counts=_counts_by_reason(doc.get("failure_counts")),
        error=codec.error_from_dict(doc.get("error")),
        fetch=codec.fetch_from_dict(doc.get("fetch")),
        batches_total=None if total is None else int(total),
        batches_done=int(doc.get("batches_done") or 0),
        attempts=int(doc.get("attempts") or 0),
        # A run written before schema v2 has no updated_at: it reads as its creation time.
        updated_at=codec.aware(doc.get("updated_at")) or created_at,
        requeues=int(doc.get("requeues") or 0),
        retry_of=doc.get("retry_of"),
        warnings=_counts_by_reason(doc.get("warnings")),
    )


def duration_ms(started_at: Any, finished_at: datetime) -> int | None:
    started = codec.aware(started_at)
    if started is None:
        return None
    return int((finished_at - started).total_seconds() * 1000)


def reason_increments(field: str, counts: Doc | None) -> Doc:
    """`$inc` terms adding counts by reason under `field`; reason codes become field names, so
    they are kept path-safe."""
    return {
        f"{field}.{reason.replace('.', '_').replace('$', '_')}": count
        for reason, count in (counts or {}).items()
    }


def _counts_by_reason(doc: Doc | None) -> dict[str, int]:
    return {reason: int(count) for reason, count in (doc or {}).items()}


def batch_result_doc(
    run_id: str,
    n: int,
    counts: RunCounts,
    failures: list[ItemFailure],
    now: datetime,
    warnings: dict[str, int] | None = None,
) -> Doc:
    """A batch result as stored: the first failures in full, all of them counted by reason (the
    run's failure_counts are summed from these counts, so they stay exact past the cap)."""
    by_reason: dict[str, int] = {}
    for failure in failures:
        by_reason[failure.reason] = by_reason.get(failure.reason, 0) + 1
    return {
        "run_id": run_id,
        "n": n,
        "counts": counts_to_doc(counts, BATCH_COUNT_FIELDS),
        "failures": [codec.failure_to_dict(f) for f in failures[:MAX_STORED_FAILURES]],
        "failure_counts": by_reason,
        "warnings": warnings or {},
        "created_at": now,
    }


def batch_result_from_doc(doc: Doc) -> BatchResult:
    return BatchResult(
        run_id=doc["run_id"],
        n=int(doc["n"]),
        counts=counts_from_doc(doc.get("counts")),
        failures=failures_from_docs(doc.get("failures")),
        warnings=_counts_by_reason(doc.get("warnings")),
    )


def job_content(job: Job) -> Doc:
    """Every field of the job itself (what the content hash covers, and more)."""
    return codec.job_to_dict(job)


def job_record_from_doc(doc: Doc) -> JobRecord:
    return JobRecord(
        id=doc["_id"],
        job=codec.from_dict(Job, doc),
        first_seen_at=required_dt(doc["first_seen_at"]),
        last_seen_at=required_dt(doc["last_seen_at"]),
        last_changed_at=required_dt(doc["last_changed_at"]),
        first_seen_run_id=doc["first_seen_run_id"],
        last_seen_run_id=doc["last_seen_run_id"],
        last_changed_run_id=doc["last_changed_run_id"],
        feeds=tuple(doc.get("feeds") or ()),
        # A job written before schema v3 has no status: it reads as active.
        status=JobStatus(doc.get("status") or JobStatus.ACTIVE.value),
        expired_at=codec.aware(doc.get("expired_at")),
    )


def ms_ceil(value: datetime) -> datetime:
    """`value` rounded up to a whole millisecond: BSON dates keep milliseconds, so for a stored
    time, `< ms_ceil(value)` means the same as `< value` (the driver would truncate instead)."""
    bound = to_ms(value)
    return bound + timedelta(milliseconds=1) if value.microsecond % 1000 else bound
