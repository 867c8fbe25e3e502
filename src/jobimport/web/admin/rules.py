"""The Python rules the pages' scripts apply, as data for the page config (render.py puts it in
`<script id="page-config">`, static/js/api.js reads it). One function per rule set, each built
from the definition the server itself uses, so static/js holds no copy of a rule: per live event
a script only looks values up and compares fields (no request, no server render)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from aiohttp import web

from jobimport.events.types import (
    FeedAlert,
    FeedFailed,
    RunFinished,
    RunProgress,
    RunQueued,
    RunStarted,
)
from jobimport.models import RunStatus
from jobimport.store.base import RunQuery
from jobimport.web.admin import format as fmt
from jobimport.web.admin.views import HistoryView
from jobimport.web.api.schemas import ImportSort

Comparison = tuple[str, str, Any]
"""(field of a run's import log, operator, value): one comparison static/js/history.js makes.
Operators: eq, ne, gt; notBefore and before compare times."""


def status_rules() -> dict[str, dict[str, Any]]:
    """Per run status: its label and badge class (the templates' filters) and whether it is final
    (no progress bar then), for the badges and progress bars the scripts fill live."""
    return {
        status.value: {
            "label": fmt.status_label(status.value),
            "badge": fmt.status_badge(status.value),
            "final": status.is_final,
        }
        for status in RunStatus
    }


def event_rules() -> dict[str, Any]:
    """The /api/events types a page follows (events/types.py): `run` carry a run's state, after
    one of `final` the run has ended, `progress` is a batch applied, `alert` a failure streak."""
    return {
        "run": [e.type for e in (RunQueued, RunStarted, RunProgress, RunFinished, FeedFailed)],
        "final": [RunFinished.type, FeedFailed.type],
        "progress": RunProgress.type,
        "alert": FeedAlert.type,
    }


def link_rules(router: web.UrlDispatcher) -> dict[str, str]:
    """The pages the scripts link to, as the route table names them (`{id}`: a run's id), and
    where history.js asks for a view's rules (history.history_view)."""
    return {
        "history": router["admin_history"].canonical,
        "run": router["admin_run"].canonical,
        "historyView": router["admin_history_view"].canonical,
    }


def run_filter(query: RunQuery) -> list[list[Comparison]]:
    """The filter of a store query (as store/sqlite_queries.py and mongo_queries.py apply it),
    written against a run's import log: every clause must hold, and a clause holds when one of
    its comparisons does. The window is half-open, as in the store."""
    clauses: list[list[Comparison]] = []
    if query.feed_url is not None:
        clauses.append([("fileName", "eq", query.feed_url)])
    if query.statuses:
        clauses.append([("status", "eq", status.value) for status in query.statuses])
    if query.only_with_failures:
        clauses.append([("failedJobs", "gt", 0), ("error", "ne", None)])
    if query.created_after is not None:
        clauses.append([("createdAt", "notBefore", fmt.iso(query.created_after))])
    if query.created_before is not None:
        clauses.append([("createdAt", "before", fmt.iso(query.created_before))])
    return clauses


def _page(href: str, path: str) -> str:
    return path + href if href != "?" else path


def _sort_link(view: HistoryView, column: str, path: str) -> dict[str, str]:
    href, aria = view.sort_link(column)
    return {"href": _page(href, path), "aria": aria}


def history_rules(view: HistoryView, now: datetime, path: str = "/") -> dict[str, Any]:
    """The import history's view, resolved by HistoryView for static/js/history.js: its values,
    the /api/imports URL that lists it, the filter a live run must pass to join it, whether new
    runs go on top, and its links (sorting, paging). `path` is the page's."""
    return {
        "values": view.model_dump(mode="json"),
        "href": _page(view.href(page=view.page), path),
        "firstPage": _page(view.href(), path),
        "api": view.api_href(now),
        "filter": run_filter(view.run_query(now)),
        "liveTop": view.live_top,
        "filtered": view.filtered,
        "window": bool(view.since or view.until),
        "sortLinks": {column: _sort_link(view, column, path) for column in get_args(ImportSort)},
        "prev": _page(view.href(page=view.page - 1), path),
        "next": _page(view.href(page=view.page + 1), path),
        "newest": _page(view.href(sort=None, order=None), path),
    }
