"""Reading requests: query parameters into their pydantic model (400 naming the parameter),
paging cursors, and JSON bodies (400 bad JSON or shape, 415 wrong content type)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from jobimport.store.base import Page
from jobimport.web.errors import ApiError, bad_parameter

Q = TypeVar("Q", bound=BaseModel)
B = TypeVar("B", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024
# No listing pages further than page 1,000,000 of 100: a cursor past that is forged, and an
# offset past 2^63 would not even fit the store's integer.
MAX_OFFSET = 100 * 1_000_000


def is_list_field(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(typing.get_origin(a) is list for a in typing.get_args(annotation))
    return origin is list


def parse_query(request: web.Request, model: type[Q]) -> Q:
    """The query string as `model`. Repeated or comma-separated values fill list fields; any
    other parameter given twice, an unknown one or a bad value is a 400 naming it."""
    raw: dict[str, Any] = {}
    for name in dict.fromkeys(request.query.keys()):
        values = request.query.getall(name)
        if name not in model.model_fields:
            raise bad_parameter(name, "unknown parameter", allowed=sorted(model.model_fields))
        if is_list_field(model, name):
            raw[name] = [part for v in values for part in v.split(",") if part]
        elif len(values) > 1:
            raise bad_parameter(name, "given more than once")
        else:
            raw[name] = values[0]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "query"
        raise bad_parameter(name, first["msg"]) from None


# --- paging ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paging:
    offset: int
    limit: int
    key: str

    def next_cursor(self, returned: int, total: int) -> str | None:
        end = self.offset + returned
        return encode_cursor(end, self.key) if returned and end < total else None

    def window(self, sort: str, order: str) -> dict[str, Any]:
        """The store query's ordering and slice: `sort`, `descending`, `limit`, `offset`."""
        return {
            "sort": sort,
            "descending": order == "desc",
            "limit": self.limit,
            "offset": self.offset,
        }

    def next_after(self, result: Page[Any]) -> str | None:
        """The cursor of the page after the store's `result`, None on the last page."""
        return self.next_cursor(len(result.items), result.total)


def query_key(parts: dict[str, Any]) -> str:
    """A short fingerprint of what a listing shows (filters and sort), so a cursor is only ever
    used with the listing that made it."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(offset: int, key: str) -> str:
    raw = json.dumps({"o": offset, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key: str, parameter: str = "cursor") -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = data["o"]
        made_for = data["k"]
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
        raise bad_parameter(parameter, "not a cursor from this API") from None
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise bad_parameter(parameter, "not a cursor from this API")
    if made_for != key:
        raise bad_parameter(parameter, "cursor belongs to another listing (filters or sort)")
    return offset


class PageParams(typing.Protocol):
    """The paging parameters of a listing's query model (`schemas.PageQuery`)."""

    limit: int
    cursor: str | None
    page: int | None

    def model_dump(self, *, exclude: set[str]) -> dict[str, Any]: ...


def listing_paging(params: PageParams) -> Paging:
    """The paging of a filtered listing: its cursor is bound to every other parameter (the
    filters and the sort), so a cursor of another listing is refused."""
    filters = params.model_dump(exclude={"limit", "cursor", "page"})
    return paging(params.limit, params.cursor, params.page, query_key(filters))


def paging(
    limit: int,
    cursor: str | None,
    page: int | None,
    key: str,
    names: tuple[str, str] = ("cursor", "page"),
) -> Paging:
    """Offset from a cursor or a page number (not both)."""
    if cursor is not None and page is not None:
        raise bad_parameter(names[1], f"give either {names[0]!r} or {names[1]!r}, not both")
    if cursor is not None:
        return Paging(decode_cursor(cursor, key, names[0]), limit, key)
    return Paging(((page or 1) - 1) * limit, limit, key)


# --- bodies ----------------------------------------------------------------------------------


def too_large(cap: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the body exceeds {cap} bytes")


async def read_body(request: web.Request, cap: int) -> bytes:
    """The whole body, however it arrives (in slow pieces, chunked), up to `cap` bytes: one
    `read(n)` returns only what is buffered. Past the cap, 413 at once, without reading on."""
    if request.content_length is not None and request.content_length > cap:
        raise too_large(cap)
    data = bytearray()
    while len(data) <= cap:
        piece = await request.content.read(cap + 1 - len(data))
        if not piece:
            return bytes(data)
        data += piece
    raise too_large(cap)


async def read_json_body(request: web.Request, model: type[B], *, optional: bool) -> B | None:
    """The body as `model`; None when `optional` and there is no body."""
    data = await read_body(request, MAX_BODY_BYTES)
    if not data.strip():
        if optional:
            return None
        raise ApiError(400, "invalid_body", "a JSON body is required")
    if request.content_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as application/json, not {request.content_type or 'nothing'}",
        )
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        first = errors[0]
        raise ApiError(
            400, "invalid_body", f"{first['field']}: {first['message']}", {"errors": errors}
        ) from None
