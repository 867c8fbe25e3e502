"""Row ↔ domain conversions and the filter builders of the SQLite store. No connection state here.

Datetimes are stored as fixed-width ISO 8601 UTC text (always with microseconds), so text order
is time order and range filters work on the indexed columns. Inside JSON they are tagged
`{"$date": "..."}`, which no XML-derived key can collide with.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from jobimport.errors import StoreDamaged, StoreError, StoreUnavailable
from jobimport.models import (
    BatchResult,
    Enclosure,
    ImportRun,
    ItemFailure,
    Job,
    JobStatus,
    RunCounts,
    RunStatus,
)
from jobimport.store import codec
from jobimport.store.base import JOB_SORTS, JobQuery, JobRecord, RunQuery

# Public sort names of RunQuery → column; anything else is refused (it ends up in SQL text).
RUN_SORTS = {
    "created_at": "created_at",
    "started_at": "started_at",
    "updated_at": "updated_at",
    "duration": "duration_ms",
    "feed_url": "feed_url",
    "status": "status",
    "fetched": "fetched",
    "new": "new",
    "updated": "updated",
    "unchanged": "unchanged",
    "failed": "failed",
}

# SQLite primary result codes (the low byte of extended codes) that retrying can cure.
_BUSY, _LOCKED, _IOERR = 5, 6, 10
_TRANSIENT_WORDS = ("database is locked", "database table is locked", "disk i/o error")
# ... and the codes of a damaged file: a corrupt page, or not a database at all.
_CORRUPT, _NOTADB = 11, 26
_DAMAGE_WORDS = ("malformed", "file is not a database")


# --- datetimes and JSON -------------------------------------------------------------------


def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # naive datetimes are UTC by convention in this project
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_ts(value: str | None) -> datetime | None:
    return None if value is None else codec.aware(datetime.fromisoformat(value))


def req_ts(value: str) -> datetime:
    parsed = parse_ts(value)
    assert parsed is not None
    return parsed


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return {"$date": ts(value)}
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _json_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and isinstance(obj.get("$date"), str):
        return parse_ts(obj["$date"])
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def dumps_opt(value: Any) -> str | None:
    """SQL NULL for None, so `IS NULL` filters see it."""
    return None if value is None else dumps(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text, object_hook=_json_hook)


# --- errors -------------------------------------------------------------------------------


def translate(exc: sqlite3.Error) -> StoreError:
    """A damaged file is StoreDamaged; busy, locked and I/O errors are worth a retry
    (StoreUnavailable); the rest are not."""
    code = getattr(exc, "sqlite_errorcode", None)
    message = str(exc)
    if (isinstance(code, int) and (code & 0xFF) in (_CORRUPT, _NOTADB)) or any(
        word in message.lower() for word in _DAMAGE_WORDS
    ):
        return StoreDamaged(f"sqlite: {message}")
    transient = (isinstance(code, int) and (code & 0xFF) in (_BUSY, _LOCKED, _IOERR)) or any(
        word in message.lower() for word in _TRANSIENT_WORDS
    )
    if transient:
        return StoreUnavailable(f"sqlite: {message}")
    return StoreError(f"sqlite: {message}")


# --- rows → domain ------------------------------------------------------------------------


FAILURE_COLUMNS = tuple(f.name for f in dataclasses.fields(ItemFailure))
"""run_failures' columns after (run_id, seq): ItemFailure's fields, named as they are."""
INSERT_FAILURE = (
    f"INSERT INTO run_failures (run_id, seq, {', '.join(FAILURE_COLUMNS)})"
    f" VALUES ({', '.join('?' * (len(FAILURE_COLUMNS) + 2))})"
)


def failure_row(failure: ItemFailure) -> tuple[Any, ...]:
    return tuple(getattr(failure, name) for name in FAILURE_COLUMNS)


def failure_from_row(row: sqlite3.Row) -> ItemFailure:
    return ItemFailure(**{name: row[name] for name in FAILURE_COLUMNS})


def counts_from_row(row: sqlite3.Row, *, expired: bool = True) -> RunCounts:
    """Counts of a run or a sum of runs; of a batch result (no `expired` column) with
    `expired=False`."""
    return RunCounts(
        fetched=row["fetched"],
        new=row["new"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        failed=row["failed"],
        expired=row["expired"] if expired else 0,
    )


def run_from_row(row: sqlite3.Row, failures: Iterable[ItemFailure] = ()) -> ImportRun:
    return ImportRun(
        id=row["id"],
        feed_url=row["feed_url"],
        status=RunStatus(row["status"]),
        created_at=req_ts(row["created_at"]),
        trigger=row["trigger"],
        started_at=parse_ts(row["started_at"]),
        finished_at=parse_ts(row["finished_at"]),
        counts=counts_from_row(row),
        failures=tuple(failures),
        failure_counts=loads(row["failure_counts"]) or {},
        error=codec.error_from_dict(loads(row["error"])),
        fetch=codec.fetch_from_dict(loads(row["fetch"])),
        batches_total=row["batches_total"],
        batches_done=row["batches_done"],
        attempts=row["attempts"],
        updated_at=parse_ts(row["updated_at"]),  # set by every write since migration 2
        requeues=row["requeues"],
        retry_of=row["retry_of"],
        warnings=loads(row["warnings"]) or {},
    )


def batch_result_from_row(row: sqlite3.Row) -> BatchResult:
    return BatchResult(
        run_id=row["run_id"],
        n=row["n"],
        counts=counts_from_row(row, expired=False),
        failures=tuple(codec.failure_from_dict(d) for d in loads(row["failures"])),
        warnings=loads(row["warnings"]) or {},
    )


JOB_CONTENT_COLUMNS = (
    "title",
    "content_hash",
    "company",
    "location",
    "job_type",
    "categories",
    "summary",
    "description_html",
    "description_text",
    "url",
    "logo_url",
    "published_at",
    "author",
    "enclosures",
    "raw",
    "position",
)


def job_content_params(job: Job) -> tuple[Any, ...]:
    """Values for JOB_CONTENT_COLUMNS, in that order."""
    return (
        job.title,
        job.content_hash,
        job.company,
        job.location,
        job.job_type,
        dumps(list(job.categories)),
        job.summary,
        job.description_html,
        job.description_text,
        job.url,
        job.logo_url,
        ts(job.published_at),
        job.author,
        dumps([codec.to_dict(e) for e in job.enclosures]),
        dumps(job.raw),
        job.position,
    )


def job_record_from_row(row: sqlite3.Row, feeds: Sequence[str]) -> JobRecord:
    job = Job(
        source=row["source"],
        external_id=row["external_id"],
        title=row["title"],
        content_hash=row["content_hash"],
        company=row["company"],
        location=row["location"],
        job_type=row["job_type"],
        categories=tuple(loads(row["categories"]) or ()),
        summary=row["summary"],
        description_html=row["description_html"],
        description_text=row["description_text"],
        url=row["url"],
        logo_url=row["logo_url"],
        published_at=parse_ts(row["published_at"]),
        author=row["author"],
        enclosures=tuple(codec.from_dict(Enclosure, e) for e in loads(row["enclosures"]) or ()),
        raw=loads(row["raw"]) or {},
        position=row["position"],
    )
    return JobRecord(
        id=row["id"],
        job=job,
        first_seen_at=req_ts(row["first_seen_at"]),
        last_seen_at=req_ts(row["last_seen_at"]),
        last_changed_at=req_ts(row["last_changed_at"]),
        first_seen_run_id=row["first_seen_run_id"],
        last_seen_run_id=row["last_seen_run_id"],
        last_changed_run_id=row["last_changed_run_id"],
        feeds=tuple(feeds),
        status=JobStatus(row["status"]),
        expired_at=parse_ts(row["expired_at"]),
    )


# --- listing filters ----------------------------------------------------------------------


def rows_by_parent(
    conn: sqlite3.Connection, table: str, parent: str, ids: Sequence[str], order: str
) -> dict[str, list[sqlite3.Row]]:
    """The rows of a child table for many parents, in one query: parent id → its rows."""
    grouped: dict[str, list[sqlite3.Row]] = {id_: [] for id_ in ids}
    if ids:
        marks = ", ".join("?" * len(ids))
        sql = f"SELECT * FROM {table} WHERE {parent} IN ({marks}) ORDER BY {order}"
        for row in conn.execute(sql, list(ids)):
            grouped[row[parent]].append(row)
    return grouped


def check_paging(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")


def run_filter(query: RunQuery) -> tuple[str, list[Any], str]:
    """WHERE clause, its parameters and the ORDER BY clause of a run listing.
    Raises ValueError for an unknown sort key or bad paging."""
    column = RUN_SORTS.get(query.sort)
    if column is None:
        raise ValueError(f"unknown sort {query.sort!r}; use one of {', '.join(RUN_SORTS)}")
    check_paging(query.limit, query.offset)
    clauses: list[str] = []
    params: list[Any] = []
    if query.feed_url is not None:
        clauses.append("feed_url = ?")
        params.append(query.feed_url)
    if query.statuses:
        clauses.append(f"status IN ({', '.join('?' * len(query.statuses))})")
        params.extend(RunStatus(s).value for s in query.statuses)
    if query.only_with_failures:
        clauses.append("(failed > 0 OR error IS NOT NULL)")
    # Half-open window: created_after is inclusive, created_before exclusive.
    if query.created_after is not None:
        clauses.append("created_at >= ?")
        params.append(ts(query.created_after))
    if query.created_before is not None:
        clauses.append("created_at < ?")
        params.append(ts(query.created_before))
    where = " AND ".join(clauses) or "1"
    direction = "DESC" if query.descending else "ASC"
    return where, params, f"{column} {direction}, id {direction}"


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def job_filter(query: JobQuery) -> tuple[str, list[Any]]:
    """WHERE clause and parameters of a job listing. Every word of `text` must appear (case-
    insensitively, ASCII) in the title, the company or the plain-text description.
    LIKE scans the table; an FTS5 index is the upgrade path when the catalogue grows."""
    check_paging(query.limit, query.offset)
    if query.extra:
        raise ValueError(f"unsupported job filters: {', '.join(sorted(query.extra))}")
    clauses: list[str] = []
    params: list[Any] = []
    for word in (query.text or "").split():
        clauses.append(
            "(title LIKE ? ESCAPE '\\' OR company LIKE ? ESCAPE '\\'"
            " OR description_text LIKE ? ESCAPE '\\')"
        )
        params.extend([_like(word)] * 3)
    for name, clause, bind in _JOB_CONDITIONS:
        value = getattr(query, name)
        if value is not None:
            clauses.append(clause)
            params.append(bind(value))
    return " AND ".join(clauses) or "1", params


def _same(value: Any) -> Any:
    return value


_JOB_CONDITIONS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    # (JobQuery field, condition with one parameter, the parameter from the field's value)
    ("status", "status = ?", lambda status: JobStatus(status).value),
    ("source", "source = ?", _same),
    ("company", "company = ?", _same),
    ("location", "location LIKE ? ESCAPE '\\'", _like),
    ("job_type", "job_type = ?", _same),
    ("category", "EXISTS (SELECT 1 FROM json_each(jobs.categories) WHERE value = ?)", _same),
    ("feed_url", "id IN (SELECT job_id FROM job_feeds WHERE feed_url = ?)", _same),
    ("updated_since", "last_changed_at >= ?", ts),
)


def job_order(query: JobQuery) -> str:
    """ORDER BY of a job listing: the sort key, then document order and id (so one batch, which
    shares a timestamp, lists in document order). Raises ValueError for an unknown key."""
    if query.sort not in JOB_SORTS:  # it ends up in SQL text: only known names pass
        raise ValueError(f"unknown sort {query.sort!r}; use one of {', '.join(JOB_SORTS)}")
    return f"{query.sort} {'DESC' if query.descending else 'ASC'}, position ASC, id ASC"
