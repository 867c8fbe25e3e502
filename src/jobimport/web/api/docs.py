"""The API described: the OpenAPI document as JSON, and the same rendered for people
(server-side, no scripts, nothing from a CDN)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from jobimport.web import keys
from jobimport.web.api.params import parse_query
from jobimport.web.api.schemas import NoQuery


async def openapi_json(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    return web.json_response(request.app[keys.OPENAPI])


def type_of(schema: dict[str, Any]) -> str:
    """A short human name of a JSON schema: `string (date-time)`, `ImportLog`, `integer | null`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_of(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            out.append({"method": method.upper(), "path": path, **op})
    return out


async def docs_page(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    document = request.app[keys.OPENAPI]
    settings = request.app[keys.SETTINGS]
    context = {
        "info": document["info"],
        "operations": _operations(document),
        "schemas": document["components"]["schemas"],
        "token_set": settings.admin_token is not None,
        "read_token": settings.read_token_required,
    }
    return aiohttp_jinja2.render_template("api.html", request, context)
