"""The import history (home page): every run, sorted, filtered and paged by its URL, with the
hourly chart. static/js/history.js takes over from the first paint: it re-queries /api/imports
when the view changes and follows /api/events, so the rows it renders here come alive. The view's
rules come with the page (rules.history_rules in its config) and, when the view changes without a
page load, from VIEW_PATH, so the script never reads a URL itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from jobimport.models import RunStatus
from jobimport.web import keys
from jobimport.web.admin.charts import HOUR, Bucket, hourly_chart, load_hourly
from jobimport.web.admin.format import STATUS_LABELS
from jobimport.web.admin.render import now, render_page
from jobimport.web.admin.rules import history_rules
from jobimport.web.admin.views import RANGE_LABELS, HistoryView, read_view
from jobimport.web.api.imports import summary

PATH = "/"
VIEW_PATH = "/history/view"
CHART_HOURS = 72
COMPACT_HOURS = 24

# (sort key or None, header, numeric): the table's columns, in order.
COLUMNS = (
    ("fileName", "Feed", False),
    ("createdAt", "Started", False),
    ("durationMs", "Duration", True),
    ("status", "Status", False),
    ("totalFetched", "Total", True),
    ("newJobs", "New", True),
    ("updatedJobs", "Updated", True),
    ("unchangedJobs", "Unchanged", True),
    ("failedJobs", "Failed", True),
    (None, "Expired", True),
)


@dataclass(frozen=True, slots=True)
class Overview:
    runs: int
    running: int  # queued or running
    failed: int
    jobs: int


def bucket_href(bucket: Bucket) -> str:
    return HistoryView().href(since=bucket.start, until=bucket.start + HOUR)


async def history_page(request: web.Request) -> web.Response:
    view, dropped = read_view(HistoryView, request.query)
    current = now(request)
    store = request.app[keys.STORE]
    page = await store.list_runs(view.run_query(current))
    buckets = await load_hourly(store, current, CHART_HOURS)
    by_status = await store.count_runs_by_status()
    context: dict[str, Any] = {
        "page": "history",
        "title": "Import history",
        "view": view,
        "runs": [summary(run) for run in page.items],
        "total": page.total,
        "columns": COLUMNS,
        "statuses": [(s.value, STATUS_LABELS[s.value]) for s in RunStatus],
        "ranges": RANGE_LABELS,
        "window": _window_text(view),
        "chart": hourly_chart(buckets, href=bucket_href),
        "compact_chart": hourly_chart(
            buckets[-COMPACT_HOURS:], href=bucket_href, width=360, height=180, label_every=6
        ),
        "buckets": [b for b in buckets if b.runs],
        "bucket_href": bucket_href,
        "chart_hours": CHART_HOURS,
        "overview": Overview(
            runs=sum(by_status.values()),
            running=by_status.get("running", 0) + by_status.get("queued", 0),
            failed=by_status.get("failed", 0),
            jobs=await store.count_jobs(),
        ),
        "notices": [f"Ignored the invalid value of “{name}” in the address." for name in dropped],
        "config": {"history": history_rules(view, current, PATH)},
    }
    return await render_page(request, "admin/history.html", context)


async def history_view(request: web.Request) -> web.Response:
    """GET VIEW_PATH?<a history query>: that view's rules as JSON, for history.js when the view
    changes in the page (a form change, a link, back and forward). Reads need what the API's
    do (the auth middleware checks it): it is not a page."""
    view, _ = read_view(HistoryView, request.query)
    rules = history_rules(view, now(request), PATH)
    return web.json_response(rules, headers={"Cache-Control": "no-store"})


def _window_text(view: HistoryView) -> str | None:
    """A custom window (from the chart) in words, for the filter bar."""
    if not (view.since or view.until):
        return None
    return f"{_when(view.since) or 'the start'} – {_when(view.until) or 'now'} UTC"


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%b %d, %H:%M}"
