"""Import logs: the history listing, one log with its failures and progress, starting imports,
and the seeds' `/api/import-logs`."""

from __future__ import annotations

import re

from aiohttp import web

from jobimport.models import ImportRun
from jobimport.queue.base import QueueUnavailable
from jobimport.store.base import RunQuery
from jobimport.web import keys
from jobimport.web.api.params import (
    listing_paging,
    paging,
    parse_query,
    query_key,
    read_json_body,
)
from jobimport.web.api.schemas import (
    FailureQuery,
    ImportDetail,
    ImportListQuery,
    ImportPage,
    ImportRequest,
    NoQuery,
    Progress,
    RunsAccepted,
)
from jobimport.web.errors import ApiError, bad_parameter, not_found, queue_unavailable
from jobimport.web.respond import entity_tag, json_model, not_modified
from jobimport.wire import ImportLog, ImportSummary

RUN_ID = re.compile(r"^[0-9a-f]{24}$")
RECENT_LOGS = 20

# Public sort names → RunQuery.sort keys (the store's names).
IMPORT_SORTS = {
    "createdAt": "created_at",
    "startedAt": "started_at",
    "durationMs": "duration",
    "fileName": "feed_url",
    "status": "status",
    "totalFetched": "fetched",
    "newJobs": "new",
    "updatedJobs": "updated",
    "unchangedJobs": "unchanged",
    "failedJobs": "failed",
}


def summary(run: ImportRun) -> ImportSummary:
    return ImportSummary.of(run)


def full_log(run: ImportRun) -> ImportLog:
    return ImportLog.of(run)


async def list_imports(request: web.Request) -> web.Response:
    """GET /api/imports: import logs, newest first unless sorted otherwise; filtered, paged."""
    params = parse_query(request, ImportListQuery)
    if params.since and params.until and params.since >= params.until:
        raise bad_parameter("until", "must be later than 'since'")
    page = listing_paging(params)
    query = RunQuery(
        feed_url=params.feed,
        statuses=tuple(params.status),
        only_with_failures=params.withFailures,
        created_after=params.since,
        created_before=params.until,
        **page.window(IMPORT_SORTS[params.sort], params.order),
    )
    store = request.app[keys.STORE]
    # The version is read before the page: a write in between makes the tag older than the
    # body, never newer, so the next poll fetches again instead of keeping a stale body.
    etag = entity_tag(request, await store.runs_version())
    if (unchanged := not_modified(request, etag)) is not None:
        return unchanged
    result = await store.list_runs(query)
    body = ImportPage(
        items=[summary(run) for run in result.items],
        total=result.total,
        next=page.next_after(result),
    )
    return json_model(body, etag=etag)


async def get_import(request: web.Request) -> web.Response:
    """GET /api/imports/{id}: one import log, its failures paged, its batch progress."""
    params = parse_query(request, FailureQuery)
    run_id = request.match_info["id"]
    store = request.app[keys.STORE]
    version = await store.run_version(run_id) if RUN_ID.match(run_id) else None
    if version is None:
        raise not_found("import", run_id)
    page = paging(
        params.failuresLimit,
        params.failuresCursor,
        params.failuresPage,
        query_key({"run": run_id}),
        names=("failuresCursor", "failuresPage"),
    )
    etag = entity_tag(request, version)
    if (unchanged := not_modified(request, etag)) is not None:
        return unchanged
    run = await _run(request)
    failures = full_log(run).failures
    shown = failures[page.offset : page.offset + page.limit]
    percent = None
    if run.batches_total:
        percent = round(100 * run.batches_done / run.batches_total, 1)
    elif run.batches_total == 0 or run.status.is_final:
        percent = 100.0
    detail = ImportDetail(
        **summary(run).model_dump(),
        failures=shown,
        failuresTotal=len(failures),
        failuresNext=page.next_cursor(len(shown), len(failures)),
        progress=Progress(
            batchesTotal=run.batches_total, batchesDone=run.batches_done, percent=percent
        ),
    )
    return json_model(detail, etag=etag)


async def recent_logs(request: web.Request) -> web.Response:
    """GET /api/import-logs: the 20 most recent import logs, in full, newest first."""
    parse_query(request, NoQuery)
    result = await request.app[keys.STORE].list_runs(RunQuery(limit=RECENT_LOGS))
    return web.json_response([full_log(run).model_dump(mode="json") for run in result.items])


async def start_imports(request: web.Request) -> web.Response:
    """POST /api/imports: start a run of each given (or every configured) feed; 202."""
    body = await read_json_body(request, ImportRequest, optional=True)
    feeds = await request.app[keys.STORE].list_feeds()
    registered = [feed.url for feed in feeds]
    if body is None or body.feeds is None:
        urls = [feed.url for feed in feeds if not feed.paused]
    else:  # a paused feed named here runs: a person asked for it
        urls = list(dict.fromkeys(body.feeds))
    unknown = [url for url in urls if url not in registered]
    if unknown:
        raise ApiError(
            400,
            "unknown_feed",
            f"not a registered feed: {unknown[0]} (add it with POST /api/feeds)",
            {"feeds": unknown},
        )
    scheduler = request.app[keys.SERVICES].scheduler
    try:
        # Ask Redis first: when it is down, no run is created that could not be queued now.
        await request.app[keys.QUEUE].check()
        runs = await scheduler.start_runs(urls, trigger="api")
    except QueueUnavailable as exc:
        raise queue_unavailable(_not_queued(exc)) from None
    return json_model(RunsAccepted(runs=[full_log(run) for run in runs]), status=202)


def _not_queued(exc: QueueUnavailable) -> str:
    return (
        f"{exc}; a run created before Redis failed stays queued in the store and is enqueued "
        "again by the reconciler"
    )


async def _run(request: web.Request) -> ImportRun:
    run_id = request.match_info["id"]
    run = await request.app[keys.STORE].get_run(run_id) if RUN_ID.match(run_id) else None
    if run is None:
        raise not_found("import", run_id)
    return run


async def retry_import(request: web.Request) -> web.Response:
    """POST /api/imports/{id}/retry: a new run of a finished run's feed, linked by retryOf."""
    run = await _run(request)
    if not run.status.is_final:
        raise ApiError(
            409, "run_in_flight", f"run {run.id} is still {run.status.value}", {"id": run.id}
        )
    scheduler = request.app[keys.SERVICES].scheduler
    try:
        await request.app[keys.QUEUE].check()
        started, created = await scheduler.start_run(run.feed_url, "retry", retry_of=run.id)
    except QueueUnavailable as exc:
        raise queue_unavailable(_not_queued(exc)) from None
    if not created:
        raise ApiError(
            409,
            "feed_busy",
            f"the feed already has a run in flight: {started.id}",
            {"runId": started.id},
        )
    return json_model(RunsAccepted(runs=[full_log(started)]), status=202)


async def cancel_import(request: web.Request) -> web.Response:
    """POST /api/imports/{id}/cancel: stop a queued or running run, keeping what it stored."""
    run = await _run(request)
    cancelled = await request.app[keys.SERVICES].pipeline.cancel(run.id)
    if cancelled is None:
        current = await request.app[keys.STORE].get_run(run.id) or run
        if not current.status.is_final:  # MongoDB: its last batch is closing it right now
            raise ApiError(
                409,
                "run_closing",
                f"run {run.id} is finishing its last step; it cannot be cancelled now",
                {"id": run.id, "status": current.status.value},
            )
        raise ApiError(
            409,
            "run_final",
            f"run {run.id} has already ended ({current.status.value})",
            {"id": run.id, "status": current.status.value},
        )
    return json_model(full_log(cancelled))
