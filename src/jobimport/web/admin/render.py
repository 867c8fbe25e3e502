"""Rendering an admin page: the shared context (navigation, token rules, asset URLs), the
security headers every page carries, the sign-in page when reads need the token, and 404s."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from jobimport.web import keys
from jobimport.web.admin import format as fmt
from jobimport.web.admin import rules
from jobimport.web.auth import has_bearer, has_session

STATIC_PREFIX = "/static"

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Job descriptions may show their images (https only); nothing else leaves the site.
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

NAV = (("history", "Imports", "/"), ("feeds", "Feeds", "/feeds"), ("jobs", "Jobs", "/jobs"))

FILTERS = {
    "ago": fmt.ago,
    "absolute": fmt.absolute,
    "iso": fmt.iso,
    "duration": fmt.duration,
    "num": fmt.count,
    "size": fmt.size,
    "short_url": fmt.short_url,
    "web_link": fmt.web_link,
    "status_label": fmt.status_label,
    "status_badge": fmt.status_badge,
}

STATIC_FILES = (
    "app.css",
    "js/common.js",
    "js/history.js",
    "js/run.js",
    "js/feeds.js",
    "js/queue.js",
)


def static_dir() -> str:
    return str(resources.files("jobimport.web").joinpath("static"))


def asset_versions() -> dict[str, str]:
    """A short content hash per static file, added to its URL so browsers may cache files
    for long and still never run a stale script after an upgrade."""
    root = resources.files("jobimport.web").joinpath("static")
    return {
        name: hashlib.sha256(root.joinpath(name).read_bytes()).hexdigest()[:10]
        for name in STATIC_FILES
    }


def can_read(request: web.Request) -> bool:
    settings = request.app[keys.SETTINGS]
    if settings.admin_token is None or not settings.read_token_required:
        return True
    return has_session(request, settings) or has_bearer(request, settings)


def page_config(
    request: web.Request, feeds: Sequence[str], extra: dict[str, Any]
) -> dict[str, Any]:
    """What the scripts need to know, as JSON in the page (read by static/js/api.js): whether
    writes need the token, the feeds' short names, the Python rules they apply (rules.py) and
    what the page adds (`extra`, e.g. the history's view)."""
    settings = request.app[keys.SETTINGS]
    return {
        "tokenRequired": settings.admin_token is not None,
        "feeds": {url: fmt.short_url(url) for url in feeds},
        "statuses": rules.status_rules(),
        "events": rules.event_rules(),
        "links": rules.link_rules(request.app.router),
        **extra,
    }


def now(request: web.Request) -> datetime:
    return request.app[keys.SERVICES].scheduler.clock()


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    app = request.app
    settings = app[keys.SETTINGS]
    versions = app[keys.ASSET_VERSIONS]
    base: dict[str, Any] = {
        "nav": NAV,
        "now": now(request),
        "feeds": settings.feeds,
        "static": lambda name: f"{STATIC_PREFIX}/{name}?v={versions.get(name, '0')}",
        "token_required": settings.admin_token is not None,
        "notices": [],
    }
    base.update(context)
    base["config"] = page_config(request, base["feeds"], context.get("config", {}))
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


async def render_page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """`render` with the registered feeds read from the store (feeds are data: the "Run now"
    dialog and the feed filters list those added at run time too), unless `context` has them."""
    if "feeds" not in context:
        registered = await request.app[keys.STORE].list_feeds()
        context = {**context, "feeds": [state.url for state in registered]}
    return render(request, template, context, status=status)


def sign_in(request: web.Request) -> web.Response:
    """Reads need the token here: the page asks for it once (static/js/auth.js trades it for
    the HttpOnly session cookie at POST /api/session) and reloads. It names no feed."""
    context = {"page": "signin", "title": "Sign in", "feeds": ()}
    return render(request, "admin/signin.html", context, status=401)


def not_found(request: web.Request, what: str) -> web.Response:
    context = {"page": "notfound", "title": "Not found", "what": what}
    return render(request, "admin/not_found.html", context, status=404)
