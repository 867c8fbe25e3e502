"""The OpenAPI 3.1 document, generated from the route table and the pydantic schemas."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from jobimport import __version__
from jobimport.web.api.routes import Route
from jobimport.web.api.schemas import ErrorEnvelope
from jobimport.web.auth import COOKIE

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_ERRORS = {
    400: "Bad query parameter (named in `error.details.parameter`) or bad body; a request line"
    " or header over 8 KiB gets a plain-text 400 from the HTTP layer.",
    401: "Missing or wrong token.",
    404: "No such id.",
    409: "Conflicts with the current state (`error.code` says which).",
    413: "Body too large.",
    415: "Body is not application/json.",
    503: "`queue_unavailable`: Redis failed or did not answer within JOBIMPORT_REDIS_TIMEOUT_S;"
    " retry later (`Retry-After`).",
}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str = "serialization") -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}

    def properties(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        schema = model.model_json_schema(ref_template=_REF, mode="validation")
        self.schemas.update(schema.pop("$defs", {}))
        return schema.get("properties", {}), set(schema.get("required", []))


def _parameters(route: Route, components: _Components) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": f"The {route.tag[:-1] if route.tag.endswith('s') else route.tag} id.",
            "schema": {"type": "string"},
        }
        for name in _PATH_PARAM.findall(route.path)
    ]
    properties, required = components.properties(route.query)
    for name, prop in properties.items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": description,
            "schema": prop,
        }
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _responses(route: Route, components: _Components) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, shape in route.responses.items():
        entry: dict[str, Any] = {"description": "OK" if status < 300 else f"HTTP {status}"}
        if isinstance(shape, str):
            entry["content"] = {shape: {"schema": {"type": "string"}}}
        elif shape is not None:
            schema = components.ref(shape)
            if route.list_of:
                schema = {"type": "array", "items": schema}
            entry["content"] = {"application/json": {"schema": schema}}
        out[str(status)] = entry
    errors = [400]
    if route.access in ("read", "write", "session"):
        errors.append(401)
    if _PATH_PARAM.search(route.path):
        errors.append(404)
    if route.conflicts:
        errors.append(409)
    if route.body is not None:
        errors += [413, 415]
    if route.needs_queue:
        errors.append(503)
    envelope = components.ref(ErrorEnvelope)
    for status in errors:
        out[str(status)] = {
            "description": _ERRORS[status],
            "content": {"application/json": {"schema": envelope}},
        }
    # aiohttp's HTTP parser refuses a request line or header over 8 KiB itself, before any
    # handler runs, with a plain-text 400.
    out["400"]["content"]["text/plain"] = {"schema": {"type": "string"}}
    return out


def _security(route: Route) -> list[dict[str, list[str]]] | None:
    if route.access == "write":
        return [{"bearer": []}]
    if route.access == "read":
        return [{}, {"bearer": []}, {"session": []}]
    return None


def build_openapi(routes: Sequence[Route]) -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.name,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": _parameters(route, components),
            "responses": _responses(route, components),
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": False,
                "content": {
                    "application/json": {"schema": components.ref(route.body, mode="validation")}
                },
            }
        security = _security(route)
        if security is not None:
            operation["security"] = security
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jobimport",
            "version": __version__,
            "description": "Import job postings from RSS feeds, with an honest import history.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE},
            },
        },
    }
