"""The admin pages' routes and static files. Pages check read access themselves (a sign-in page
instead of a JSON 401), so the auth middleware lets them and the static files through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from jobimport.web import keys
from jobimport.web.admin import feeds, history, jobs, run
from jobimport.web.admin.render import (
    FILTERS,
    STATIC_PREFIX,
    asset_versions,
    can_read,
    sign_in,
    static_dir,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGES: tuple[tuple[str, Handler, str], ...] = (
    (history.PATH, history.history_page, "admin_history"),
    ("/imports/{id}", run.run_page, "admin_run"),
    ("/feeds", feeds.feeds_page, "admin_feeds"),
    ("/jobs", jobs.jobs_page, "admin_jobs"),
    ("/jobs/{id}", jobs.job_page, "admin_job"),
)
PUBLIC_PREFIXES = (STATIC_PREFIX,)


def is_page(method: str, canonical: str) -> bool:
    """True for the admin pages and static files: they answer without a token themselves."""
    if method not in ("GET", "HEAD"):
        return False
    return canonical in PUBLIC_PREFIXES or any(canonical == path for path, _, _ in PAGES)


def add_admin_routes(app: web.Application) -> None:
    """Register the pages, the static files and the templates' filters on `app` (after
    aiohttp_jinja2.setup)."""
    aiohttp_jinja2.get_env(app).filters.update(FILTERS)
    app[keys.ASSET_VERSIONS] = asset_versions()
    for path, handler, name in PAGES:
        app.router.add_get(path, _readers_only(handler), name=name)
    # JSON, not a page: the auth middleware guards it like an API read.
    app.router.add_get(history.VIEW_PATH, history.history_view, name="admin_history_view")
    app.router.add_static(STATIC_PREFIX, static_dir(), name="static", append_version=False)
    app.on_response_prepare.append(_cache_static)


def _readers_only(page: Handler) -> Handler:
    """The pages' one access rule: without read access, the sign-in page instead."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        return await page(request) if can_read(request) else sign_in(request)

    guarded.__name__ = guarded.__qualname__ = page.__name__
    guarded.__doc__ = page.__doc__
    return guarded


async def _cache_static(request: web.Request, response: web.StreamResponse) -> None:
    """A versioned URL (`?v=<content hash>`, see render.static) never changes: cache it for
    good. Others (the modules' own imports) are revalidated, so an upgrade is seen at once."""
    if request.path.startswith(STATIC_PREFIX + "/") and response.status == 200:
        versioned = "v" in request.query
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if versioned else "no-cache"
        )
