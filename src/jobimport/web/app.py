"""`create_app(settings, role)`: the only composition root of the HTTP service.

Each resource is opened in its own `cleanup_ctx`, in dependency order, and closed in reverse:
store (with its periodic integrity check) → HTTP client session → event bus → queue → services +
task processing (worker, tick) → metrics observer. At shutdown, open SSE streams are stopped
first (`on_shutdown`), so the server's graceful wait is not held up by them.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_sse import EventSourceResponse

from jobimport.errors import SettingsError
from jobimport.models import utc_now
from jobimport.reader.fetch import make_client_session
from jobimport.runtime import (
    ROLES,
    Role,
    build_services,
    events_context,
    processing_context,
    queue_context,
    store_check_context,
    store_context,
)
from jobimport.settings import Settings
from jobimport.web import keys
from jobimport.web.admin.routes import add_admin_routes
from jobimport.web.api.docs import type_of
from jobimport.web.api.routes import ROUTES, add_routes
from jobimport.web.middleware import (
    auth_middleware,
    error_middleware,
    origin_middleware,
    request_id_middleware,
)
from jobimport.web.openapi import build_openapi
from jobimport.web.telemetry import Metrics, following

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def check_role(settings: Settings, role: str) -> Role:
    """The role, if this configuration can run it; SettingsError naming what is missing."""
    if role not in ROLES or role == "inline":
        raise SettingsError(f"unknown role {role!r}; use all, web or worker")
    if role in ("web", "worker") and not settings.redis_url:
        raise SettingsError(
            f"--role {role} shares work through Redis: set JOBIMPORT_REDIS_URL "
            "(or run --role all, which needs no Redis)"
        )
    return role


def create_app(
    settings: Settings, role: str = "all", *, clock: Callable[[], datetime] = utc_now
) -> web.Application:
    checked = check_role(settings, role)
    app = web.Application(
        middlewares=[request_id_middleware, error_middleware, origin_middleware, auth_middleware],
        client_max_size=1024 * 1024,
    )
    app[keys.SETTINGS] = settings
    app[keys.ROLE] = checked
    app[keys.STARTED_AT] = clock()
    app[keys.STREAMS] = set()
    app[keys.METRICS] = Metrics(checked)
    app[keys.OPENAPI] = api_document()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("jobimport.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        filters={"type_of": type_of},
        bytecode_cache=_COMPILED_TEMPLATES,
    )
    add_routes(app)
    add_admin_routes(app)
    app.cleanup_ctx.extend(_contexts(checked, clock))
    app.on_shutdown.append(_stop_streams)
    return app


@functools.cache
def api_document() -> dict[str, Any]:
    """The OpenAPI document of the route table: derived from the code alone, so built once per
    process (it is only read)."""
    return build_openapi(ROUTES)


class _TemplateCode(jinja2.BytecodeCache):
    """Compiled templates in memory, shared by every app of the process (keyed on the source,
    so a changed template compiles again)."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _TemplateCode()


def _contexts(role: Role, clock: Callable[[], datetime]) -> list[CleanupCtx]:
    async def store(app: web.Application) -> AsyncIterator[None]:
        settings = app[keys.SETTINGS]
        async with (
            store_context(settings, clock) as opened,
            store_check_context(settings, opened, clock) as health,
        ):
            app[keys.STORE] = opened
            app[keys.STORE_HEALTH] = health
            yield

    async def session(app: web.Application) -> AsyncIterator[None]:
        async with make_client_session(app[keys.SETTINGS]) as opened:
            app[keys.SESSION] = opened
            yield

    async def events(app: web.Application) -> AsyncIterator[None]:
        async with events_context(app[keys.SETTINGS], role) as opened:
            app[keys.EVENTS] = opened
            yield

    async def queue(app: web.Application) -> AsyncIterator[None]:
        async with queue_context(app[keys.SETTINGS], role) as opened:
            app[keys.QUEUE] = opened
            yield

    async def processing(app: web.Application) -> AsyncIterator[None]:
        settings = app[keys.SETTINGS]
        services = build_services(
            settings, app[keys.STORE], app[keys.SESSION], app[keys.EVENTS], app[keys.QUEUE], clock
        )
        app[keys.SERVICES] = services
        async with processing_context(settings, role, app[keys.QUEUE], services) as running:
            app[keys.PROCESSING] = running
            yield

    async def metrics(app: web.Application) -> AsyncIterator[None]:
        async with following(app[keys.METRICS], app[keys.EVENTS].bus):
            yield

    return [store, session, events, queue, processing, metrics]


async def _stop_streams(app: web.Application) -> None:
    streams: set[EventSourceResponse] = app[keys.STREAMS]
    for stream in list(streams):
        stream.stop_streaming()
