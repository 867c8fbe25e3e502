"""Plain-dict forms of the domain types, shared by the backends (SQLite keeps them as JSON text,
MongoDB as documents). Datetimes stay datetimes here; each backend decides how to store them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from jobimport.models import FeedErrorInfo, FetchInfo, ItemFailure, Job, StagedEntry


def aware(value: datetime | None) -> datetime | None:
    """Backends may hand back naive UTC datetimes (MongoDB, SQLite text); make them aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def job_to_dict(job: Job) -> dict[str, Any]:
    return {
        "kind": "job",
        "source": job.source,
        "external_id": job.external_id,
        "title": job.title,
        "content_hash": job.content_hash,
        "company": job.company,
        "location": job.location,
        "job_type": job.job_type,
        "categories": list(job.categories),
        "summary": job.summary,
        "description_html": job.description_html,
        "description_text": job.description_text,
        "url": job.url,
        "logo_url": job.logo_url,
        "published_at": job.published_at,
        "raw": job.raw,
        "position": job.position,
    }


def job_from_dict(doc: dict[str, Any]) -> Job:
    return Job(
        source=doc["source"],
        external_id=doc["external_id"],
        title=doc["title"],
        content_hash=doc["content_hash"],
        company=doc.get("company"),
        location=doc.get("location"),
        job_type=doc.get("job_type"),
        categories=tuple(doc.get("categories") or ()),
        summary=doc.get("summary"),
        description_html=doc.get("description_html") or "",
        description_text=doc.get("description_text") or "",
        url=doc.get("url"),
        logo_url=doc.get("logo_url"),
        published_at=aware(doc.get("published_at")),
        raw=doc.get("raw") or {},
        position=doc.get("position") or 0,
    )


def failure_to_dict(failure: ItemFailure) -> dict[str, Any]:
    return {
        "kind": "failure",
        "reason": failure.reason,
        "message": failure.message,
        "position": failure.position,
        "identity": failure.identity,
        "url": failure.url,
        "title": failure.title,
    }


def failure_from_dict(doc: dict[str, Any]) -> ItemFailure:
    return ItemFailure(
        reason=doc["reason"],
        message=doc["message"],
        position=doc.get("position"),
        identity=doc.get("identity"),
        url=doc.get("url"),
        title=doc.get("title"),
    )


def entry_to_dict(entry: StagedEntry) -> dict[str, Any]:
    """A staged entry. A job keeps its `warnings` here (its batch counts them when it applies);
    `job_to_dict`, also what MongoDB stores as the job, leaves them out: never stored with a job."""
    if not isinstance(entry, Job):
        return failure_to_dict(entry)
    doc = job_to_dict(entry)
    if entry.warnings:
        doc["warnings"] = list(entry.warnings)
    return doc


def entry_from_dict(doc: dict[str, Any]) -> StagedEntry:
    if doc.get("kind") != "job":
        return failure_from_dict(doc)
    job = job_from_dict(doc)
    warnings = doc.get("warnings")
    return replace(job, warnings=tuple(warnings)) if warnings else job


def error_to_dict(error: FeedErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "reason": error.reason,
        "message": error.message,
        "status": error.status,
        "line": error.line,
        "column": error.column,
        "retry_after_s": error.retry_after_s,
    }


def error_from_dict(doc: dict[str, Any] | None) -> FeedErrorInfo | None:
    if not doc:
        return None
    return FeedErrorInfo(
        reason=doc["reason"],
        message=doc["message"],
        status=doc.get("status"),
        line=doc.get("line"),
        column=doc.get("column"),
        retry_after_s=doc.get("retry_after_s"),
    )


def fetch_to_dict(fetch: FetchInfo | None) -> dict[str, Any] | None:
    if fetch is None:
        return None
    return {
        "status": fetch.status,
        "not_modified": fetch.not_modified,
        "bytes": fetch.bytes,
        "etag": fetch.etag,
        "last_modified": fetch.last_modified,
        "final_url": fetch.final_url,
        "content_type": fetch.content_type,
        "duration_ms": fetch.duration_ms,
    }


def fetch_from_dict(doc: dict[str, Any] | None) -> FetchInfo | None:
    if not doc:
        return None
    return FetchInfo(
        status=doc.get("status"),
        not_modified=bool(doc.get("not_modified")),
        bytes=doc.get("bytes") or 0,
        etag=doc.get("etag"),
        last_modified=doc.get("last_modified"),
        final_url=doc.get("final_url"),
        content_type=doc.get("content_type"),
        duration_ms=doc.get("duration_ms"),
    )
