"""Request id, the Host and cross-site checks, auth, and the one error envelope
`{"error": {"code", "message", "details"}}`.

Order (outermost first): request id → errors → origin → auth → handler, so a 400, 403, 401 and
every other failure leave in the envelope and carry the request id.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from urllib.parse import urlsplit

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from jobimport.errors import StoreUnavailable
from jobimport.settings import Settings
from jobimport.web import keys
from jobimport.web.admin.routes import is_page
from jobimport.web.api.routes import find_route
from jobimport.web.auth import has_bearer, has_session
from jobimport.web.errors import ApiError, unauthorized

log = structlog.get_logger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}
# Orchestrators probe by pod IP, so the probes answer whatever the Host header says.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of a request the service's own pages (or a person, typing) made.
SAME_ORIGIN = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def envelope(error: ApiError, request_id: str | None) -> web.Response:
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    headers = dict(error.headers)
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return web.json_response(body, status=error.status, headers=headers)


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Take the caller's X-Request-ID when it is sane, else make one; log and echo it."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
    request[keys.REQUEST_ID] = request_id
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        response = await handler(request)
        if not response.prepared:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.get(keys.REQUEST_ID)
    try:
        return await handler(request)
    except ApiError as exc:
        return envelope(exc, request_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and 204s are answers, not errors
        code = _HTTP_CODES.get(exc.status, f"http_{exc.status}")
        message = exc.reason if exc.status != 404 else f"no route for {request.path}"
        details = {}
        if exc.status == 405:
            details["allowed"] = sorted(exc.headers.get("Allow", "").split(","))
        return envelope(ApiError(exc.status, code, message, details), request_id)
    except StoreUnavailable as exc:
        # Busy, unreachable or damaged: the service's state, not the request's fault nor a bug.
        log.warning("store unavailable", path=request.path, method=request.method, error=str(exc))
        error = ApiError(503, "store_unavailable", f"the store cannot answer: {exc}")
        return envelope(error, request_id)
    except Exception:
        # Bad input never lands here (handlers raise ApiError); this is our bug, so log it all.
        log.exception("unhandled error", path=request.path, method=request.method)
        error = ApiError(500, "internal", "internal error; the request id is in the logs")
        return envelope(error, request_id)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Writes need the bearer token when ADMIN_TOKEN is set; reads too with READ_TOKEN_REQUIRED
    (bearer or session cookie). /healthz, /readyz and the API description stay public; the
    admin pages and their static files check access themselves."""
    settings = request.app[keys.SETTINGS]
    if settings.admin_token is None:
        return await handler(request)
    resource = request.match_info.route.resource
    canonical = None if resource is None else resource.canonical
    if canonical is not None and is_page(request.method, canonical):
        return await handler(request)  # admin pages answer a sign-in page themselves
    route = None if canonical is None else find_route(request.method, canonical)
    access = "read" if route is None else route.access
    if access == "write" and not has_bearer(request, settings):
        raise unauthorized("this endpoint needs `Authorization: Bearer <admin token>`")
    if (
        access == "read"
        and settings.read_token_required
        and not (has_bearer(request, settings) or has_session(request, settings))
    ):
        raise unauthorized("reads need the admin token (bearer header or session cookie)")
    return await handler(request)


@web.middleware
async def origin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a Host that is not ours (DNS rebinding: a page of another site whose name now points
    to this address) and unsafe requests a browser sent from another site (a cross-site form)."""
    settings = request.app[keys.SETTINGS]
    host = request.headers.get(hdrs.HOST)
    # A browser always sends Host, and the attacks need one: a request without it may pass.
    if host is not None and request.path not in PROBES and not host_allowed(host, settings):
        raise ApiError(
            400,
            "host_not_allowed",
            "this Host is not served here; list it in JOBIMPORT_ALLOWED_HOSTS",
            {"host": host[:255]},
        )
    if request.method not in SAFE_METHODS and cross_site(request, settings):
        raise ApiError(
            403,
            "cross_site",
            "a browser sent this request from another site; use the admin page of this service",
        )
    return await handler(request)


def host_allowed(host: str, settings: Settings) -> bool:
    """Loopback names always; with no token, or with ALLOWED_HOSTS set, only those and the
    listed ones (with a token and no list, a proxy may use any name: the token guards writes)."""
    if settings.admin_token is not None and settings.allowed_hosts is None:
        return True
    name = host_name(host)
    if name is None:
        return False
    if is_loopback(name):
        return True
    for allowed in settings.allowed_hosts or ():
        if allowed == "*" or name == allowed:
            return True
        if allowed.startswith("*.") and name.endswith(allowed[1:]):
            return True
    return False


def host_name(host: str) -> str | None:
    """The name of a Host header without its port, lowercased, no trailing dot (an IPv6 address
    keeps its brackets); None when it is not a host[:port]."""
    value = host.strip().lower()
    if value.startswith("["):
        name, bracket, port = value[1:].partition("]")
        name = f"[{name}]" if bracket else ""
    else:
        name, _colon, port = value.partition(":")
        port = f":{port}" if _colon else ""
    if port and not (port.startswith(":") and port[1:].isdigit()):
        return None
    return name.rstrip(".") or None


def is_loopback(name: str) -> bool:
    """`localhost`, any `*.localhost` (RFC 6761), or a loopback IP address."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def cross_site(request: web.Request, settings: Settings) -> bool:
    """Whether a browser says it sent this request from another origin: its Sec-Fetch-Site is
    neither `same-origin` nor `none` (a same-site subdomain counts as another), or, from a browser
    without Fetch Metadata, its Origin is not this service's. No header: not a browser's."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in SAME_ORIGIN
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return False
    given = origin_of(origin)
    return given is None or given not in own_origins(request, settings)


Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of a URL, the port defaulted by the scheme; None when opaque
    (`null`) or malformed."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.hostname is None or port is None:
        return None
    return parts.scheme, parts.hostname.rstrip("."), port


def own_origins(request: web.Request, settings: Settings) -> set[Origin]:
    """This service's origins as the request reached it: its Host with the request's scheme (or
    the one a TLS-terminating proxy names in X-Forwarded-Proto), and PUBLIC_URL's."""
    schemes = {request.scheme}
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    if forwarded in _DEFAULT_PORTS:
        schemes.add(forwarded)
    host = request.headers.get(hdrs.HOST, "")
    found = {origin_of(f"{scheme}://{host}") for scheme in schemes if host}
    if settings.public_url:
        found.add(origin_of(settings.public_url))
    return {origin for origin in found if origin is not None}
