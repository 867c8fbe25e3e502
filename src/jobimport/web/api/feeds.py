"""Configured feeds with their state: last run, last success, failure streak, next run."""

from __future__ import annotations

from aiohttp import web

from jobimport.models import FeedState, RunStatus
from jobimport.store.base import RunQuery
from jobimport.web import keys
from jobimport.web.api.params import paging, parse_query, query_key
from jobimport.web.api.schemas import FeedListQuery, FeedOut, FeedPage
from jobimport.web.respond import json_model

MAX_IN_FLIGHT_LOOKUP = 1000


async def list_feeds(request: web.Request) -> web.Response:
    """GET /api/feeds: the configured feeds in configuration order, with their state."""
    params = parse_query(request, FeedListQuery)
    settings = request.app[keys.SETTINGS]
    store = request.app[keys.STORE]
    configured = list(settings.feeds)
    page = paging(params.limit, params.cursor, params.page, query_key({"feeds": configured}))
    urls = configured[page.offset : page.offset + page.limit]
    states = {state.url: state for state in await store.list_feeds()}
    in_flight = await store.list_runs(
        RunQuery(statuses=(RunStatus.QUEUED, RunStatus.RUNNING), limit=MAX_IN_FLIGHT_LOOKUP)
    )
    running = {run.feed_url: run.id for run in in_flight.items}
    now = request.app[keys.SERVICES].scheduler.clock()
    items = []
    for url in urls:
        state = states.get(url) or FeedState(url=url)
        items.append(
            FeedOut(
                url=url,
                lastRunId=state.last_run_id,
                lastRunAt=state.last_run_at,
                lastStatus=RunStatus(state.last_status) if state.last_status else None,
                lastSuccessAt=state.last_success_at,
                consecutiveFailures=state.consecutive_failures,
                nextRunAt=state.next_run_at,
                due=url not in running and (state.next_run_at is None or state.next_run_at <= now),
                inFlightRunId=running.get(url),
            )
        )
    body = FeedPage(
        items=items, total=len(configured), next=page.next_cursor(len(items), len(configured))
    )
    return json_model(body)
