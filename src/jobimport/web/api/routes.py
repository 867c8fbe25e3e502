"""The whole route table: every endpoint with its access rule and the shapes the OpenAPI
document is generated from. docs/api.md documents exactly these (a test keeps them in sync)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from jobimport.web.api import docs, events, feeds, health, imports, jobs, metrics, session
from jobimport.web.api.schemas import (
    FailureQuery,
    FeedListQuery,
    FeedPage,
    Health,
    ImportDetail,
    ImportListQuery,
    ImportLog,
    ImportPage,
    ImportRequest,
    JobDetail,
    JobListQuery,
    JobPage,
    NoQuery,
    QueryModel,
    Readiness,
    RunsAccepted,
    SessionRequest,
)

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


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/imports", imports.list_imports, "list_imports",
          "Import logs, newest first; sorted, filtered, paged.", "read", "imports",
          query=ImportListQuery, responses={200: ImportPage}),
    Route("POST", "/api/imports", imports.start_imports, "start_imports",
          "Start imports of the given (default: every configured) feed.", "write", "imports",
          body=ImportRequest, responses={202: RunsAccepted}),
    Route("GET", "/api/imports/{id}", imports.get_import, "get_import",
          "One import log with its failures (paged) and batch progress.", "read", "imports",
          query=FailureQuery, responses={200: ImportDetail}),
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
          "Configured feeds with their state.", "read", "feeds",
          query=FeedListQuery, responses={200: FeedPage}),
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
