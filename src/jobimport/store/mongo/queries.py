"""The MongoDB listings (import logs and jobs) and the indexes they rely on.

Index declarations live beside the queries that need them (here, in jobs.py and in
runs.py); `MongoStore.open()` creates all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobimport.models import JobStatus, RunStatus
from jobimport.store.base import JOB_SORTS, JobQuery, RunQuery
from jobimport.store.mongo.docs import Doc


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """One index: collection, key list, name, and create_index options."""

    collection: str
    keys: list[tuple[str, int]]
    name: str
    options: dict[str, Any] = field(default_factory=dict)


ASC, DESC = 1, -1

RUN_LIST_INDEXES = [
    # History listing, newest first, optionally for one feed.
    IndexSpec("import_logs", [("created_at", DESC)], "runs_by_created"),
    IndexSpec("import_logs", [("feed_url", ASC), ("created_at", DESC)], "runs_by_feed"),
]

# The run listing's sort keys (public name → stored field); anything else is a ValueError.
RUN_SORTS = {
    "created_at": "created_at",
    "started_at": "started_at",
    "updated_at": "updated_at",  # missing on runs older than schema v2: sorts as null
    "duration": "duration_ms",
    "feed_url": "feed_url",
    "status": "status",
    "fetched": "counts.fetched",
    "new": "counts.new",
    "updated": "counts.updated",
    "unchanged": "counts.unchanged",
    "failed": "counts.failed",
}


def check_paging(limit: int, offset: int) -> None:
    """Refuse negative paging. (A limit of 0 lists nothing; callers must not pass it on to
    `cursor.limit`, where 0 means no limit.)"""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")


async def find_docs(
    coll: Any, where: Doc, order: list[tuple[str, int]], limit: int, offset: int
) -> list[Doc]:
    """One page of a listing (sorted, skipped, limited)."""
    check_paging(limit, offset)
    if not limit:
        return []
    return list(await coll.find(where).sort(order).skip(offset).limit(limit).to_list(None))


async def find_page(
    coll: Any, where: Doc, order: list[tuple[str, int]], limit: int, offset: int
) -> tuple[list[Doc], int]:
    """One page of a listing and the number of all matches."""
    docs = await find_docs(coll, where, order, limit, offset)
    return docs, await coll.count_documents(where)


def run_filter(query: RunQuery) -> Doc:
    conditions: list[Doc] = []
    if query.feed_url is not None:
        conditions.append({"feed_url": query.feed_url})
    if query.statuses:
        conditions.append({"status": {"$in": [RunStatus(s).value for s in query.statuses]}})
    if query.only_with_failures:
        conditions.append({"$or": [{"counts.failed": {"$gt": 0}}, {"error": {"$ne": None}}]})
    if query.created_after is not None:
        conditions.append({"created_at": {"$gte": query.created_after}})
    if query.created_before is not None:
        conditions.append({"created_at": {"$lt": query.created_before}})
    return _and(conditions)


def run_sort(query: RunQuery) -> list[tuple[str, int]]:
    try:
        key = RUN_SORTS[query.sort]
    except KeyError:
        raise ValueError(
            f"unknown sort {query.sort!r}; expected one of {', '.join(sorted(RUN_SORTS))}"
        ) from None
    direction = DESC if query.descending else ASC
    # The run id sorts by creation time, so it breaks ties stably.
    return [(key, direction), ("_id", direction)]


JOB_LIST_INDEXES = [
    IndexSpec(
        "jobs", [("last_changed_at", DESC), ("position", ASC), ("_id", ASC)], "jobs_by_changed"
    ),
    # Also how an expiry sweep finds a feed's jobs (expiry.py).
    IndexSpec("jobs", [("feeds", ASC)], "jobs_by_feed"),
    # The status filter with the default order. A job from before schema v3 has no status (it
    # reads as active), so "active" is `$ne: expired`: two ranges of this index.
    IndexSpec(
        "jobs",
        [("status", ASC), ("last_changed_at", DESC), ("position", ASC), ("_id", ASC)],
        "jobs_by_status",
    ),
    IndexSpec("jobs", [("company", ASC)], "jobs_by_company"),
    # Text search below is an unanchored, case-insensitive $regex per word: a collection scan,
    # fine for tens of thousands of jobs. Beyond that, a text index (or Atlas Search) on title,
    # company and description_text is the production option; it matches whole words instead.
]


def job_filter(query: JobQuery) -> Doc:
    """Every word of `text` must appear, case-insensitively, in the title, the company or the
    plain-text description. `extra` filters are not supported (ValueError), as on SQLite."""
    if query.extra:
        raise ValueError(f"unsupported job filters: {', '.join(sorted(query.extra))}")
    conditions: list[Doc] = []
    for word in (query.text or "").split():
        pattern = {"$regex": re.escape(word), "$options": "i"}
        conditions.append(
            {"$or": [{name: pattern} for name in ("title", "company", "description_text")]}
        )
    if query.status is not None:
        expired = JobStatus.EXPIRED.value
        status = JobStatus(query.status)
        conditions.append({"status": expired if status is JobStatus.EXPIRED else {"$ne": expired}})
    for name, condition in _JOB_CONDITIONS:
        value = getattr(query, name)
        if value is not None:
            conditions.append(condition(value))
    return _and(conditions)


_JOB_CONDITIONS: tuple[tuple[str, Callable[[Any], Doc]], ...] = (
    # (JobQuery field, the condition on its value)
    ("source", lambda source: {"source": source}),
    ("feed_url", lambda url: {"feeds": url}),
    ("company", lambda company: {"company": company}),
    ("location", lambda where: {"location": {"$regex": re.escape(where), "$options": "i"}}),
    ("job_type", lambda job_type: {"job_type": job_type}),
    ("category", lambda category: {"categories": category}),  # an element of the array
    ("updated_since", lambda since: {"last_changed_at": {"$gte": since}}),
)


def job_sort(query: JobQuery) -> list[tuple[str, int]]:
    """The sort key, then document order and id, as on SQLite (a batch shares a timestamp)."""
    if query.sort not in JOB_SORTS:
        raise ValueError(f"unknown sort {query.sort!r}; use one of {', '.join(JOB_SORTS)}")
    return [(query.sort, DESC if query.descending else ASC), ("position", ASC), ("_id", ASC)]


def _and(conditions: list[Doc]) -> Doc:
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}
