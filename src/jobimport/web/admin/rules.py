"""The Python rules the pages' scripts apply, as data for the page config (render.py puts it in
`<script id="page-config">`, static/js/api.js reads it). One function per rule set, each built
from the definition the server itself uses, so static/js holds no copy of a rule: per live event
a script only looks values up and compares fields (no request, no server render)."""

from __future__ import annotations

from typing import Any

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
from jobimport.web.admin import format as fmt


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
    """The pages the scripts link to, as the route table names them (`{id}`: a run's id)."""
    return {"history": router["admin_history"].canonical, "run": router["admin_run"].canonical}
