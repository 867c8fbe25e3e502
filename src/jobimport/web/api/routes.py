"""The whole route table: every endpoint with its access rule and the shapes the OpenAPI
document is generated from. docs/api.md documents exactly these (a test keeps them in sync)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from jobimport.web.api import (
    docs,
    events,
    feeds,
    health,
    imports,
    jobs,
    metrics,
    queue,
    session,
)
from jobimport.web.api.schemas import (
    FailureQuery,
    FeedListQuery,
    FeedPage,
    Health,
    ImportDetail,
    ImportListQuery,
    ImportPage,
    ImportRequest,
    JobListQuery,
    JobPage,
    NoQuery,
    QueryModel,
    Readiness,
    RunsAccepted,
    SessionRequest,
)
from jobimport.web.api.schemas_ops import (
    FeedCreate,
    FeedPatch,
    FeedPreviewOut,
    PreviewRequest,
    QueueOut,
)
from jobimport.wire import FeedOut, ImportLog, JobDetail

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Access = Literal["public", "read", "write", "session"]
"""public: anyone. read: anyone, unless READ_TOKEN_REQUIRED (then bearer or session cookie).
write: the bearer token when ADMIN_TOKEN is set. session: the handler checks the token itself."""


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    summary: str
    access: Access
    tag: str
    query: type[QueryModel] = NoQuery
    body: type[BaseModel] | None = None
    # status → pydantic model (JSON), or a media type for other bodies, or None for no body
    responses: dict[int, type[BaseModel] | str | None] = field(default_factory=dict)
    list_of: bool = False  # the 200 answer is a JSON array of the model
    conflicts: bool = False  # may answer 409 when the state forbids it
    needs_queue: bool = False  # may answer 503 queue_unavailable when Redis fails or stalls


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/imports", imports.list_imports, "list_imports",
          "Import logs, newest first; sorted, filtered, paged.", "read", "imports",
          query=ImportListQuery, responses={200: ImportPage}),
    Route("POST", "/api/imports", imports.start_imports, "start_imports",
          "Start imports of the given (default: every unpaused) feed.", "write", "imports",
          body=ImportRequest, responses={202: RunsAccepted}, needs_queue=True),
    Route("GET", "/api/imports/{id}", imports.get_import, "get_import",
          "One import log with its failures (paged) and batch progress.", "read", "imports",
          query=FailureQuery, responses={200: ImportDetail}),
    Route("POST", "/api/imports/{id}/retry", imports.retry_import, "retry_import",
          "Start a new run of a finished run's feed, linked by retryOf.", "write", "imports",
          responses={202: RunsAccepted}, conflicts=True, needs_queue=True),
    Route("POST", "/api/imports/{id}/cancel", imports.cancel_import, "cancel_import",
          "Stop a queued or running run; it ends cancelled with what it stored.", "write",
          "imports", responses={200: ImportLog}, conflicts=True),
    Route("GET", "/api/import-logs", imports.recent_logs, "recent_logs",
          "The 20 most recent import logs, in full.", "read", "imports",
          responses={200: ImportLog}, list_of=True),
    Route("GET", "/api/jobs", jobs.list_jobs, "list_jobs",
          "Imported jobs: search, filter, sort, page.", "read", "jobs",
          query=JobListQuery, responses={200: JobPage}),
    Route("GET", "/api/jobs/{id}", jobs.get_job, "get_job",
          "One job with its plain-text description and raw item.", "read", "jobs",
          responses={200: JobDetail}),
    Route("GET", "/api/feeds", feeds.list_feeds, "list_feeds",
          "Registered feeds (configured and added) with their state.", "read", "feeds",
          query=FeedListQuery, responses={200: FeedPage}),
    Route("POST", "/api/feeds", feeds.create_feed, "create_feed",
          "Add a feed at run time.", "write", "feeds",
          body=FeedCreate, responses={201: FeedOut}, conflicts=True),
    Route("POST", "/api/feeds/preview", feeds.preview, "preview_feed",
          "Fetch and parse a feed without storing anything.", "write", "feeds",
          body=PreviewRequest, responses={200: FeedPreviewOut}),
    Route("PATCH", "/api/feeds/{id}", feeds.update_feed, "update_feed",
          "Pause or resume a feed, or change its schedule, name or headers.", "write", "feeds",
          body=FeedPatch, responses={200: FeedOut}),
    Route("DELETE", "/api/feeds/{id}", feeds.delete_feed, "delete_feed",
          "Remove a feed added at run time (its jobs stay).", "write", "feeds",
          responses={204: None}, conflicts=True),
    Route("GET", "/api/queue", queue.queue_status, "queue_status",
          "Queued, running, deferred and recently failed tasks by kind.", "read", "queue",
          responses={200: QueueOut}, needs_queue=True),
    Route("GET", "/api/events", events.stream_events, "events",
          "Run events as Server-Sent Events; resumes from Last-Event-ID.", "read", "events",
          responses={200: "text/event-stream"}),
    Route("POST", "/api/session", session.create_session, "create_session",
          "Trade the admin token for an HttpOnly session cookie (reads).", "session", "auth",
          body=SessionRequest, responses={204: None}),
    Route("DELETE", "/api/session", session.delete_session, "delete_session",
          "End the session (clears the cookie).", "session", "auth",
          responses={204: None}),
    Route("GET", "/healthz", health.healthz, "healthz",
          "Liveness: the process answers.", "public", "health",
          responses={200: Health}),
    Route("GET", "/readyz", health.readyz, "readyz",
          "Readiness: store, Redis and a worker answer (503 otherwise).", "public", "health",
          responses={200: Readiness, 503: Readiness}),
    Route("GET", "/metrics", metrics.metrics, "metrics",
          "Prometheus metrics, prefixed jobimport_.", "read", "health",
          responses={200: "text/plain"}),
    Route("GET", "/api/openapi.json", docs.openapi_json, "openapi",
          "This API's OpenAPI 3.1 document.", "public", "docs",
          responses={200: "application/json"}),
    Route("GET", "/api/docs", docs.docs_page, "docs",
          "The API described for people (HTML).", "public", "docs",
          responses={200: "text/html"}),
)  # fmt: skip


def find_route(method: str, canonical: str) -> Route | None:
    for route in ROUTES:
        if route.path == canonical and route.method == method:
            return route
    return None


def add_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
