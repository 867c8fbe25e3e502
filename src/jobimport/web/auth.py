"""The admin token: checked as a bearer header, or as the session cookie that the admin page gets
once (EventSource cannot send headers). Comparisons run in constant time."""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from jobimport.settings import Settings

COOKIE = "jobimport_session"
COOKIE_MAX_AGE_S = 12 * 3600
_SESSION_CONTEXT = b"jobimport session v1"


def _token(settings: Settings) -> bytes | None:
    secret = settings.admin_token
    return None if secret is None else secret.get_secret_value().encode()


def session_value(settings: Settings) -> str:
    """The cookie's value: derived from the token, so the token itself never sits in a cookie,
    and changing the token ends every session."""
    token = _token(settings)
    assert token is not None
    return hmac.new(token, _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def token_matches(settings: Settings, given: str) -> bool:
    token = _token(settings)
    return token is not None and hmac.compare_digest(_bytes(given), token)


def bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def has_bearer(request: web.Request, settings: Settings) -> bool:
    given = bearer(request)
    return given is not None and token_matches(settings, given)


def has_session(request: web.Request, settings: Settings) -> bool:
    given = request.cookies.get(COOKIE)
    if given is None or settings.admin_token is None:
        return False
    return hmac.compare_digest(_bytes(given), session_value(settings).encode())


def _bytes(given: str) -> bytes:
    """What the client sent, as bytes: aiohttp decodes header bytes that are not UTF-8 into lone
    surrogates (surrogateescape), and a JSON body may hold one (`"\\ud800"`); a plain
    `.encode()` of either raises, where a wrong token must simply not match."""
    return given.encode("utf-8", "surrogatepass")
