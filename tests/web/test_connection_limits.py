"""The server's connection limits against raw sockets: a request whose headers never complete,
an idle keep-alive connection, and the cap on open connections; and a burst of identical
refusals logged as one line plus a count. Real server (`web.server.serving`, as `jobimport
serve` runs it)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from jobimport.settings import Settings
from jobimport.web.app import create_app
from jobimport.web.server import serving
from tests.support import captured_log, wait_until

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@contextlib.asynccontextmanager
async def server(settings: Settings) -> AsyncIterator[int]:
    async with serving(create_app(settings), "127.0.0.1", 0) as addresses:
        yield addresses[0][1]


async def read_to_eof(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything until the server closes; fails when it is still open after `within` s."""
    return await asyncio.wait_for(reader.read(), within)


async def request(conn: Conn) -> bytes:
    """GET /healthz on an open connection, keeping it open; the status line."""
    reader, writer = conn
    writer.write(HEALTHZ)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await asyncio.wait_for(reader.readexactly(length), 2)
    return head.split(b"\r\n")[0]


async def test_a_request_whose_headers_never_complete_is_closed(
    web_settings: Callable[..., Settings],
) -> None:
    async with server(web_settings(header_timeout_s=0.3, keepalive_timeout_s=30)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.monotonic()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127")  # and nothing more
        answer = await read_to_eof(reader, 2)
        waited = time.monotonic() - start
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "request_timeout"
    assert 0.25 <= waited < 1.5, waited


async def test_a_connection_that_sends_nothing_is_closed_silently(
    web_settings: Callable[..., Settings],
) -> None:
    async with server(web_settings(header_timeout_s=0.3, keepalive_timeout_s=30)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.monotonic()
        answer = await read_to_eof(reader, 2)  # like a browser's unused preconnect
        waited = time.monotonic() - start
        writer.close()
    assert answer == b""
    assert 0.25 <= waited < 1.5, waited


async def test_a_kept_alive_connection_gets_the_deadline_for_its_next_request_only(
    web_settings: Callable[..., Settings],
) -> None:
    async with server(web_settings(header_timeout_s=0.3, keepalive_timeout_s=30)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.1)  # part of the first deadline, which the request then ends
        assert await request((reader, writer)) == b"HTTP/1.1 200 OK"
        await asyncio.sleep(0.4)  # idle past the header deadline: keep-alive rules, not closed
        assert await request((reader, writer)) == b"HTTP/1.1 200 OK"
        start = time.monotonic()
        writer.write(b"GET /hea")  # the next request starts, and stalls
        answer = await read_to_eof(reader, 2)
        waited = time.monotonic() - start
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert 0.25 <= waited < 1.5, waited


async def test_an_idle_keep_alive_connection_is_closed(
    web_settings: Callable[..., Settings],
) -> None:
    async with server(web_settings(header_timeout_s=5, keepalive_timeout_s=0.3)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await request((reader, writer)) == b"HTTP/1.1 200 OK"
        start = time.monotonic()
        assert await read_to_eof(reader, 2) == b""  # closed, without a word
        waited = time.monotonic() - start
        writer.close()
    assert 0.25 <= waited < 1.5, waited


async def test_connections_past_the_cap_are_refused_until_one_closes(
    web_settings: Callable[..., Settings],
) -> None:
    async with server(web_settings(max_connections=5)) as port:
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        try:
            for conn in conns:  # each served, so each is counted by the server
                assert await request(conn) == b"HTTP/1.1 200 OK"
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            refused = await read_to_eof(reader, 1)
            writer.close()
            assert refused.startswith(b"HTTP/1.1 503 "), refused
            assert b"Retry-After: 1\r\n" in refused
            body = json.loads(refused.partition(b"\r\n\r\n")[2])
            assert body["error"]["code"] == "too_many_connections"
            assert await request(conns[0]) == b"HTTP/1.1 200 OK"  # the five still work

            _, closing = conns.pop()
            closing.close()

            async def served() -> bytes | None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                try:
                    writer.write(
                        b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    )
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
                    if not head.startswith(b"HTTP/1.1 200 "):
                        return None
                    return await read_to_eof(reader, 2)
                except asyncio.IncompleteReadError:
                    return None
                finally:
                    writer.close()

            body_bytes = await wait_until(served, within=2, what="a connection accepted again")
            assert body_bytes is not None
            text = body_bytes.decode()
            values = dict(line.split(" ") for line in text.splitlines() if line[:1] != "#")
            # At least the sixth; a poll above may have come before the close was seen.
            assert float(values["jobimport_http_connections_refused_total"]) >= 1
            assert float(values["jobimport_http_connections"]) == 5  # four kept, this one
        finally:
            for _, writer in conns:
                writer.close()


def lines(stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [line for line in parsed if line["event"] == event]


async def test_a_burst_of_identical_refusals_logs_one_line_and_a_count(
    web_settings: Callable[..., Settings],
) -> None:
    settings = web_settings(max_connections=1, log_format="json", log_repeat_window_s=0.3)
    event = "connection refused: too many open connections"
    with captured_log(settings) as stream:
        async with server(settings) as port:
            held = await asyncio.open_connection("127.0.0.1", port)
            try:
                assert await request(held) == b"HTTP/1.1 200 OK"
                for _ in range(30):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    assert (await read_to_eof(reader, 1)).startswith(b"HTTP/1.1 503 ")
                    writer.close()
                assert len(lines(stream, event)) == 1  # the first at once, the rest held back

                async def counted() -> bool:
                    return len(lines(stream, event)) == 2

                await wait_until(counted, within=2, what="the repeat count")
            finally:
                held[1].close()
    first, summary = lines(stream, event)
    assert "repeated" not in first
    assert (summary["repeated"], summary["level"]) == (29, "warning")
