"""POST /api/session: trade the admin token for an HttpOnly session cookie that authorizes
reads (the admin page's EventSource cannot send a bearer header); DELETE ends it. Writes always
need the bearer header, so the cookie alone cannot start an import (no CSRF)."""

from __future__ import annotations

from aiohttp import web

from jobimport.web import keys
from jobimport.web.api.params import read_json_body
from jobimport.web.api.schemas import SessionRequest
from jobimport.web.auth import (
    COOKIE,
    COOKIE_MAX_AGE_S,
    bearer,
    session_value,
    token_matches,
)
from jobimport.web.errors import unauthorized


async def create_session(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    body = await read_json_body(request, SessionRequest, optional=True)
    given = body.token if body is not None else bearer(request)
    response = web.Response(status=204)
    if settings.admin_token is None:
        return response  # nothing to prove: reads are open
    if given is None or not token_matches(settings, given):
        raise unauthorized("a valid admin token is required (body `token` or bearer header)")
    response.set_cookie(
        COOKIE,
        session_value(settings),
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )
    return response


async def delete_session(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response
