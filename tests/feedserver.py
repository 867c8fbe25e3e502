"""A real HTTP server on 127.0.0.1 for every test that needs the other end of a connection: feed
documents with ETag/Last-Modified and 304s, scripted answers (a 503 then the feed), slow bodies,
gates that hold a request until the test opens them, any handler, and a record of every request
(webhook receivers are the same server). Tests get one through the `feeds` fixture
(tests/conftest.py); `serve` starts an app of arbitrary handlers."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ServerFactory = Callable[..., Awaitable[TestServer]]


async def serve(
    aiohttp_server: ServerFactory, routes: Mapping[str, Handler], method: str = "GET"
) -> TestServer:
    """Start an app of `routes` (aiohttp path patterns) on 127.0.0.1, a random port."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route(method, path, handler)
    server: TestServer = await aiohttp_server(app)
    return server


@dataclass
class Doc:
    body: bytes
    status: int = 200
    content_type: str = "application/rss+xml"
    validators: bool = True
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Received:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FeedServer:
    """Path → answer, for any method:

    - `put(path, body)`: a document, with validators (ETag, Last-Modified) and 304s;
    - `script(path, docs)`: the i-th request gets the i-th document (the last one repeats), as
      given, without validators (a 503 then the feed; a webhook's answers);
    - `trickle(path, body, parts=, pause_s=)`: the body in pieces with pauses (a slow feed);
    - `route(path, handler)`: any handler;
    - `gate(path)`: requests to the path are held until the test sets the returned event;
      `waiting[path]` counts the requests that reached the gate.

    Every request is recorded in `requests` (and its headers in `headers[path]`) before a gate
    holds it; `hits[path]` counts the requests answered (after the gate). Unknown paths are 404.
    """

    LAST_MODIFIED = "Mon, 23 Nov 2026 09:00:00 GMT"

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.scripts: dict[str, list[Doc]] = {}
        self.trickles: dict[str, tuple[bytes, int, float]] = {}
        self.handlers: dict[str, Handler] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.waiting: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[Received] = []
        self.headers: dict[str, list[dict[str, str]]] = {}
        self.base_url = ""

    @classmethod
    async def start(cls, aiohttp_server: ServerFactory) -> FeedServer:
        """A new server on 127.0.0.1, a random port; it stops with the test."""
        feeds = cls()
        running = await serve(aiohttp_server, {"/{path:.*}": feeds._serve}, method="*")
        feeds.base_url = str(running.make_url("")).rstrip("/")
        return feeds

    def url(self, path: str) -> str:
        return self.base_url + path

    def put(self, path: str, body: bytes, **kwargs: Any) -> str:
        self.docs[path] = Doc(body, **kwargs)
        return self.url(path)

    def script(self, path: str, docs: Sequence[Doc]) -> str:
        self.scripts[path] = list(docs)
        return self.url(path)

    def trickle(self, path: str, body: bytes, *, parts: int, pause_s: float) -> str:
        """Serve `body` in `parts` pieces with a pause before each but the first: a slow feed."""
        self.trickles[path] = (body, parts, pause_s)
        return self.url(path)

    def route(self, path: str, handler: Handler) -> str:
        self.handlers[path] = handler
        return self.url(path)

    def gate(self, path: str) -> asyncio.Event:
        return self.gates.setdefault(path, asyncio.Event())

    def received(self, path: str) -> list[Received]:
        """The requests to `path`, in order."""
        return [r for r in self.requests if r.path == path]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        headers = dict(request.headers)
        self.requests.append(Received(request.method, path, headers, await request.read()))
        self.headers.setdefault(path, []).append(headers)
        gate = self.gates.get(path)
        if gate is not None:
            self.waiting[path] = self.waiting.get(path, 0) + 1
            await gate.wait()
        self.hits[path] = self.hits.get(path, 0) + 1
        if path in self.handlers:
            return await self.handlers[path](request)
        if path in self.trickles:
            return await self._trickle(request, *self.trickles[path])
        if path in self.scripts:
            script = self.scripts[path]
            doc = script[min(self.hits[path], len(script)) - 1]
            return web.Response(
                body=doc.body, status=doc.status, content_type=doc.content_type, headers=doc.headers
            )
        doc = self.docs.get(path)
        if doc is None:
            raise web.HTTPNotFound()
        answer_headers = dict(doc.headers or {})
        if doc.validators and doc.status == 200:
            etag = '"' + hashlib.sha256(doc.body).hexdigest()[:16] + '"'
            answer_headers.update({"ETag": etag, "Last-Modified": self.LAST_MODIFIED})
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=answer_headers)
        return web.Response(
            body=doc.body, status=doc.status, content_type=doc.content_type, headers=answer_headers
        )

    @staticmethod
    async def _trickle(
        request: web.Request, body: bytes, parts: int, pause_s: float
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        size = -(-len(body) // parts)
        for i in range(0, len(body), size):
            if i:
                await asyncio.sleep(pause_s)  # the server is slow on purpose
            await response.write(body[i : i + size])
        await response.write_eof()
        return response
