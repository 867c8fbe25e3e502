"""Imported jobs: search and filter them, and one job's page with its sanitized description.

Every field is autoescaped; `description_html` alone is rendered as HTML (`|safe` in
templates/admin/job.html), because it is stored only after nh3 has sanitized it
(feeds/markup.py). The page's CSP forbids inline scripts as a second line of defence."""

from __future__ import annotations

import json

from aiohttp import web

from jobimport.models import JobStatus
from jobimport.web import keys
from jobimport.web.admin.render import not_found, render_page
from jobimport.web.admin.views import JobsView, read_view
from jobimport.web.api.jobs import JOB_ID

# (sort key or None, header): the table's columns, in order.
COLUMNS = (
    ("title", "Title"),
    ("company", "Company"),
    (None, "Location"),
    (None, "Type"),
    ("publishedAt", "Published"),
    ("updatedAt", "Updated"),
)


async def jobs_page(request: web.Request) -> web.Response:
    view, dropped = read_view(JobsView, request.query)
    page = await request.app[keys.STORE].list_jobs(view.job_query())
    context = {
        "page": "jobs",
        "title": "Jobs",
        "view": view,
        "jobs": page.items,
        "total": page.total,
        "columns": COLUMNS,
        "statuses": [(JobStatus.ACTIVE.value, "Active"), (JobStatus.EXPIRED.value, "Expired")],
        "notices": [f"Ignored the invalid value of “{name}” in the address." for name in dropped],
    }
    return await render_page(request, "admin/jobs.html", context)


async def job_page(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    record = await request.app[keys.STORE].get_job(ident) if JOB_ID.match(ident) else None
    if record is None:
        return not_found(request, f"No job with id “{ident}”.")
    context = {
        "page": "job",
        "title": record.job.title,
        "record": record,
        "job": record.job,
        "raw": json.dumps(record.job.raw, indent=2, ensure_ascii=False),
    }
    return await render_page(request, "admin/job.html", context)
