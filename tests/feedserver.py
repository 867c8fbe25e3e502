"""A real HTTP server on 127.0.0.1 that serves feed documents, with ETag/Last-Modified and 304s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from aiohttp import web


@dataclass
class Doc:
    body: bytes
    status: int = 200
    content_type: str = "application/rss+xml"
    validators: bool = True
    headers: dict[str, str] | None = None


class FeedServer:
    """Route table of path → document; counts requests per path."""

    LAST_MODIFIED = "Mon, 23 Nov 2026 09:00:00 GMT"

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.hits: dict[str, int] = {}
        self.base_url = ""

    def put(self, path: str, body: bytes, **kwargs: object) -> str:
        self.docs[path] = Doc(body, **kwargs)  # type: ignore[arg-type]
        return self.base_url + path

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        self.hits[path] = self.hits.get(path, 0) + 1
        doc = self.docs.get(path)
        if doc is None:
            raise web.HTTPNotFound()
        headers = dict(doc.headers or {})
        if doc.validators and doc.status == 200:
            etag = '"' + hashlib.sha256(doc.body).hexdigest()[:16] + '"'
            headers.update({"ETag": etag, "Last-Modified": self.LAST_MODIFIED})
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        return web.Response(
            body=doc.body, status=doc.status, content_type=doc.content_type, headers=headers
        )
