"""A client of /api/events that never reads: its stream closes once SSE_STREAM_BUFFER_BYTES wait
unsent for it, while a reading client on the same server gets every event, promptly. Real server
(`web.server.serving`, as `jobimport serve` runs it), real sockets."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp

from jobimport.events.types import RunProgress
from jobimport.models import ImportRun, RunStatus
from jobimport.settings import Settings
from jobimport.web import keys
from jobimport.web.app import create_app
from jobimport.web.server import serving
from tests.support import wait_until
from tests.web.support import SseReader

BOUND = 64 * 1024
PAD = "x" * 2000
EVENT_BYTES = len(PAD)  # at least; the rest of the event is a few hundred bytes more


def run(n: int) -> ImportRun:
    return ImportRun(
        id=f"{n:024x}",
        feed_url=f"https://example.test/feed?{PAD}",
        status=RunStatus.RUNNING,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def stalled_client(port: int) -> socket.socket:
    """A raw socket that asks for the stream and never reads: a tiny receive buffer, so what the
    server sends piles up on the server's side."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


def read_to_end(sock: socket.socket, within: float) -> int:
    """Read what the server sent until it closed or reset the connection; the byte count.
    Fails when the connection is still open after `within` seconds."""
    sock.settimeout(within)
    total = 0
    try:
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    except ConnectionResetError:
        pass
    return total


async def test_a_client_that_never_reads_is_cut_and_the_others_keep_up(
    web_settings: Callable[..., Settings],
) -> None:
    app = create_app(web_settings(sse_stream_buffer_bytes=BOUND))
    async with serving(app, "127.0.0.1", 0) as addresses, aiohttp.ClientSession() as http:
        port = addresses[0][1]
        bus = app[keys.EVENTS].bus
        metrics = app[keys.METRICS]
        others = bus.subscriber_count  # the metrics follower
        stalled = stalled_client(port)
        try:
            async with http.get(f"http://127.0.0.1:{port}/api/events") as resp:
                reader = SseReader(resp)
                await reader.connected()
                await wait_until(
                    lambda: _value(bus.subscriber_count == others + 2),
                    within=2,
                    what="both subscribed",
                )

                def cut() -> float:
                    sample = ("jobimport_sse_streams_cut_total", {"reason": "buffer"})
                    return metrics.registry.get_sample_value(*sample) or 0.0

                sent = 0
                worst = 0.0
                # Publish in rounds; the reading client must get each round before the next.
                # The stalled stream holds at most the bound in the process and about as much in
                # the kernel: it must be cut well before 4 bounds' worth of events.
                while cut() == 0:
                    assert sent * EVENT_BYTES < 4 * BOUND, "the stalled stream was not cut"
                    start = time.monotonic()
                    for _ in range(10):
                        sent += 1
                        await bus.publish(RunProgress(run(sent)))
                    ids = []
                    for _ in range(10):
                        event = await reader.next(within=2)
                        assert event is not None
                        ids.append(event.id)
                    assert ids == [str(n) for n in range(sent - 9, sent + 1)]
                    worst = max(worst, time.monotonic() - start)
                assert worst < 0.5, worst  # never held up by the stalled client
                await wait_until(
                    lambda: _value(bus.subscriber_count == others + 1),
                    within=2,
                    what="the cut stream gone",
                )
                # Reset, not closed gracefully: nothing more trickles to the stalled client.
                await asyncio.to_thread(read_to_end, stalled, 2.0)
                await bus.publish(RunProgress(run(sent + 1)))
                event = await reader.next(within=2)
                assert event is not None
                assert event.id == str(sent + 1)
        finally:
            stalled.close()


async def _value(value: object) -> object:
    return value
