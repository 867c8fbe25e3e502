"""GET /api/events: the run events as Server-Sent Events.

Each event carries its bus id as `id:`, its type as `event:` and its JSON as `data:`. A client
that reconnects with `Last-Event-ID` first gets what it missed (as far as the replay buffer or
the Redis stream reaches). The stream starts with a `: connected` comment, sends a keep-alive
comment every SSE_KEEPALIVE_S, and ends when the client leaves, when it falls too far behind
(its bounded queue overflows, or SSE_STREAM_BUFFER_BYTES wait unsent in its socket's buffer; it
reconnects and replays), or at shutdown (`stop_streaming`).

Each stream is written by its own handler task and a write never waits on the client below the
bound, so a client that stops reading holds at most the bound and slows no one else.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

import structlog
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from jobimport.events.hub import SubscriberDropped, Subscription
from jobimport.web import keys
from jobimport.web.api.params import parse_query
from jobimport.web.api.schemas import NoQuery

log = structlog.get_logger(__name__)
RETRY_MS = 2000  # how soon a browser reconnects after the stream ends
FRAME_OVERHEAD = 64  # "id: ", "event: ", "data: ", newlines and the chunk header of one event


async def stream_events(request: web.Request) -> web.StreamResponse:
    parse_query(request, NoQuery)
    app = request.app
    bus = app[keys.EVENTS].bus
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    async with sse_response(
        request, ping_interval=app[keys.SETTINGS].sse_keepalive_s, headers=headers
    ) as resp:
        streams = app[keys.STREAMS]
        streams.add(resp)
        sub = await bus.subscribe(resp.last_event_id)
        budget = _Budget(request.transport, app[keys.SETTINGS].sse_stream_buffer_bytes)
        try:
            await resp.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
            cut = await _pump(resp, sub, budget)
        except (ConnectionResetError, RuntimeError):
            cut = None  # the client went away while we wrote
        finally:
            bus.unsubscribe(sub)
            streams.discard(resp)
        if cut is not None:
            _cut(request, cut, budget.bound)
    return resp


class _Budget:
    """The bytes a stream may have waiting in its transport. The transport's high-water mark
    is set to the bound, so aiohttp's writer never waits on the client below it; each event is
    written only if it fits. The kernel's send buffer of the socket is held to about the bound
    too (Linux doubles the value set): left to autotuning it took 1.4 MB of a stalled client's
    events on loopback before the transport held any."""

    def __init__(self, transport: asyncio.Transport | None, bound: int) -> None:
        self.transport = transport
        self.bound = bound
        if transport is not None:
            transport.set_write_buffer_limits(high=bound)
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, bound // 2)

    def fits(self, size: int) -> bool:
        transport = self.transport
        if transport is None or transport.is_closing():
            return True  # gone: the write raises, and that ends the stream as a departure
        return transport.get_write_buffer_size() + size <= self.bound


def _cut(request: web.Request, reason: str, bound: int) -> None:
    """End a stream whose client fell behind: drop what it holds at once (a graceful close
    would wait for a client that does not read); it resumes with Last-Event-ID."""
    log.warning("SSE client fell behind; closing its stream", reason=reason, bound=bound)
    request.app[keys.METRICS].sse_streams_cut.labels(reason).inc()
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # reset: the kernel drops the unsent bytes instead of retrying them
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


async def _pump(resp: EventSourceResponse, sub: Subscription, budget: _Budget) -> str | None:
    """Forward events until the client leaves, the stream is stopped, or the bus ends it.
    Returns why the client was cut off ("queue", "buffer"), or None.
    The wait races the queue against the connection: a handler blocked on the queue alone is
    not cancelled when its client disconnects."""
    closed = asyncio.ensure_future(resp.wait())
    try:
        while True:
            nxt = asyncio.ensure_future(sub.get())
            done, _ = await asyncio.wait({nxt, closed}, return_when=asyncio.FIRST_COMPLETED)
            if nxt not in done:
                nxt.cancel()
                with contextlib.suppress(asyncio.CancelledError, SubscriberDropped):
                    await nxt
                return None
            try:
                envelope = nxt.result()
            except SubscriberDropped:
                return "queue"
            if envelope is None:
                return None
            size = len(envelope.text) + len(envelope.id) + len(envelope.type) + FRAME_OVERHEAD
            if not budget.fits(size):
                return "buffer"
            await resp.send(envelope.text, id=envelope.id, event=envelope.type)
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed
