"""Writing responses: a pydantic model as JSON, dumped by pydantic so types (datetimes, enums)
come out exactly as the OpenAPI document describes them."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel


def json_model(model: BaseModel, *, status: int = 200) -> web.Response:
    return web.Response(
        body=model.model_dump_json().encode(), status=status, content_type="application/json"
    )
