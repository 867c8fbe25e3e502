"""The registered feeds (seeded from JOBIMPORT_FEEDS or added at run time), as the store lists
them: name, origin, paused state, effective schedule, header names (never values), last run,
last success, failure streak and alert, next run, the run in flight, and a small chart of their
recent runs. static/js/feeds.js refreshes the table as runs move and drives the actions (add
with a preview, pause/resume, delete)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from jobimport.models import FeedOrigin, FeedState, ImportRun, RunStatus
from jobimport.store.base import RunQuery
from jobimport.web import keys
from jobimport.web.admin import format as fmt
from jobimport.web.admin.charts import Chart, runs_chart
from jobimport.web.admin.render import now, render
from jobimport.web.admin.views import FeedsView, HistoryView, read_view

RECENT_RUNS = 20
MAX_IN_FLIGHT_LOOKUP = 1000

COLUMNS = (
    ("url", "Feed"),
    ("lastRunAt", "Last run"),
    ("lastSuccessAt", "Last success"),
    ("consecutiveFailures", "Failures in a row"),
    (None, "Schedule"),
    ("nextRunAt", "Next run"),
)


@dataclass(frozen=True, slots=True)
class FeedRow:
    state: FeedState
    in_flight: ImportRun | None
    chart: Chart
    runs: int
    schedule: str  # the effective one: the feed's own, else JOBIMPORT_SCHEDULE

    @property
    def url(self) -> str:
        return self.state.url

    @property
    def label(self) -> str:
        return self.state.name or fmt.short_url(self.state.url)

    @property
    def imports_href(self) -> str:
        """The import history of this feed (feeds.js links it after adding one, too)."""
        return "/" + HistoryView().href(feed=self.state.url)

    @property
    def deletable(self) -> bool:
        """Feeds from JOBIMPORT_FEEDS come back at every start: they can be paused only."""
        return self.state.origin is FeedOrigin.API

    @property
    def header_names(self) -> list[str]:
        return sorted(self.state.headers, key=str.lower)


def run_href(run: ImportRun) -> str:
    return f"/imports/{run.id}"


def _sort_key(sort: str) -> Callable[[FeedRow], Any]:
    """Sort keys that put missing times last ascending (never run = nothing to compare)."""
    far = datetime.max.replace(tzinfo=None)

    def when(value: datetime | None) -> datetime:
        return far if value is None else value.replace(tzinfo=None)

    keys_by_sort: dict[str, Callable[[FeedRow], Any]] = {
        "url": lambda row: row.label.lower(),
        "lastRunAt": lambda row: when(row.state.last_run_at),
        "lastSuccessAt": lambda row: when(row.state.last_success_at),
        "consecutiveFailures": lambda row: row.state.consecutive_failures,
        # A paused feed has no next run: it sorts after every scheduled one.
        "nextRunAt": lambda row: (row.state.paused, when(row.state.next_run_at)),
    }
    return keys_by_sort[sort]


async def feeds_page(request: web.Request) -> web.Response:
    view, dropped = read_view(FeedsView, request.query)
    store = request.app[keys.STORE]
    default_schedule = request.app[keys.SETTINGS].schedule
    states = await store.list_feeds()
    in_flight = await store.list_runs(
        RunQuery(statuses=(RunStatus.QUEUED, RunStatus.RUNNING), limit=MAX_IN_FLIGHT_LOOKUP)
    )
    running = {run.feed_url: run for run in in_flight.items}
    rows = []
    for state in states:
        recent = await store.list_runs(RunQuery(feed_url=state.url, limit=RECENT_RUNS))
        rows.append(
            FeedRow(
                state=state,
                in_flight=running.get(state.url),
                chart=runs_chart(list(reversed(recent.items)), href=run_href, slots=RECENT_RUNS),
                runs=recent.total,
                schedule=state.schedule or default_schedule,
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
        "default_schedule": default_schedule,
        "feeds": [state.url for state in states],
        "notices": [f"Ignored the invalid value of “{name}” in the address." for name in dropped],
    }
    return render(request, "admin/feeds.html", context)
