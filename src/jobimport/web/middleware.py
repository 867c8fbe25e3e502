"""Request id, auth, and the one error envelope `{"error": {"code", "message", "details"}}`.

Order (outermost first): request id → errors → auth → handler, so a 401 and every other failure
leave in the envelope and carry the request id.
"""

from __future__ import annotations

import re
import uuid

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from jobimport.errors import StoreUnavailable
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
