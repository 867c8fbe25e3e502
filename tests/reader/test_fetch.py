"""feeds.fetch against a real HTTP server on 127.0.0.1: every outcome through a real exchange.

Nothing here leaves the machine: the only names resolved are `localhost` and one under `.invalid`
(RFC 2606), which no resolver answers.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from jobimport.errors import FeedError
from jobimport.reader import netguard
from jobimport.reader.fetch import CHUNK_SIZE, FeedResponse, make_client_session, open_feed
from jobimport.reader.httperrors import parse_retry_after
from jobimport.reader.sniff import not_xml_reason
from jobimport.settings import Settings
from tests.feedserver import Handler, ServerFactory, serve

MakeSettings = Callable[..., Settings]

MIB = 1024 * 1024
ETAG = '"v42"'
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"
# Incompressible, so the stream really is many pieces on the wire.
FEED = b'<?xml version="1.0"?>\n<rss version="2.0">' + random.Random(7).randbytes(300_000)
INCAPSULA = (Path(__file__).parents[1] / "data" / "higheredjobs-incapsula-block.html").read_bytes()


# --- helpers -------------------------------------------------------------------------------------


async def fetch(
    url: str, settings: Settings, **validators: str | None
) -> tuple[FeedResponse, bytes, list[int]]:
    """Open the feed and read it all; returns the response, the body and the chunk sizes."""
    async with (
        make_client_session(settings) as session,
        open_feed(session, url, settings, **validators) as feed,
    ):
        chunks = [chunk async for chunk in feed.chunks()]
    return feed, b"".join(chunks), [len(chunk) for chunk in chunks]


async def drain(feed: FeedResponse, sink: list[bytes]) -> None:
    """Read the whole body into `sink`, chunk by chunk (what was read before a failure stays)."""
    async for chunk in feed.chunks():
        sink.append(chunk)


async def fetch_error(url: str, settings: Settings, **validators: str | None) -> FeedError:
    with pytest.raises(FeedError) as caught:
        await fetch(url, settings, **validators)
    return caught.value


async def write_in_pieces(
    request: web.Request, body: bytes, piece: int, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    """Send `body` with chunked transfer encoding (no Content-Length), `piece` bytes per write."""
    response = web.StreamResponse(headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), piece):
        await response.write(body[start : start + piece])
    await response.write_eof()
    return response


def fixed(body: bytes = FEED, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, headers=headers)

    return handler


def connection_log() -> tuple[aiohttp.TraceConfig, list[str]]:
    """A trace config that records every connection the session starts to open."""
    events: list[str] = []

    async def started(*_: Any) -> None:
        events.append("connection_create_start")

    async def done(*_: Any) -> None:
        events.append("connection_create_end")

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_start.append(started)
    trace.on_connection_create_end.append(done)
    return trace, events


@pytest.fixture
async def release() -> AsyncIterator[asyncio.Event]:
    """An event that stalled server handlers wait on; set at teardown so the server can stop."""
    event = asyncio.Event()
    yield event
    event.set()


# --- success, validators, headers ----------------------------------------------------------------


async def test_streamed_body_is_reassembled_exactly(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    headers = {
        "ETag": ETAG,
        "Last-Modified": LAST_MODIFIED,
        "Content-Type": "application/rss+xml; charset=utf-8",
    }

    async def handler(request: web.Request) -> web.StreamResponse:
        return await write_in_pieces(request, FEED, 1000, headers)

    server = await serve(aiohttp_server, {"/feed": handler})
    settings = make_settings()

    feed, body, sizes = await fetch(str(server.make_url("/feed")), settings)

    assert body == FEED
    assert all(size >= CHUNK_SIZE for size in sizes[:-1]), sizes
    assert len(sizes) > 1
    assert (feed.status, feed.not_modified) == (200, False)
    assert (feed.etag, feed.last_modified) == (ETAG, LAST_MODIFIED)
    assert feed.content_type == "application/rss+xml; charset=utf-8"
    assert feed.final_url == str(server.make_url("/feed"))
    info = feed.info(duration_ms=12)
    assert (info.bytes, info.etag, info.duration_ms, info.status) == (len(FEED), ETAG, 12, 200)


async def test_gzip_body_is_decoded(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    compressed = zlib.compress(FEED, wbits=31)
    server = await serve(
        aiohttp_server, {"/feed": fixed(compressed, headers={"Content-Encoding": "gzip"})}
    )

    feed, body, _ = await fetch(str(server.make_url("/feed")), make_settings())

    assert body == FEED
    assert feed.bytes_read == len(FEED)


async def test_bom_and_whitespace_before_xml_are_accepted(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    document = b"\xef\xbb\xbf \r\n<?xml version='1.0'?><rss/>"
    server = await serve(aiohttp_server, {"/feed": fixed(document)})

    _, body, _ = await fetch(str(server.make_url("/feed")), make_settings())

    assert body == document


async def test_request_headers_are_honest(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    received: list[Any] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        received.append(request.headers.copy())
        return web.Response(body=FEED)

    server = await serve(aiohttp_server, {"/feed": handler})
    settings = make_settings(user_agent="jobimport-test/9.9 (+https://example.invalid/bot)")

    await fetch(str(server.make_url("/feed")), settings)

    [headers] = received
    assert headers["User-Agent"] == settings.user_agent
    assert (
        headers["Accept"] == "application/rss+xml, application/atom+xml, application/feed+json,"
        " application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
    )
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in headers


async def test_conditional_get_reports_not_modified(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    seen: list[tuple[str | None, str | None]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        validators = (
            request.headers.get("If-None-Match"),
            request.headers.get("If-Modified-Since"),
        )
        seen.append(validators)
        if validators == (ETAG, LAST_MODIFIED):
            return web.Response(status=304)
        return web.Response(body=FEED, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    server = await serve(aiohttp_server, {"/feed": handler})
    url, settings = str(server.make_url("/feed")), make_settings()

    fresh, fresh_body, _ = await fetch(url, settings)
    feed, body, _ = await fetch(url, settings, etag=fresh.etag, last_modified=fresh.last_modified)

    assert fresh.not_modified is False
    assert fresh_body == FEED
    assert seen == [(None, None), (ETAG, LAST_MODIFIED)]
    assert (feed.status, feed.not_modified, body, feed.bytes_read) == (304, True, b"", 0)
    # The server sent no validators with its 304: the stored ones stay valid.
    assert (feed.etag, feed.last_modified) == (ETAG, LAST_MODIFIED)
    assert feed.info().not_modified is True


# --- HTTP status errors --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "transient"), [(404, False), (410, False), (408, True)])
async def test_4xx_is_transient_only_for_request_timeout(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, status: int, transient: bool
) -> None:
    server = await serve(aiohttp_server, {"/feed": fixed(b"no", status=status)})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert (error.info.reason, error.info.status, error.transient) == (
        "http_4xx",
        status,
        transient,
    )


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_transient(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, status: int
) -> None:
    server = await serve(aiohttp_server, {"/feed": fixed(b"oops", status=status)})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert (error.info.reason, error.info.status, error.transient) == ("http_5xx", status, True)
    assert error.info.retry_after_s is None


def _in_seconds(seconds: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("status", "retry_after", "reason", "low", "high"),
    [
        (429, "120", "http_4xx", 120, 120),
        (503, "7", "http_5xx", 7, 7),
        # An HTTP-date has whole seconds, and a moment passes before the client reads it.
        # (`date+N`: the date is made when the test runs, not when it is collected.)
        (429, "date+3600", "http_4xx", 3597, 3600),
        (503, "date+90", "http_5xx", 87, 90),
    ],
)
async def test_retry_after_is_carried(
    aiohttp_server: ServerFactory,
    make_settings: MakeSettings,
    status: int,
    retry_after: str,
    reason: str,
    low: float,
    high: float,
) -> None:
    if retry_after.startswith("date+"):
        retry_after = _in_seconds(int(retry_after.removeprefix("date+")))
    handler = fixed(b"slow down", status=status, headers={"Retry-After": retry_after})
    server = await serve(aiohttp_server, {"/feed": handler})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert (error.info.reason, error.info.status, error.transient) == (reason, status, True)
    assert error.info.retry_after_s is not None
    assert low <= error.info.retry_after_s <= high


def test_retry_after_parsing_edges() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now=now) == 60
    assert parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now=now) == 0  # in the past
    assert parse_retry_after(" 30 ", now=now) == 30
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after(None) is None


# --- redirects and URLs --------------------------------------------------------------------------


def redirect_chain(hits: list[str]) -> Handler:
    """`/r/{n}` redirects to `/r/{n-1}` (relative Location, varied codes); `/r/0` is the feed."""
    codes = [301, 302, 303, 307, 308]

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(body=FEED)
        return web.Response(status=codes[n % len(codes)], headers={"Location": f"/r/{n - 1}"})

    return handler


async def test_five_redirects_are_followed(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    hits: list[str] = []
    server = await serve(aiohttp_server, {"/r/{n}": redirect_chain(hits)})

    feed, body, _ = await fetch(str(server.make_url("/r/5")), make_settings())

    assert body == FEED
    assert feed.final_url == str(server.make_url("/r/0"))
    assert hits == ["/r/5", "/r/4", "/r/3", "/r/2", "/r/1", "/r/0"]


async def test_a_sixth_redirect_is_refused(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    hits: list[str] = []
    server = await serve(aiohttp_server, {"/r/{n}": redirect_chain(hits)})

    error = await fetch_error(str(server.make_url("/r/6")), make_settings())

    assert error.info.reason == "too_many_redirects"
    assert hits == ["/r/6", "/r/5", "/r/4", "/r/3", "/r/2", "/r/1"]


async def test_redirect_to_ftp_is_invalid_url(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    handler = fixed(b"", status=302, headers={"Location": "ftp://127.0.0.1/feed.xml"})
    server = await serve(aiohttp_server, {"/feed": handler})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert error.info.reason == "invalid_url"
    assert "ftp://" in error.info.message


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/feed", "http:///feed", "http://2130706433/"]
)
async def test_non_http_urls_are_invalid(make_settings: MakeSettings, url: str) -> None:
    error = await fetch_error(url, make_settings())

    assert error.info.reason == "invalid_url"


# --- address guard -------------------------------------------------------------------------------


async def test_loopback_server_is_refused_when_private_addresses_are_off(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.Response(body=FEED)

    server = await serve(aiohttp_server, {"/feed": handler})
    settings = make_settings(allow_private_addresses=False)
    trace, connections = connection_log()
    # By IP literal (refused before the connector), and by name (refused by the resolver).
    urls = [str(server.make_url("/feed")), f"http://localhost:{server.port}/feed"]

    async with make_client_session(settings, trace_configs=[trace]) as session:
        for url in urls:
            with pytest.raises(FeedError) as caught:
                async with open_feed(session, url, settings):
                    pass
            assert caught.value.info.reason == "ssrf_refused", url

    assert hits == []
    assert "connection_create_end" not in connections


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/feed",
        "http://100.64.0.1/feed",
        "http://224.0.0.1/feed",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://[fe80::1]/feed",
    ],
)
async def test_private_ip_literals_are_refused_before_connecting(
    make_settings: MakeSettings, url: str
) -> None:
    settings = make_settings(allow_private_addresses=False)
    trace, connections = connection_log()

    async with make_client_session(settings, trace_configs=[trace]) as session:
        with pytest.raises(FeedError) as caught:
            async with open_feed(session, url, settings):
                pass
        # The session refuses on its own too, for code that uses it without open_feed.
        with pytest.raises(FeedError) as direct:
            await session.get(url)

    assert caught.value.info.reason == direct.value.info.reason == "ssrf_refused"
    assert connections == []


async def test_every_redirect_hop_is_checked(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No public server exists here, so pretend 127.0.0.1 is public and every other address is not.
    def refusal(address: str) -> str | None:
        return None if address == "127.0.0.1" else f"{address} is private (test)"

    monkeypatch.setattr(netguard, "address_refusal", refusal)
    hits: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        raise web.HTTPFound(f"http://127.0.0.2:{request.url.port}/feed")

    server = await serve(aiohttp_server, {"/start": handler})

    error = await fetch_error(
        str(server.make_url("/start")), make_settings(allow_private_addresses=False)
    )

    assert error.info.reason == "ssrf_refused"
    assert "127.0.0.2" in error.info.message
    assert hits == ["/start"]


class FixedResolver(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("addresses", "allow_private", "refused"),
    [
        (("93.184.215.14",), False, False),
        (("93.184.215.14", "10.1.2.3"), False, True),  # one bad address is enough
        (("2606:4700::1111", "::1"), False, True),
        (("10.1.2.3",), True, False),
    ],
)
async def test_resolver_checks_every_resolved_address(
    addresses: tuple[str, ...], allow_private: bool, refused: bool
) -> None:
    resolver = netguard.GuardedResolver(FixedResolver(*addresses), allow_private=allow_private)

    if refused:
        with pytest.raises(FeedError) as caught:
            await resolver.resolve("feeds.example", 443)
        assert caught.value.info.reason == "ssrf_refused"
    else:
        results = await resolver.resolve("feeds.example", 443)
        assert [r["host"] for r in results] == list(addresses)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", False),
        ("2a00:1450:4001:80b::200e", False),
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("255.255.255.255", True),
        ("240.0.0.1", True),
        ("::", True),
        ("fd00::1", True),
        ("::ffff:10.0.0.1", True),
        ("2002:a00:1::1", True),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", True),  # NAT64 of 10.0.0.1
    ],
)
def test_address_policy(address: str, refused: bool) -> None:
    assert (netguard.address_refusal(address) is not None) is refused


# --- size cap ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """~130 KB of gzip that expands to 128 MiB: an XML start, then an endless comment."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(b"<?xml version='1.0'?><rss><!--")]
    block = b" " * MIB
    parts.extend(compressor.compress(block) for _ in range(128))
    parts.append(compressor.flush())
    return b"".join(parts)


async def test_gzip_bomb_stops_at_the_cap(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, gzip_bomb: bytes
) -> None:
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
    server = await serve(aiohttp_server, {"/feed": fixed(gzip_bomb, headers=headers)})
    cap = 2 * MIB
    settings = make_settings(max_feed_bytes=cap)

    async with (
        make_client_session(settings) as session,
        open_feed(session, str(server.make_url("/feed")), settings) as feed,
    ):
        received: list[bytes] = []
        with pytest.raises(FeedError) as caught:
            await drain(feed, received)

    assert caught.value.info.reason == "too_large"
    assert cap < feed.bytes_read <= cap + CHUNK_SIZE
    assert sum(map(len, received)) <= cap


async def test_oversized_body_without_content_length_is_too_large(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    body = b"<rss>" + b"x" * (3 * MIB)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await write_in_pieces(request, body, CHUNK_SIZE)

    server = await serve(aiohttp_server, {"/feed": handler})
    cap = 2 * MIB
    settings = make_settings(max_feed_bytes=cap)

    async with (
        make_client_session(settings) as session,
        open_feed(session, str(server.make_url("/feed")), settings) as feed,
    ):
        with pytest.raises(FeedError) as caught:
            await drain(feed, [])

    assert caught.value.info.reason == "too_large"
    assert feed.bytes_read <= cap + CHUNK_SIZE


async def test_declared_oversized_body_fails_before_reading(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    server = await serve(aiohttp_server, {"/feed": fixed(b"<rss>" + b"x" * (3 * MIB))})

    error = await fetch_error(str(server.make_url("/feed")), make_settings(max_feed_bytes=MIB))

    assert error.info.reason == "too_large"
    assert "Content-Length" in error.info.message


async def test_body_of_exactly_the_cap_is_accepted(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    body = b"<rss>" + b"x" * (MIB - 5)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await write_in_pieces(request, body, 10_000)

    server = await serve(aiohttp_server, {"/feed": handler})

    _, received, _ = await fetch(str(server.make_url("/feed")), make_settings(max_feed_bytes=MIB))

    assert received == body


# --- timeouts and network errors -----------------------------------------------------------------


async def test_server_silent_after_first_chunk_is_a_read_timeout(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, release: asyncio.Event
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(FEED[: CHUNK_SIZE + 1000])
        await release.wait()
        return response

    server = await serve(aiohttp_server, {"/feed": handler})
    settings = make_settings(fetch_read_timeout_s=0.3, fetch_timeout_s=5.0)
    received: list[bytes] = []

    async with (
        make_client_session(settings) as session,
        open_feed(session, str(server.make_url("/feed")), settings) as feed,
    ):
        with pytest.raises(FeedError) as caught:
            await drain(feed, received)

    assert (caught.value.info.reason, caught.value.transient) == ("timeout", True)
    assert "sent nothing" in caught.value.info.message  # the idle timeout, not the total one
    assert received == [FEED[:CHUNK_SIZE]]


async def test_trickling_server_hits_the_total_timeout(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, release: asyncio.Event
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"<?xml version='1.0'?><rss>")
        while not release.is_set():
            await response.write(b" " * 100)
            # Well within the read timeout: only the whole-download deadline can stop this.
            await asyncio.sleep(0.05)
        return response

    server = await serve(aiohttp_server, {"/feed": handler})
    settings = make_settings(fetch_read_timeout_s=0.5, fetch_timeout_s=1.0)
    started = time.monotonic()

    error = await fetch_error(str(server.make_url("/feed")), settings)

    assert (error.info.reason, error.transient) == ("timeout", True)
    assert "took over 1.0 s" in error.info.message
    assert 0.9 <= time.monotonic() - started < 3


@pytest.mark.parametrize("stall_at", ["headers", "body"])
async def test_deadline_interrupts_a_wait_shorter_than_the_read_timeout(
    aiohttp_server: ServerFactory,
    make_settings: MakeSettings,
    release: asyncio.Event,
    stall_at: str,
) -> None:
    # The server works for 0.3 s, then goes silent: the 0.6 s deadline must end the wait
    # before the 0.5 s read timeout would (at 0.8 s).
    async def slow_redirect(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.3)
        raise web.HTTPFound("/silent")

    async def silent(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(body=FEED)

    async def stall_in_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"<rss>")
        await asyncio.sleep(0.3)
        await response.write(b" " * 100)
        await release.wait()
        return response

    routes = {"/headers": slow_redirect, "/silent": silent, "/body": stall_in_body}
    server = await serve(aiohttp_server, routes)
    settings = make_settings(fetch_read_timeout_s=0.5, fetch_timeout_s=0.6)

    error = await fetch_error(str(server.make_url(f"/{stall_at}")), settings)

    assert error.info.reason == "timeout"
    assert "took over 0.6 s" in error.info.message


async def test_time_spent_by_the_consumer_counts_against_the_deadline(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    server = await serve(aiohttp_server, {"/feed": fixed(FEED)})
    settings = make_settings(fetch_read_timeout_s=0.4, fetch_timeout_s=0.4)

    async with (
        make_client_session(settings) as session,
        open_feed(session, str(server.make_url("/feed")), settings) as feed,
    ):
        chunks = feed.chunks()
        await anext(chunks)
        # A slow consumer, on purpose: the rest of the body is already there to be read.
        await asyncio.sleep(0.5)
        with pytest.raises(FeedError) as caught:
            await anext(chunks)

    assert caught.value.info.reason == "timeout"


async def test_closed_port_is_a_connect_error(make_settings: MakeSettings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is closed now: nothing listens on it.

    error = await fetch_error(f"http://127.0.0.1:{port}/feed", make_settings())

    assert (error.info.reason, error.transient) == ("connect", True)


async def test_unresolvable_name_is_a_dns_error(make_settings: MakeSettings) -> None:
    error = await fetch_error("http://nonexistent.invalid/feed", make_settings())

    assert (error.info.reason, error.transient) == ("dns", True)


# --- blocked and not a feed ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 403])
async def test_incapsula_page_is_blocked(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, status: int
) -> None:
    handler = fixed(INCAPSULA, status=status, headers={"Content-Type": "text/html"})
    server = await serve(aiohttp_server, {"/rss/articleFeed.cfm": handler})

    error = await fetch_error(str(server.make_url("/rss/articleFeed.cfm")), make_settings())

    assert (error.info.reason, error.info.status, error.transient) == ("blocked", status, False)
    assert "incapsula" in error.info.message.lower()


async def test_cloudflare_challenge_is_blocked(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"
    headers = {"Content-Type": "text/html", "cf-mitigated": "challenge"}
    server = await serve(aiohttp_server, {"/feed": fixed(page, status=403, headers=headers)})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert (error.info.reason, error.info.status) == ("blocked", 403)


async def test_plain_403_is_a_4xx(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    server = await serve(aiohttp_server, {"/feed": fixed(b"Forbidden", status=403)})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert (error.info.reason, error.info.status, error.transient) == ("http_4xx", 403, False)


async def test_feed_that_mentions_captcha_is_not_blocked(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    document = b"<?xml version='1.0'?><rss><item><title>CAPTCHA engineer</title></item></rss>"
    server = await serve(aiohttp_server, {"/feed": fixed(document)})

    _, body, _ = await fetch(str(server.make_url("/feed")), make_settings())

    assert body == document


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><body><h1>Jobs</h1></body></html>", "text/html"),
        (b"\xef\xbb\xbf\n  <html lang='en'><p>hello</p></html>", "text/html"),
        (b"[1, 2, 3]", "application/json"),
        (b"", "application/rss+xml"),
    ],
)
async def test_html_json_and_empty_bodies_are_not_a_feed(
    aiohttp_server: ServerFactory, make_settings: MakeSettings, body: bytes, content_type: str
) -> None:
    handler = fixed(body, headers={"Content-Type": content_type})
    server = await serve(aiohttp_server, {"/feed": handler})

    error = await fetch_error(str(server.make_url("/feed")), make_settings())

    assert (error.info.reason, error.info.status) == ("not_a_feed", 200)


def test_not_xml_reason_leaves_a_json_object_to_the_reader() -> None:
    # It may be a JSON Feed: DocumentReader tells (and says not_a_feed if it is not one).
    assert not_xml_reason(b'\xef\xbb\xbf\n {"version": "x"}') is None
    assert not_xml_reason(b"[1]") == "JSON"


def test_not_xml_reason_leaves_utf16_to_the_parser() -> None:
    assert not_xml_reason("<?xml version='1.0' encoding='utf-16'?>".encode("utf-16")) is None
    assert not_xml_reason(b"\x1f\x8b\x08\x00") is not None  # gzip without Content-Encoding


async def test_chunks_can_be_iterated_once(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    server = await serve(aiohttp_server, {"/feed": fixed(b"<rss/>")})
    settings = make_settings()

    async with (
        make_client_session(settings) as session,
        open_feed(session, str(server.make_url("/feed")), settings) as feed,
    ):
        assert [c async for c in feed.chunks()] == [b"<rss/>"]
        with pytest.raises(RuntimeError):
            await anext(feed.chunks())


async def test_feed_headers_go_to_the_feed_origin_only(
    aiohttp_server: ServerFactory, make_settings: MakeSettings
) -> None:
    """A feed's own headers (a token) follow a redirect within its origin, never to another
    origin (another port is another origin)."""
    seen: dict[str, str | None] = {}

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        seen["elsewhere"] = request.headers.get("Authorization")
        return web.Response(body=FEED, content_type="application/rss+xml")

    other = await serve(aiohttp_server, {"/feed": elsewhere})

    async def start(request: web.Request) -> web.StreamResponse:
        seen["start"] = request.headers.get("Authorization")
        raise web.HTTPFound("/moved")

    async def moved(request: web.Request) -> web.StreamResponse:
        seen["moved"] = request.headers.get("Authorization")
        raise web.HTTPFound(str(other.make_url("/feed")))

    home = await serve(aiohttp_server, {"/start": start, "/moved": moved})
    settings = make_settings()
    async with (
        make_client_session(settings) as session,
        open_feed(
            session,
            str(home.make_url("/start")),
            settings,
            extra_headers={"Authorization": "Bearer feed-token"},
        ) as feed,
    ):
        body = b"".join([chunk async for chunk in feed.chunks()])
    assert body == FEED
    assert seen == {"start": "Bearer feed-token", "moved": "Bearer feed-token", "elsewhere": None}
