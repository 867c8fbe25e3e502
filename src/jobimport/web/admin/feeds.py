"""The configured feeds: last run, last success, failure streak, next run, the run in flight,
and a small chart of their recent runs. static/js/feeds.js refreshes the table as runs move."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from jobimport.models import FeedState, ImportRun, RunStatus
from jobimport.store.base import RunQuery
from jobimport.web import keys
from jobimport.web.admin.charts import Chart, runs_chart
from jobimport.web.admin.render import can_read, now, render, sign_in
from jobimport.web.admin.views import FeedsView, read_view

RECENT_RUNS = 20
MAX_IN_FLIGHT_LOOKUP = 1000

COLUMNS = (
    ("url", "Feed"),
    ("lastRunAt", "Last run"),
    ("lastSuccessAt", "Last success"),
    ("consecutiveFailures", "Failures in a row"),
    ("nextRunAt", "Next run"),
)


@dataclass(frozen=True, slots=True)
class FeedRow:
    state: FeedState
    in_flight: ImportRun | None
    chart: Chart
    runs: int

    @property
    def url(self) -> str:
        return self.state.url


def run_href(run: ImportRun) -> str:
    return f"/imports/{run.id}"


def _sort_key(sort: str) -> Callable[[FeedRow], Any]:
    """Sort keys that put missing times last ascending (never run = nothing to compare)."""
    far = datetime.max.replace(tzinfo=None)

    def when(value: datetime | None) -> datetime:
        return far if value is None else value.replace(tzinfo=None)

    keys_by_sort: dict[str, Callable[[FeedRow], Any]] = {
        "url": lambda row: row.url,
        "lastRunAt": lambda row: when(row.state.last_run_at),
        "lastSuccessAt": lambda row: when(row.state.last_success_at),
        "consecutiveFailures": lambda row: row.state.consecutive_failures,
        "nextRunAt": lambda row: when(row.state.next_run_at),
    }
    return keys_by_sort[sort]


async def feeds_page(request: web.Request) -> web.Response:
    if not can_read(request):
        return sign_in(request)
    view, dropped = read_view(FeedsView, request.query)
    store = request.app[keys.STORE]
    configured = request.app[keys.SETTINGS].feeds
    states = {state.url: state for state in await store.list_feeds()}
    in_flight = await store.list_runs(
        RunQuery(statuses=(RunStatus.QUEUED, RunStatus.RUNNING), limit=MAX_IN_FLIGHT_LOOKUP)
    )
    running = {run.feed_url: run for run in in_flight.items}
    rows = []
    for url in configured:
        recent = await store.list_runs(RunQuery(feed_url=url, limit=RECENT_RUNS))
        rows.append(
            FeedRow(
                state=states.get(url) or FeedState(url=url),
                in_flight=running.get(url),
                chart=runs_chart(list(reversed(recent.items)), href=run_href, slots=RECENT_RUNS),
                runs=recent.total,
            )
        )
    if view.sort is not None:
        rows.sort(key=_sort_key(view.sort), reverse=view.order == "desc")
    context = {
        "page": "feeds",
        "title": "Feeds",
        "view": view,
        "rows": rows,
        "columns": COLUMNS,
        "clock": now(request),
        "notices": [f"Ignored the invalid value of “{name}” in the address." for name in dropped],
    }
    return render(request, "admin/feeds.html", context)
