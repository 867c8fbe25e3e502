"""The import-log endpoints over a real server, real SQLite and real imports from loopback feeds:
listing (sort, filter, page), one log, starting imports, the seeds' /api/import-logs, and
every 4xx they answer."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until
from tests.web.conftest import AppClient
from tests.web.support import tasks_running

Client = TestClient[Any, Any]
BAD_ITEM = "<item><link>https://jobicy.com/jobs/77-x</link><id>77</id></item>"


async def get_json(client: Client, path: str, expect: int = 200, **params: Any) -> Any:
    resp = await client.get(path, params=params)
    body = await resp.json()
    assert resp.status == expect, body
    return body


async def settled(client: Client, runs: int) -> list[dict[str, Any]]:
    """Wait until at least `runs` runs exist, none is in flight and no task of the in-process
    queue is still running (a run is final in the store a moment before its task has published
    `run.finished`); returns them all."""

    async def done() -> list[dict[str, Any]] | None:
        page = await get_json(client, "/api/imports", limit=100)
        in_flight = [r for r in page["items"] if r["status"] in ("queued", "running")]
        if page["total"] < runs or in_flight or tasks_running(client):
            return None
        items: list[dict[str, Any]] = page["items"]
        return items

    return await wait_until(done, within=20, what=f"{runs} finished runs")


@pytest.fixture
async def history(feeds: FeedServer, app_client: AppClient) -> tuple[Client, dict[str, str]]:
    """Four feeds imported once at start-up (they are due at once): good, partial, 404, blocked."""
    urls = {
        "good": feeds.put("/good", rss(items(range(1, 8))), validators=False),
        "partial": feeds.put("/partial", rss([*items(range(10, 13)), BAD_ITEM])),
        "missing": feeds.base_url + "/missing",
        "blocked": feeds.put(
            "/blocked", b"<html><body>Request unsuccessful. Incapsula incident ID: 1</body></html>",
            content_type="text/html",
        ),
    }  # fmt: skip
    client = await app_client(feeds=tuple(urls.values()), batch_size=3)
    await settled(client, 4)
    return client, urls


async def test_list_is_newest_first_with_every_column(history: tuple[Client, dict[str, str]]):
    client, urls = history
    page = await get_json(client, "/api/imports")
    assert page["total"] == 4
    assert page["next"] is None
    created = [run["createdAt"] for run in page["items"]]
    assert created == sorted(created, reverse=True)
    by_feed = {run["fileName"]: run for run in page["items"]}
    good = by_feed[urls["good"]]
    assert (good["status"], good["totalFetched"], good["newJobs"]) == ("succeeded", 7, 7)
    assert good["totalFetched"] == good["totalImported"] + good["failedJobs"]
    partial = by_feed[urls["partial"]]
    assert (partial["status"], partial["newJobs"], partial["failedJobs"]) == ("partial", 3, 1)
    assert partial["failureCounts"] == {"missing_title": 1}
    assert "failures" not in partial  # the list is a summary; the detail has the failures
    assert by_feed[urls["missing"]]["error"]["reason"] == "http_4xx"
    assert by_feed[urls["blocked"]]["error"]["reason"] == "blocked"
    for run in page["items"]:
        assert run["trigger"] == "cron"
        assert run["durationMs"] is not None


SORTABLE = ["createdAt", "startedAt", "durationMs", "fileName", "status", "totalFetched",
            "newJobs", "updatedJobs", "unchangedJobs", "failedJobs"]  # fmt: skip


async def test_sort_by_each_column(history: tuple[Client, dict[str, str]]) -> None:
    client, _ = history
    for column in SORTABLE:
        for order in ("asc", "desc"):
            page = await get_json(client, "/api/imports", sort=column, order=order)
            values = [(run[column], run["id"]) for run in page["items"]]
            assert values == sorted(values, reverse=order == "desc"), (column, order)


async def test_filters(history: tuple[Client, dict[str, str]]) -> None:
    client, urls = history

    async def feeds_of(**params: Any) -> set[str]:
        page = await get_json(client, "/api/imports", **params)
        assert page["total"] == len(page["items"])
        return {run["fileName"] for run in page["items"]}

    assert await feeds_of(status="failed") == {urls["missing"], urls["blocked"]}
    assert await feeds_of(status="failed,partial") == {
        urls["missing"], urls["blocked"], urls["partial"],
    }  # fmt: skip
    both = await client.get("/api/imports?status=succeeded&status=partial")
    assert {r["fileName"] for r in (await both.json())["items"]} == {urls["good"], urls["partial"]}
    assert await feeds_of(withFailures="true") == {
        urls["partial"],
        urls["missing"],
        urls["blocked"],
    }
    assert await feeds_of(feed=urls["good"]) == {urls["good"]}
    assert await feeds_of(feed="https://not-configured.test/") == set()
    runs = (await get_json(client, "/api/imports", sort="createdAt", order="asc"))["items"]
    middle = runs[2]["createdAt"]
    assert await feeds_of(since=middle) == {r["fileName"] for r in runs[2:]}
    assert await feeds_of(until=middle) == {r["fileName"] for r in runs[:2]}
    assert await feeds_of(since="2099-01-01T00:00:00Z") == set()
    assert await feeds_of(until="2000-01-01T00:00:00") == set()  # naive times are UTC


async def test_paging_with_cursor_and_page(history: tuple[Client, dict[str, str]]) -> None:
    client, _ = history
    everything = [r["id"] for r in (await get_json(client, "/api/imports"))["items"]]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = await get_json(client, "/api/imports", **params)
        assert page["total"] == 4
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert (seen, pages) == (everything, 2)
    second = await get_json(client, "/api/imports", limit=3, page=2)
    assert [r["id"] for r in second["items"]] == everything[3:]
    beyond = await get_json(client, "/api/imports", limit=3, page=9)
    assert (beyond["items"], beyond["total"], beyond["next"]) == ([], 4, None)


BAD_PARAMETERS = [
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("limit=1&limit=2", "limit"),
    ("page=0", "page"),
    ("sort=bogus", "sort"),
    ("order=up", "order"),
    ("status=done", "status"),
    ("since=yesterday", "since"),
    ("until=2026-13-01", "until"),
    ("withFailures=perhaps", "withFailures"),
    ("colour=red", "colour"),
    ("cursor=%21%21not-a-cursor", "cursor"),
    ("cursor=eyJvIjoxfQ", "cursor"),  # valid base64 JSON without the listing key
    ("page=1&cursor=abc", "page"),
    ("since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", "until"),
]
"""(query string, the parameter the 400 names)."""


async def test_bad_parameters_are_400_naming_the_parameter(app_client: AppClient) -> None:
    client = await app_client()
    for query, parameter in BAD_PARAMETERS:
        resp = await client.get(f"/api/imports?{query}")
        body = await resp.json()
        assert resp.status == 400, (query, body)
        assert body["error"]["code"] == "invalid_parameter", query
        assert body["error"]["details"]["parameter"] == parameter, query
        assert repr(parameter) in body["error"]["message"], query
        assert resp.headers["X-Request-ID"], query


async def test_a_cursor_only_works_for_its_own_listing(
    history: tuple[Client, dict[str, str]],
) -> None:
    client, _ = history
    cursor = (await get_json(client, "/api/imports", limit=1))["next"]
    assert cursor
    other = await get_json(client, "/api/imports", 400, limit=1, cursor=cursor, sort="status")
    assert other["error"]["details"]["parameter"] == "cursor"
    same = await get_json(client, "/api/imports", limit=1, cursor=cursor)
    assert same["total"] == 4


async def test_one_import_with_failures_paged_and_progress(
    history: tuple[Client, dict[str, str]], feeds: FeedServer
) -> None:
    client, urls = history
    bad = [BAD_ITEM.replace("77", str(n)) for n in range(70, 75)]
    feeds.put("/partial", rss([*items(range(10, 13)), *bad]))
    accepted = await client.post("/api/imports", json={"feeds": [urls["partial"]]})
    run_id = (await accepted.json())["runs"][0]["id"]
    await settled(client, 5)

    detail = await get_json(client, f"/api/imports/{run_id}", failuresLimit=2)
    assert (detail["status"], detail["failedJobs"], detail["failuresTotal"]) == ("partial", 5, 5)
    assert [f["reason"] for f in detail["failures"]] == ["missing_title"] * 2
    assert detail["progress"] == {"batchesTotal": 3, "batchesDone": 3, "percent": 100.0}
    positions = [f["position"] for f in detail["failures"]]
    cursor = detail["failuresNext"]
    while cursor:
        page = await get_json(
            client, f"/api/imports/{run_id}", failuresLimit=2, failuresCursor=cursor
        )
        positions += [f["position"] for f in page["failures"]]
        cursor = page["failuresNext"]
    assert positions == [3, 4, 5, 6, 7]
    third = await get_json(client, f"/api/imports/{run_id}", failuresLimit=2, failuresPage=3)
    assert [f["position"] for f in third["failures"]] == [7]
    bad_limit = await get_json(client, f"/api/imports/{run_id}", 400, failuresLimit=500)
    assert bad_limit["error"]["details"]["parameter"] == "failuresLimit"


@pytest.mark.parametrize("run_id", ["0" * 24, "01a208e8a7bd2253904a1305", "nope", "x" * 300])
async def test_unknown_import_is_404(app_client: AppClient, run_id: str) -> None:
    client = await app_client()
    body = await get_json(client, f"/api/imports/{run_id}", 404)
    assert body["error"]["code"] == "not_found"


async def test_post_starts_runs_and_returns_the_run_in_flight(
    feeds: FeedServer, app_client: AppClient
) -> None:
    slow = feeds.put("/slow", rss(items(range(1, 4))))
    quick = feeds.put("/quick", rss(items(range(5, 7))))
    gate = feeds.gate("/slow")
    client = await app_client(feeds=(slow, quick))
    await wait_until(
        lambda: _async(feeds.waiting.get("/slow")), within=10, what="the start-up run's fetch"
    )
    resp = await client.post("/api/imports", json={"feeds": [slow]})
    assert resp.status == 202
    (in_flight,) = (await resp.json())["runs"]
    assert (in_flight["status"], in_flight["trigger"]) == ("running", "cron")
    again = await (await client.post("/api/imports")).json()  # no body: every configured feed
    assert [run["fileName"] for run in again["runs"]] == [slow, quick]
    assert again["runs"][0]["id"] == in_flight["id"]
    gate.set()
    runs = {run["id"]: run for run in await settled(client, 2)}
    assert runs[in_flight["id"]]["status"] == "succeeded"
    # /quick finished at start-up (cron) or was in flight: a second run of it is a 304.
    assert {run["status"] for run in runs.values()} <= {"succeeded", "not_modified"}
    assert feeds.hits["/slow"] == 1
    fresh = await (await client.post("/api/imports", json={"feeds": [slow]})).json()
    assert fresh["runs"][0]["id"] != in_flight["id"]
    assert fresh["runs"][0]["trigger"] == "api"
    assert fresh["runs"][0]["status"] in ("queued", "running", "not_modified")


async def _async(value: Any) -> Any:
    return value


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"feeds": ["http://not-configured.test/feed"]}', {}, 400, "unknown_feed"),
        (b'{"feeds": [}', {}, 400, "invalid_json"),
        (b'{"feeds": "http://a.test/"}', {}, 400, "invalid_body"),
        (b'{"feeds": []}', {}, 400, "invalid_body"),
        (b'{"feeds": null, "extra": 1}', {}, 400, "invalid_body"),
        (b"[1, 2]", {}, 400, "invalid_body"),
        (b"feeds=a", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
         "unsupported_media_type"),
        (b'{"feeds": ["x"]}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b"\xff\xfe", {}, 400, "invalid_json"),
        (b"x" * 70_000, {}, 413, "body_too_large"),
    ],
)  # fmt: skip
async def test_post_bad_bodies(
    app_client: AppClient, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    client = await app_client(feeds=())
    resp = await client.post(
        "/api/imports", data=body, headers={"Content-Type": "application/json", **headers}
    )
    answer = await resp.json()
    assert (resp.status, answer["error"]["code"]) == (status, code), answer
    assert (await get_json(client, "/api/imports"))["total"] == 0  # nothing was started


async def test_import_logs_are_the_20_most_recent_in_full(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss([*items(range(1, 3)), BAD_ITEM]), validators=False)
    client = await app_client(feeds=(url,))
    await settled(client, 1)
    for n in range(2, 22):
        await client.post("/api/imports")
        await settled(client, n)
    logs = await get_json(client, "/api/import-logs")
    assert isinstance(logs, list)
    assert len(logs) == 20
    everything = (await get_json(client, "/api/imports", limit=100))["items"]
    assert len(everything) == 21
    assert [log["id"] for log in logs] == [run["id"] for run in everything[:20]]
    assert logs[0]["failures"][0]["reason"] == "missing_title"
    assert {"fileName", "totalFetched", "newJobs", "updatedJobs", "failedJobs"} <= logs[0].keys()
    bad = await get_json(client, "/api/import-logs", 400, limit=5)
    assert bad["error"]["details"]["parameter"] == "limit"
