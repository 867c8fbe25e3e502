"""Limits on the HTTP server's connections, so idle or half-open ones cannot exhaust descriptors:

- a connection must send a request's headers within `header_timeout_s` of being opened, or of
  the first byte of its next request (aiohttp has no such deadline: a client that sends half a
  request line is otherwise held until the keep-alive timer, an hour by default); it gets a 408
  if it sent part of a request, a silent close if it sent nothing;
- an idle keep-alive connection closes after `keepalive_timeout_s` (aiohttp's own timer);
- at most `max_connections` are open; past it a new connection gets a short 503 and is closed
  before any parser or task exists for it.

`GuardedRunner` is an `AppRunner` whose server applies them.
"""

from __future__ import annotations

import asyncio
import json
import resource
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from jobimport.settings import Settings
from jobimport.web.telemetry import Metrics

log = structlog.get_logger(__name__)
CONNECTIONS_CEILING = 10_000
DESCRIPTOR_RESERVE = 256
"""Descriptors left for everything but client connections: the store, Redis, feed downloads,
log files."""


def default_max_connections() -> int:
    """min(10,000, the soft descriptor limit − DESCRIPTOR_RESERVE), at least 1."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONNECTIONS_CEILING
    return max(1, min(CONNECTIONS_CEILING, soft - DESCRIPTOR_RESERVE))


def raise_descriptor_limit() -> int:
    """Raise the soft descriptor limit to the hard one (the usual 1,024 soft limit is below
    the 1,000 SSE clients plus everything else); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # keep what we have; default_max_connections follows it
    return soft


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout_s: float
    keepalive_timeout_s: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            settings.header_timeout_s,
            settings.keepalive_timeout_s,
            settings.max_connections or default_max_connections(),
        )


def _plain_response(status: str, code: str, message: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 answer in the API's error envelope, for connections we close at once."""
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    )
    return head.encode() + body


REFUSED = _plain_response(
    "503 Service Unavailable",
    "too_many_connections",
    "the server has too many open connections; retry shortly",
    "Retry-After: 1\r\n",
)
TIMED_OUT = _plain_response(
    "408 Request Timeout", "request_timeout", "the request's headers did not arrive in time"
)


class _Refuse(asyncio.Protocol):
    """What a connection past the cap gets: the 503, then the close; no parser, no task."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(REFUSED)
        transport.close()


class _GuardedHandler(RequestHandler):
    """aiohttp's connection handler, plus the header deadline and the connection count."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = manager
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_headers = True  # a new connection owes its first request
        self._partial = False  # some bytes of the awaited request arrived
        self._counted = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        # Bytes while the handler waits for a request start the next request's deadline.
        if self._deadline is None and self._waiter is not None and not self._waiter.done():
            self._awaiting_headers = True
            self._arm()
        requests_before = self._request_count
        super().data_received(data)
        if self._request_count != requests_before:  # headers complete (or refused with 400)
            self._awaiting_headers = self._partial = False
            self._disarm()
        elif self._awaiting_headers:
            self._partial = True

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        if self._counted:
            self._counted = False
            self._guard.closed_one()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self._loop.call_later(
            self._guard.limits.header_timeout_s, self._headers_overdue
        )

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_overdue(self) -> None:
        self._deadline = None
        waiting = self._waiter is not None and not self._waiter.done()
        if not (self._awaiting_headers and waiting) or self.transport is None:
            return
        self._guard.header_timeout(self._partial)
        if self._partial:  # a connection that sent nothing (a browser's preconnect) gets no answer
            self.transport.write(TIMED_OUT)
        self.force_close()


class GuardedServer(web.Server):
    """aiohttp's low-level server with the limits: counts connections, refuses past the cap."""

    def __init__(self, base: web.Server, limits: ConnectionLimits, metrics: Metrics | None) -> None:
        super().__init__(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            **base._kwargs,  # what the runner and the app chose: keep-alive, access log, …
        )
        self.limits = limits
        self.open = 0
        self._metrics = metrics

    def __call__(self) -> RequestHandler:  # asyncio's protocol factory
        if self.open >= self.limits.max_connections:
            log.warning("connection refused: too many open connections", limit=self.open)
            if self._metrics is not None:
                self._metrics.connections_refused.inc()
            # asyncio takes any Protocol from the factory; this one never reaches aiohttp.
            return _Refuse()  # type: ignore[return-value]
        self.open += 1
        if self._metrics is not None:
            self._metrics.http_connections.set(self.open)
        return _GuardedHandler(self, loop=self._loop, **self._kwargs)

    def closed_one(self) -> None:
        self.open -= 1
        if self._metrics is not None:
            self._metrics.http_connections.set(self.open)

    def header_timeout(self, partial: bool) -> None:
        if partial:  # a warning: many of them are an attack or a broken client (and rate-limited)
            log.warning("connection closed: request headers incomplete after HEADER_TIMEOUT_S")
        else:
            log.debug("connection closed: no request within HEADER_TIMEOUT_S")
        if self._metrics is not None:
            self._metrics.header_timeouts.inc()


class GuardedRunner(web.AppRunner):
    """An AppRunner whose server applies `limits` (keep-alive included)."""

    def __init__(
        self,
        app: web.Application,
        limits: ConnectionLimits,
        metrics: Metrics | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, keepalive_timeout=limits.keepalive_timeout_s, **kwargs)
        self.limits = limits
        self._metrics = metrics

    async def _make_server(self) -> web.Server:
        # The app's start-up happens in the base method; only the server around it changes.
        base = await super()._make_server()
        return GuardedServer(base, self.limits, self._metrics)
