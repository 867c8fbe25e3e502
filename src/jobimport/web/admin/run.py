"""One run: its counts, timings, the feed's HTTP outcome and error, and its failed items grouped
by reason; the run it retries. While it runs, static/js/run.js ticks the counters from
/api/events; it also drives "Cancel" (a run in flight) and "Retry" (a final one)."""

from __future__ import annotations

from aiohttp import web

from jobimport.models import WarningReason, job_id
from jobimport.web import keys
from jobimport.web.admin.render import not_found, render_page
from jobimport.web.admin.views import FailuresView, read_view
from jobimport.web.api.imports import RUN_ID, full_log, summary


def job_link(identity: str | None) -> str | None:
    """The admin page of the stored job an item failure names (a duplicate's first copy)."""
    if not identity or ":" not in identity:
        return None
    source, _, external_id = identity.partition(":")
    return f"/jobs/{job_id(source, external_id)}"


WARNING_TEXTS = {
    WarningReason.DATE_UNPARSED.value: "a date no format could read: stored without one",
    WarningReason.ENCODING_REPLACED.value: "bytes invalid in the document's encoding, replaced",
    WarningReason.HTML_ENTITY.value: "an HTML entity XML does not define, read as its character",
    WarningReason.UNDECLARED_PREFIX.value: "an element with a namespace prefix never declared",
}
"""What each warning reason means, for people (docs/import-log.md#warnings says more)."""


async def run_page(request: web.Request) -> web.Response:
    run_id = request.match_info["id"]
    run = await request.app[keys.STORE].get_run(run_id) if RUN_ID.match(run_id) else None
    if run is None:
        return not_found(request, f"No import with id “{run_id}”.")
    view, _ = read_view(FailuresView, request.query)
    failures = full_log(run).failures
    shown = failures[view.offset : view.offset + view.limit]
    reasons = sorted(run.failure_counts.items(), key=lambda item: (-item[1], item[0]))
    context = {
        "page": "run",
        "title": f"Import {run.id}",
        "run": summary(run),
        "final": run.status.is_final,
        "view": view,
        "failures": shown,
        "failures_total": len(failures),
        "reasons": reasons,
        "warnings": sorted(run.warnings.items(), key=lambda item: (-item[1], item[0])),
        "warning_texts": WARNING_TEXTS,
        "reasons_max": max((n for _, n in reasons), default=1),
        "job_link": job_link,
    }
    return await render_page(request, "admin/run.html", context)
