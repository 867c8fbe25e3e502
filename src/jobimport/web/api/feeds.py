"""Feeds as data: list them with their state, add, change, pause, delete, and preview a feed.

Feeds seeded from JOBIMPORT_FEEDS (origin `config`) can be paused but not deleted; feeds added
here (origin `api`) can be deleted, and their jobs stay. Request headers are stored with the
feed and only their names are ever shown back.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from jobimport.errors import FeedError
from jobimport.feed_policy import next_run_at, parse_schedule
from jobimport.models import FeedOrigin, FeedState, RunStatus
from jobimport.preview import preview_feed
from jobimport.reader.netguard import check_url
from jobimport.scheduler import unusable_reason
from jobimport.store.base import RunQuery
from jobimport.web import keys
from jobimport.web.api.params import paging, parse_query, query_key, read_json_body
from jobimport.web.api.schemas import FeedListQuery, FeedPage
from jobimport.web.api.schemas_ops import FeedCreate, FeedPatch, FeedPreviewOut, PreviewRequest
from jobimport.web.errors import ApiError, not_found
from jobimport.web.respond import entity_tag, json_model, not_modified
from jobimport.wire import FailureOut, FeedErrorOut, FeedOut, HttpOut, JobItem

MAX_IN_FLIGHT_LOOKUP = 1000
FEED_ID = re.compile(r"^[0-9a-f]{16}$")


def feed_out(
    state: FeedState, default_schedule: str, now: datetime, in_flight: str | None
) -> FeedOut:
    return FeedOut.of(
        state,
        origin=state.origin,
        paused=state.paused,
        pauseNote=state.pause_note,
        schedule=state.schedule,
        effectiveSchedule=state.schedule or default_schedule,
        headerNames=sorted(state.headers),
        createdAt=state.created_at,
        alerted=state.alerted_at is not None,
        lastRunId=state.last_run_id,
        lastRunAt=state.last_run_at,
        lastStatus=RunStatus(state.last_status) if state.last_status else None,
        lastSuccessAt=state.last_success_at,
        consecutiveFailures=state.consecutive_failures,
        nextRunAt=state.next_run_at,
        due=is_due(state, now, in_flight),
        inFlightRunId=in_flight,
    )


def is_due(state: FeedState, now: datetime, in_flight: str | None) -> bool:
    return (
        not state.paused
        and in_flight is None
        and (state.next_run_at is None or state.next_run_at <= now)
    )


async def _in_flight(request: web.Request, feed_url: str | None = None) -> dict[str, str]:
    """Feed URL → its run in flight, for every feed or only `feed_url`."""
    runs = await request.app[keys.STORE].list_runs(
        RunQuery(
            feed_url=feed_url,
            statuses=(RunStatus.QUEUED, RunStatus.RUNNING),
            limit=1 if feed_url else MAX_IN_FLIGHT_LOOKUP,
        )
    )
    return {run.feed_url: run.id for run in runs.items}


async def _out(request: web.Request, state: FeedState) -> FeedOut:
    running = await _in_flight(request, state.url)
    now = request.app[keys.SERVICES].scheduler.clock()
    return feed_out(state, request.app[keys.SETTINGS].schedule, now, running.get(state.url))


async def list_feeds(request: web.Request) -> web.Response:
    """GET /api/feeds: the registered feeds, oldest first, with their state."""
    params = parse_query(request, FeedListQuery)
    feeds = await request.app[keys.STORE].list_feeds()
    page = paging(params.limit, params.cursor, params.page, query_key({"feeds": "all"}))
    shown = feeds[page.offset : page.offset + page.limit]
    running = await _in_flight(request)
    now = request.app[keys.SERVICES].scheduler.clock()
    default = request.app[keys.SETTINGS].schedule
    # Feeds are few and already read: the tag is made of everything the page is made of (the
    # time only through each feed's `due`), which is cheaper than rendering it.
    dues = [is_due(state, now, running.get(state.url)) for state in feeds]
    etag = entity_tag(request, feeds, running, dues, default)
    if (unchanged := not_modified(request, etag)) is not None:
        return unchanged
    body = FeedPage(
        items=[feed_out(state, default, now, running.get(state.url)) for state in shown],
        total=len(feeds),
        next=page.next_cursor(len(shown), len(feeds)),
    )
    return json_model(body, etag=etag)


def _checked_url(request: web.Request, url: str) -> str:
    try:
        check_url(url, allow_private=request.app[keys.SETTINGS].allow_private_addresses)
    except FeedError as exc:
        info = exc.info
        raise ApiError(
            400, "invalid_body", f"url: {info.message}", {"reason": info.reason}
        ) from None
    return url


async def create_feed(request: web.Request) -> web.Response:
    """POST /api/feeds: register a feed at run time; 201 with the feed."""
    body = await read_json_body(request, FeedCreate, optional=False)
    assert body is not None
    url = _checked_url(request, body.url.strip())
    state = FeedState(
        url=url,
        name=body.name,
        schedule=body.schedule,
        paused=body.paused,
        origin=FeedOrigin.API,
        headers=body.headers or {},
    )
    added = await request.app[keys.STORE].add_feed(state)
    if added is None:
        existing = await request.app[keys.STORE].get_feed(url)
        raise ApiError(
            409,
            "feed_exists",
            f"a feed with this URL exists already: {url}",
            {"id": existing.id if existing else state.id},
        )
    return json_model(await _out(request, added), status=201)


async def _feed(request: web.Request) -> FeedState:
    ident = request.match_info["id"]
    state = await request.app[keys.STORE].get_feed_by_id(ident) if FEED_ID.match(ident) else None
    if state is None or not state.registered:
        raise not_found("feed", ident)
    return state


async def update_feed(request: web.Request) -> web.Response:
    """PATCH /api/feeds/{id}: change paused, schedule, name or headers; 200 with the feed."""
    state = await _feed(request)
    body = await read_json_body(request, FeedPatch, optional=False)
    assert body is not None
    given = body.model_fields_set
    if not given:
        raise ApiError(400, "invalid_body", "give at least one of paused, schedule, name, headers")
    if "paused" in given and body.paused is None:
        raise ApiError(400, "invalid_body", "paused: must be true or false")
    changes: dict[str, Any] = {name: getattr(body, name) for name in given}
    if "headers" in changes and changes["headers"] is None:
        changes["headers"] = {}
    if {"paused", "schedule", "headers"} & given:
        # A person acted on what the note is about: it no longer explains the state.
        changes["pause_note"] = None
    after = replace(state, **changes)
    if not after.paused and (problem := unusable_reason(after)):
        raise ApiError(
            400,
            "invalid_body",
            f"cannot run this feed as stored ({problem}): give a new value in the same request",
            {"id": state.id},
        )
    if "schedule" in given and state.last_run_at is not None:
        # The next run follows the new schedule at once, not after the old one's wait.
        schedule = parse_schedule(body.schedule or request.app[keys.SETTINGS].schedule)
        changes["next_run_at"] = next_run_at(
            schedule, state.last_run_at, consecutive_failures=state.consecutive_failures
        )
    updated = await request.app[keys.STORE].update_feed(state.id, changes)
    if updated is None:
        raise not_found("feed", state.id)
    return json_model(await _out(request, updated))


async def delete_feed(request: web.Request) -> web.Response:
    """DELETE /api/feeds/{id}: remove a feed added at run time (its jobs and runs stay); 204."""
    state = await _feed(request)
    if state.origin is FeedOrigin.CONFIG:
        raise ApiError(
            409,
            "config_feed",
            "this feed comes from JOBIMPORT_FEEDS: pause it, or remove it from the configuration",
            {"id": state.id},
        )
    if not await request.app[keys.STORE].delete_feed(state.id):
        raise not_found("feed", state.id)
    return web.Response(status=204)


async def preview(request: web.Request) -> web.Response:
    """POST /api/feeds/preview: fetch and parse a feed, store nothing; 200 with what it holds."""
    body = await read_json_body(request, PreviewRequest, optional=False)
    assert body is not None
    url = _checked_url(request, body.url.strip())
    result = await preview_feed(
        request.app[keys.SESSION], url, request.app[keys.SETTINGS], body.headers
    )
    out = FeedPreviewOut(
        url=url,
        totalFetched=result.total,
        failedJobs=result.failed,
        items=[JobItem.of(job) for job in result.items],
        failures=[FailureOut.of(f) for f in result.failures],
        error=None if result.error is None else FeedErrorOut.of(result.error),
        http=None if result.fetch is None else HttpOut.of(result.fetch),
        warnings=result.warnings,
    )
    return json_model(out)
