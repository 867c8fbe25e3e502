"""The admin token: writes need the bearer header; with READ_TOKEN_REQUIRED reads need it too, or
the HttpOnly session cookie that POST /api/session sets (what the admin page's EventSource uses).
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient

from jobimport.errors import SettingsError
from jobimport.settings import load_settings
from jobimport.web.api.routes import ROUTES
from jobimport.web.auth import COOKIE
from tests.web.conftest import TOKEN, AppClient
from tests.web.support import SseReader

Client = TestClient[Any, Any]
BEARER = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer not-the-token-not-the-token"}

READ_PATHS = [
    "/api/imports",
    "/api/import-logs",
    "/api/jobs",
    "/api/feeds",
    "/metrics",
    f"/api/imports/{'0' * 24}",
    f"/api/jobs/{'0' * 24}",
]
PUBLIC_PATHS = ["/healthz", "/readyz", "/api/openapi.json", "/api/docs"]


async def expect_401(client: Client, method: str, path: str, **kwargs: Any) -> None:
    resp = await client.request(method, path, **kwargs)
    body = await resp.json()
    assert resp.status == 401, (path, body)
    assert body["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers", [{}, WRONG, {"Authorization": TOKEN}, {"Authorization": "Basic x"}]
)
async def test_writes_need_the_bearer_token(app_client: AppClient, headers: dict[str, str]) -> None:
    client = await app_client(admin_token=TOKEN, feeds=())
    await expect_401(client, "POST", "/api/imports", json={}, headers=headers)
    resp = await client.post("/api/imports", headers=BEARER)
    assert resp.status == 202
    assert (await resp.json()) == {"runs": []}


async def test_reads_are_public_by_default_even_with_a_token(app_client: AppClient) -> None:
    client = await app_client(admin_token=TOKEN)
    for path in ["/api/imports", "/api/jobs", "/api/feeds", "/metrics", *PUBLIC_PATHS]:
        resp = await client.get(path)
        assert resp.status == 200, path


async def test_without_a_token_writes_are_open(app_client: AppClient) -> None:
    client = await app_client(feeds=())
    assert (await client.post("/api/imports")).status == 202


async def test_read_token_required(app_client: AppClient) -> None:
    client = await app_client(admin_token=TOKEN, read_token_required=True)
    for path in READ_PATHS:
        await expect_401(client, "GET", path)
        await expect_401(client, "GET", path, headers=WRONG)
        resp = await client.get(path, headers=BEARER)
        assert resp.status in (200, 404), path
    await expect_401(client, "GET", "/api/events")
    for path in PUBLIC_PATHS:
        assert (await client.get(path)).status == 200, path


async def test_session_cookie_authorizes_reads_and_events_but_not_writes(
    app_client: AppClient,
) -> None:
    client = await app_client(admin_token=TOKEN, read_token_required=True, feeds=())
    await expect_401(client, "POST", "/api/session", json={"token": "wrong-wrong-wrong-wrong"})
    await expect_401(client, "POST", "/api/session")
    bad = await client.post("/api/session", data=b"{", headers={"Content-Type": "application/json"})
    assert (bad.status, (await bad.json())["error"]["code"]) == (400, "invalid_json")
    resp = await client.post("/api/session", json={"token": TOKEN})
    assert resp.status == 204
    cookie = resp.cookies[COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert TOKEN not in cookie.value  # derived from the token, never the token itself
    assert (await client.get("/api/imports")).status == 200  # the client jar sends it
    async with client.get("/api/events") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await SseReader(stream).connected()
    await expect_401(client, "POST", "/api/imports")  # a cookie alone never writes
    assert (await client.delete("/api/session")).status == 204
    await expect_401(client, "GET", "/api/imports")


async def test_session_by_bearer_header_and_a_forged_cookie(app_client: AppClient) -> None:
    client = await app_client(admin_token=TOKEN, read_token_required=True)
    resp = await client.post("/api/session", headers=BEARER)
    assert resp.status == 204
    value = resp.cookies[COOKIE].value
    base = str(client.make_url("/api/imports"))
    async with ClientSession(cookies={COOKIE: value}) as other:
        assert (await other.get(base)).status == 200
    async with ClientSession(cookies={COOKIE: value[:-1] + "0"}) as forged:
        assert (await forged.get(base)).status == 401


async def test_session_without_a_token_configured_is_a_no_op(app_client: AppClient) -> None:
    client = await app_client()
    resp = await client.post("/api/session", json={"token": "anything-at-all"})
    assert resp.status == 204
    assert COOKIE not in resp.cookies


def test_every_non_get_route_is_a_write_or_checks_itself() -> None:
    for route in ROUTES:
        if route.method != "GET":
            assert route.access in ("write", "session"), route.path


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"admin_token": "short"}, "JOBIMPORT_ADMIN_TOKEN"),
        ({"read_token_required": True}, "JOBIMPORT_READ_TOKEN_REQUIRED"),
    ],
)
def test_token_settings_are_checked(overrides: dict[str, Any], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(**overrides)


def test_the_token_is_masked() -> None:
    shown = load_settings(admin_token=TOKEN).masked()
    assert shown["JOBIMPORT_ADMIN_TOKEN"] == "********"
    assert TOKEN not in repr(load_settings(admin_token=TOKEN))
