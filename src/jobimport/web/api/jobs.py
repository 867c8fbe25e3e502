"""Imported jobs: search, filter, page; one job with its raw item."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from jobimport.store.base import JobQuery, JobRecord
from jobimport.web import keys
from jobimport.web.api.params import listing_paging, parse_query
from jobimport.web.api.schemas import JobListQuery, JobPage, NoQuery
from jobimport.web.errors import not_found
from jobimport.web.respond import entity_tag, json_model, not_modified
from jobimport.wire import JobDetail, JobOut

JOB_ID = re.compile(r"^[0-9a-f]{24}$")

# Public sort names → JobQuery.sort keys (the store's names).
JOB_SORTS = {
    "updatedAt": "last_changed_at",
    "publishedAt": "published_at",
    "firstSeenAt": "first_seen_at",
    "lastSeenAt": "last_seen_at",
    "title": "title",
    "company": "company",
}


def stored_fields(record: JobRecord) -> dict[str, Any]:
    """What a stored job adds to the job as its feed lists it (`wire.JobItem`)."""
    job = record.job
    return {
        "descriptionHtml": job.description_html,
        "logoUrl": job.logo_url,
        "firstSeenAt": record.first_seen_at,
        "lastSeenAt": record.last_seen_at,
        "updatedAt": record.last_changed_at,
        "firstSeenRunId": record.first_seen_run_id,
        "lastSeenRunId": record.last_seen_run_id,
        "lastChangedRunId": record.last_changed_run_id,
        "feeds": list(record.feeds),
        "status": record.status,
        "expiredAt": record.expired_at,
    }


async def list_jobs(request: web.Request) -> web.Response:
    """GET /api/jobs: imported jobs, most recently changed first unless sorted otherwise."""
    params = parse_query(request, JobListQuery)
    page = listing_paging(params)
    query = JobQuery(
        text=params.q,
        source=params.source,
        feed_url=params.feed,
        company=params.company,
        location=params.location,
        job_type=params.type,
        category=params.category,
        status=params.status,
        updated_since=params.updatedSince,
        **page.window(JOB_SORTS[params.sort], params.order),
    )
    store = request.app[keys.STORE]
    # Jobs are written only in steps that also write their run in flight (Store.runs_version),
    # and the version is read first, so a write in between only makes the tag older.
    etag = entity_tag(request, await store.runs_version())
    if (unchanged := not_modified(request, etag)) is not None:
        return unchanged
    result = await store.list_jobs(query)
    body = JobPage(
        items=[JobOut.of(r.job, **stored_fields(r)) for r in result.items],
        total=result.total,
        next=page.next_after(result),
    )
    return json_model(body, etag=etag)


async def get_job(request: web.Request) -> web.Response:
    """GET /api/jobs/{id}: one job, with its plain-text description and raw item."""
    job_id = request.match_info["id"]
    parse_query(request, NoQuery)
    record = await request.app[keys.STORE].get_job(job_id) if JOB_ID.match(job_id) else None
    if record is None:
        raise not_found("job", job_id)
    detail = JobDetail.of(
        record.job,
        **stored_fields(record),
        descriptionText=record.job.description_text,
        raw=record.job.raw,
    )
    return json_model(detail)
