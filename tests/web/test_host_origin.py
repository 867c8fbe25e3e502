"""Issue 14, item 11, over a real server: without a token only loopback Host values are served
(DNS rebinding), JOBIMPORT_ALLOWED_HOSTS widens that, the probes answer any Host; and a write a
browser sent from another site (a cross-site form POST to /api/imports) is refused, with or
without a token."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.errors import SettingsError
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.web.conftest import TOKEN, AppClient

Client = TestClient[Any, Any]
BEARER = {"Authorization": f"Bearer {TOKEN}"}
# What a page of another site sends with an empty `<form method=post action=…/api/imports>`.
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LOOPBACK = ["localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:8000", "[::1]", "[::1]:80",
            "admin.localhost:8000", "LOCALHOST.", "127.0.0.2"]  # fmt: skip
FOREIGN = ["evil.example", "evil.example:8000", "localhost.evil.example", "10.0.0.5:8000",
           "127.0.0.1.evil.example", "localhost:x", "[::1", "::1", ""]  # fmt: skip


async def error_code(client: Client, method: str, path: str, status: int, **kwargs: Any) -> str:
    resp = await client.request(method, path, **kwargs)
    body = await resp.json()
    assert resp.status == status, (method, path, kwargs, body)
    code: str = body["error"]["code"] if status >= 400 else ""
    return code


async def api_runs(client: Client) -> list[str]:
    """Ids of the runs a request started (the tick at start-up starts `cron` ones)."""
    resp = await client.get("/api/imports", params={"limit": "100"})
    assert resp.status == 200
    return [run["id"] for run in (await resp.json())["items"] if run["trigger"] == "api"]


# --- Host --------------------------------------------------------------------------------------


async def test_without_a_token_only_loopback_hosts_are_served(app_client: AppClient) -> None:
    client = await app_client(feeds=())
    for host in LOOPBACK:
        resp = await client.get("/api/feeds", headers={"Host": host})
        assert resp.status == 200, host
    for host in FOREIGN:
        for method, path in [("GET", "/api/feeds"), ("GET", "/"), ("POST", "/api/imports")]:
            code = await error_code(client, method, path, 400, headers={"Host": host})
            assert code == "host_not_allowed", (host, path)


async def test_a_rebound_name_cannot_start_runs(app_client: AppClient, feeds: FeedServer) -> None:
    url = feeds.put("/jobs", rss(items(range(1, 3))))
    client = await app_client(feeds=[url])
    resp = await client.post("/api/imports", headers={"Host": "rebound.evil.example:8000"})
    body = await resp.json()
    assert resp.status == 400, body
    assert body["error"]["code"] == "host_not_allowed"
    assert body["error"]["details"] == {"host": "rebound.evil.example:8000"}
    assert "X-Request-ID" in resp.headers
    assert await api_runs(client) == []


async def test_the_probes_answer_any_host(app_client: AppClient) -> None:
    client = await app_client(feeds=())
    for path in ["/healthz", "/readyz", "/metrics"]:
        resp = await client.get(path, headers={"Host": "10.12.0.7:8000"})
        assert resp.status == 200, path


async def test_allowed_hosts_widen_the_loopback_ones(app_client: AppClient) -> None:
    client = await app_client(feeds=(), allowed_hosts="jobs.example.com, *.corp.example")
    for host in ["jobs.example.com", "JOBS.example.com:443", "a.corp.example", "127.0.0.1"]:
        resp = await client.get("/api/feeds", headers={"Host": host})
        assert resp.status == 200, host
    for host in ["corp.example", "example.com", "jobs.example.com.evil.example", "xcorp.example"]:
        assert await error_code(client, "GET", "/api/feeds", 400, headers={"Host": host})


async def test_with_a_token_any_host_unless_allowed_hosts_is_set(app_client: AppClient) -> None:
    behind_a_proxy = await app_client(feeds=(), admin_token=TOKEN)
    for host in ["jobs.example.com", "10.0.0.5:8000"]:
        resp = await behind_a_proxy.get("/api/feeds", headers={"Host": host})
        assert resp.status == 200, host
        resp = await behind_a_proxy.post("/api/imports", headers={"Host": host, **BEARER})
        assert resp.status == 202, host

    listed = await app_client(feeds=(), admin_token=TOKEN, allowed_hosts="jobs.example.com")
    resp = await listed.get("/api/feeds", headers={"Host": "jobs.example.com"})
    assert resp.status == 200
    code = await error_code(listed, "GET", "/api/feeds", 400, headers={"Host": "other.example"})
    assert code == "host_not_allowed"


async def test_a_request_without_host_is_served(app_client: AppClient) -> None:
    """HTTP/1.0 lets a client leave Host out; browsers always send it (and a rebinding attack
    needs a browser), so such a request passes."""
    client = await app_client(feeds=())
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    try:
        writer.write(b"GET /api/feeds HTTP/1.0\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()
    assert status_line.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")), status_line


@pytest.mark.parametrize("value", ["http://x", "a.example:80", "a/b", "*a"])
async def test_a_bad_allowed_host_stops_start_up(app_client: AppClient, value: str) -> None:
    with pytest.raises(SettingsError, match="JOBIMPORT_ALLOWED_HOSTS"):
        await app_client(allowed_hosts=value)


# --- cross-site writes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},  # a browser without Fetch Metadata
        {"Origin": "null"},  # a sandboxed frame, a data: URL
    ],
    ids=["cross-site", "same-site", "foreign-origin", "opaque-origin"],
)
async def test_a_cross_site_form_post_starts_nothing(
    app_client: AppClient, feeds: FeedServer, headers: dict[str, str]
) -> None:
    url = feeds.put("/jobs", rss(items(range(1, 3))))
    client = await app_client(feeds=[url])
    code = await error_code(client, "POST", "/api/imports", 403, headers={**FORM, **headers})
    assert code == "cross_site"
    assert await api_runs(client) == []


async def test_cross_site_writes_are_refused_with_a_token_too(app_client: AppClient) -> None:
    client = await app_client(feeds=(), admin_token=TOKEN)
    cross = {"Sec-Fetch-Site": "cross-site", **BEARER}
    assert await error_code(client, "POST", "/api/imports", 403, headers=cross) == "cross_site"
    assert await error_code(client, "DELETE", "/api/session", 403, headers=cross) == "cross_site"


async def test_same_origin_and_non_browser_writes_pass(app_client: AppClient) -> None:
    client = await app_client(feeds=())
    own = f"http://127.0.0.1:{client.server.port}"
    for headers in [
        {},  # curl, the CLI: no browser headers
        {"Sec-Fetch-Site": "same-origin", "Origin": own},
        {"Sec-Fetch-Site": "none"},  # typed by a person
        {"Origin": own},
        {"Origin": f"https://127.0.0.1:{client.server.port}", "X-Forwarded-Proto": "https"},
    ]:
        resp = await client.post("/api/imports", headers=headers)
        assert resp.status == 202, (headers, await resp.text())


async def test_public_url_is_an_own_origin(app_client: AppClient) -> None:
    """Behind a proxy that rewrites Host, the origin people use is PUBLIC_URL's."""
    client = await app_client(feeds=(), admin_token=TOKEN, public_url="https://jobs.example.com/")
    headers = {"Origin": "https://jobs.example.com", **BEARER}
    resp = await client.post("/api/imports", headers=headers)
    assert resp.status == 202, await resp.text()
    headers = {"Origin": "https://other.example.com", **BEARER}
    assert await error_code(client, "POST", "/api/imports", 403, headers=headers) == "cross_site"


async def test_safe_methods_are_not_checked_for_cross_site(app_client: AppClient) -> None:
    client = await app_client(feeds=())
    cross = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    for path in ["/api/feeds", "/api/imports", "/"]:
        resp = await client.get(path, headers=cross)
        assert resp.status == 200, path
