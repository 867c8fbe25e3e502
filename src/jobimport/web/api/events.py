"""GET /api/events: the run events as Server-Sent Events.

Each event carries its bus id as `id:`, its type as `event:` and its JSON as `data:`. A client
that reconnects with `Last-Event-ID` first gets what it missed (as far as the replay buffer or
the Redis stream reaches). The stream starts with a `: connected` comment, sends a keep-alive
comment every SSE_KEEPALIVE_S, and ends when the client leaves, when it falls too far behind
(its bounded queue overflows; it reconnects and replays), or at shutdown (`stop_streaming`).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from jobimport.events.hub import SubscriberDropped, Subscription
from jobimport.web import keys
from jobimport.web.api.params import parse_query
from jobimport.web.api.schemas import NoQuery

log = structlog.get_logger(__name__)
RETRY_MS = 2000  # how soon a browser reconnects after the stream ends


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
        try:
            await resp.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
            await _pump(resp, sub)
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away while we wrote
        finally:
            bus.unsubscribe(sub)
            streams.discard(resp)
    return resp


async def _pump(resp: EventSourceResponse, sub: Subscription) -> None:
    """Forward events until the client leaves, the stream is stopped, or the bus ends it.
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
                return
            try:
                envelope = nxt.result()
            except SubscriberDropped:
                log.info("SSE client fell behind; ending its stream so it replays")
                return
            if envelope is None:
                return
            await resp.send(envelope.text, id=envelope.id, event=envelope.type)
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed
