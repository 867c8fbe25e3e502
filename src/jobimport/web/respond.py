"""Writing responses: a pydantic model as JSON, dumped by pydantic so types (datetimes, enums)
come out exactly as the OpenAPI document describes them; and conditional GETs (ETag, 304).

The ETags are weak (`W/"…"`): a digest of what a body is made from (the store's version of the
data, the request's path and query, this release), not of the body's bytes, so a poll whose tag
still matches is answered 304 before anything is listed or rendered."""

from __future__ import annotations

import hashlib
import re

from aiohttp import hdrs, web
from pydantic import BaseModel

from jobimport import __version__

# The body never depends on who asks today, but a shared cache must still keep apart the answers
# to different credentials (and never serve a 200 to a request without them).
VARY = "Authorization, Cookie"
CACHE_CONTROL = "no-cache"  # store it, but ask again every time (with If-None-Match)
_TAG = re.compile(r'(?:W/)?"([^"]*)"')


def json_model(model: BaseModel, *, status: int = 200, etag: str | None = None) -> web.Response:
    return web.Response(
        body=model.model_dump_json().encode(),
        status=status,
        content_type="application/json",
        headers=None if etag is None else validator_headers(etag),
    )


def entity_tag(request: web.Request, *inputs: object) -> str:
    """The weak ETag of a GET whose body is a function of `inputs` and of its path and query."""
    made_of = repr((__version__, request.method, request.path_qs, inputs)).encode()
    return f'W/"{hashlib.sha256(made_of).hexdigest()[:32]}"'


def validator_headers(etag: str) -> dict[str, str]:
    return {hdrs.ETAG: etag, hdrs.VARY: VARY, hdrs.CACHE_CONTROL: CACHE_CONTROL}


def if_none_match(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match value matches `etag` (RFC 9110 13.1.2): `*`, or a list of
    entity tags of which one is `etag` by weak comparison (the `W/` prefixes are ignored)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    ours = _TAG.fullmatch(etag)
    assert ours is not None
    return any(tag == ours.group(1) for tag in _TAG.findall(header))


def not_modified(request: web.Request, etag: str) -> web.Response | None:
    """A 304 with the validator headers when the request's If-None-Match matches, else None.
    Handlers call it after auth (middleware) and the checks of the request, before rendering."""
    if not if_none_match(request.headers.get(hdrs.IF_NONE_MATCH), etag):
        return None
    return web.Response(status=304, headers=validator_headers(etag))
