"""Input that used to get a 500 or the wrong 4xx, sent over real sockets to the real app: bodies
that arrive slowly or chunked past the cap, deeply nested JSON, times and cursors out of range,
and header bytes that are not UTF-8 (aiohttp decodes them into lone surrogates)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp.test_utils import TestClient

from jobimport.web.api.params import MAX_BODY_BYTES, query_key
from jobimport.web.api.schemas import ImportListQuery, JobListQuery
from jobimport.web.auth import COOKIE
from tests.web.conftest import TOKEN, AppClient

Client = TestClient[Any, Any]
HUNDRED_MB = 100 * 1024 * 1024


async def raw_request(
    client: Client, head: bytes, pieces: Sequence[bytes] = ()
) -> tuple[int, bytes]:
    """Send `head` (request line and headers, as bytes on the wire) then each body piece with a
    drain and a turn of the loop between them; the answer's status and body."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head)
        await writer.drain()
        for piece in pieces:
            await asyncio.sleep(0)  # let the server take what came so far
            writer.write(piece)
            await writer.drain()
        status_line = await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), body
    finally:
        writer.close()


def post_head(client: Client, path: str, length: int, *extra: bytes) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1".encode(),
        f"Host: {client.host}:{client.port}".encode(),
        b"Content-Type: application/json",
        f"Content-Length: {length}".encode(),
        b"Connection: close",
        *extra,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def code_of(body: bytes) -> str:
    code: str = json.loads(body)["error"]["code"]
    return code


# --- bodies ------------------------------------------------------------------------------------


async def test_a_valid_body_sent_slowly_is_read_whole(app_client: AppClient) -> None:
    client = await app_client(admin_token=TOKEN)
    body = json.dumps({"token": TOKEN}).encode()
    # One byte at a time: the handler reads long before the body is complete.
    status, answer = await raw_request(
        client,
        post_head(client, "/api/session", len(body)),
        [body[i : i + 1] for i in range(len(body))],
    )
    assert status == 204, answer
    wrong = json.dumps({"token": "nope"}).encode()
    status, answer = await raw_request(
        client, post_head(client, "/api/session", len(wrong)), [wrong[:5], wrong[5:]]
    )
    assert (status, code_of(answer)) == (401, "unauthorized")


async def test_a_chunked_body_past_the_cap_is_413_without_reading_it_all(
    app_client: AppClient,
) -> None:
    """100 MB announced by nothing (chunked): the answer is 413 once the cap is passed, while
    the client is still sending, not after the server read it all."""
    client = await app_client()
    reader, writer = await asyncio.open_connection(client.host, client.port)
    head = post_head(client, "/api/imports", 0).replace(
        b"Content-Length: 0", b"Transfer-Encoding: chunked"
    )
    answer = asyncio.ensure_future(reader.readline())
    sent = 0

    async def send(piece: bytes) -> None:
        nonlocal sent
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
        sent += len(piece)

    try:
        writer.write(head)
        for byte in b'{"feeds": [':  # small first pieces: one read() took only these
            await send(bytes([byte]))
            await asyncio.sleep(0)
        chunk = b" " * 65536
        while sent < HUNDRED_MB and not answer.done():
            if sent > MAX_BODY_BYTES + 1024 * 1024:
                break  # well past the cap: the answer must come with the rest unsent
            await send(chunk)
        status_line = await asyncio.wait_for(answer, 10)
    finally:
        writer.close()
    # The answer came with the body unfinished (no last chunk was sent): the server stopped at
    # the cap instead of reading 100 MB.
    assert status_line.split()[1] == b"413", status_line


async def test_a_deeply_nested_body_is_invalid_json(app_client: AppClient) -> None:
    client = await app_client()
    body = "[" * 30_000 + "]" * 30_000
    assert len(body) <= MAX_BODY_BYTES
    with structlog.testing.capture_logs() as logs:
        resp = await client.post(
            "/api/imports", data=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["code"] == "invalid_json"
    assert not [e for e in logs if e["log_level"] in ("error", "critical")], logs


# --- query parameters --------------------------------------------------------------------------


async def test_times_out_of_range_in_utc_are_400(app_client: AppClient) -> None:
    client = await app_client()
    for name, value in [
        ("since", "0001-01-01T00:00:00+14:00"),
        ("until", "9999-12-31T23:59:59-14:00"),
    ]:
        resp = await client.get("/api/imports", params={name: value})
        assert resp.status == 400, await resp.text()
        error = (await resp.json())["error"]
        assert (error["code"], error["details"]["parameter"]) == ("invalid_parameter", name)
    feeds = await client.get("/api/jobs", params={"updatedSince": "0001-01-01T00:00:00+14:00"})
    assert feeds.status == 400, await feeds.text()
    fine = await client.get("/api/imports", params={"since": "0001-01-02T00:00:00+14:00"})
    assert fine.status == 200, await fine.text()


async def test_a_forged_cursor_with_a_huge_offset_is_400(app_client: AppClient) -> None:
    client = await app_client()
    for path, model in [("/api/imports", ImportListQuery), ("/api/jobs", JobListQuery)]:
        # The listing's own key, as a real cursor carries it: only the offset is forged.
        key = query_key(model().model_dump(exclude={"limit", "cursor", "page"}))
        for offset in [2**63, 10**100, -1]:
            resp = await client.get(path, params={"cursor": _cursor(offset, key)})
            assert resp.status == 400, (path, offset, await resp.text())
            assert (await resp.json())["error"]["details"]["parameter"] == "cursor"
        resp = await client.get(path, params={"cursor": _cursor(40, key)})
        assert resp.status == 200, (path, await resp.text())  # far, not forged: an empty page


def _cursor(offset: int, key: str) -> str:
    raw = json.dumps({"o": offset, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- header values that are not UTF-8 ------------------------------------------------------


def get_head(client: Client, path: str, *extra: bytes) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1".encode(),
        f"Host: {client.host}:{client.port}".encode(),
        b"Connection: close",
        *extra,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def test_header_bytes_that_are_not_utf8_get_4xx_not_500(app_client: AppClient) -> None:
    client = await app_client(admin_token=TOKEN, read_token_required=True)
    with structlog.testing.capture_logs() as logs:
        # A write with a token that is no UTF-8: 401, like any wrong token.
        status, body = await raw_request(
            client,
            post_head(client, "/api/imports", 2, b"Authorization: Bearer \xff\xfetoken"),
            [b"{}"],
        )
        assert (status, code_of(body)) == (401, "unauthorized"), body
        # A read with such a token or session cookie.
        for header in [b"Authorization: Bearer \xc3(", b"Cookie: " + COOKIE.encode() + b"=\xff"]:
            status, body = await raw_request(client, get_head(client, "/api/imports", header))
            assert (status, code_of(body)) == (401, "unauthorized"), (header, body)
        # Every other header the service reads, with the right token: answered as without it.
        auth = f"Authorization: Bearer {TOKEN}".encode()
        for header in [
            b"X-Request-ID: \xff\xfe",
            b'If-None-Match: "\xff"',
            b"Accept: text/\xff",
            b"Accept-Encoding: \xff",
            b"Origin: http://\xff",
            b"User-Agent: \xff",
        ]:
            status, body = await raw_request(client, get_head(client, "/api/imports", auth, header))
            assert status == 200, (header, body)
        # A JSON body can spell a lone surrogate: a string pydantic refuses, a 400.
        body = b'{"token": "\\ud800"}'
        status, answer = await raw_request(
            client, post_head(client, "/api/session", len(body)), [body]
        )
        assert (status, code_of(answer)) == (400, "invalid_body"), answer
    assert not [e for e in logs if e["log_level"] in ("error", "critical")], logs
