"""GET /metrics: Prometheus text format, names prefixed `jobimport_` (see web/telemetry.py)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from jobimport.queue.base import QueueUnavailable
from jobimport.web import keys
from jobimport.web.api.params import parse_query
from jobimport.web.api.schemas import NoQuery
from jobimport.web.telemetry import Snapshot


async def metrics(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    app = request.app
    store = app[keys.STORE]
    state = app[keys.METRICS]
    try:
        depth: int | None = await app[keys.QUEUE].depth()
    except QueueUnavailable:
        depth = None  # a scrape still reports the store; the depth gauge is left out
    state.snapshot = Snapshot(
        runs=await store.count_runs_by_status(),
        items=await store.sum_run_counts(),
        jobs=await store.count_jobs(),
        queue_depth=depth,
        sse_clients=len(app[keys.STREAMS]),
    )
    body = generate_latest(state.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
