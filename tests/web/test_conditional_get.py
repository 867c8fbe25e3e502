"""Conditional GETs of /api/imports, /api/imports/{id}, /api/jobs and /api/feeds over a real
server and real imports: an ETag with Vary and Cache-Control, 304 for a matching If-None-Match,
a new tag whenever the body changes, and 401 before any 304 when reads need the token."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until
from tests.web.conftest import TOKEN, AppClient
from tests.web.test_imports_api import settled

Client = TestClient[Any, Any]


async def fresh(client: Client, path: str, **params: Any) -> tuple[str, Any]:
    """A 200 with its validator headers checked: (ETag, body)."""
    resp = await client.get(path, params=params)
    body = await resp.json()
    assert resp.status == 200, body
    etag = resp.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag), etag
    assert resp.headers["Vary"] == "Authorization, Cookie"
    assert resp.headers["Cache-Control"] == "no-cache"
    return etag, body


async def status_with(client: Client, path: str, if_none_match: str, **params: Any) -> int:
    """The status of a GET with that If-None-Match; a 304 is checked to have no body and to
    carry the validator headers again."""
    headers = {"If-None-Match": if_none_match}
    resp = await client.get(path, params=params, headers=headers)
    if resp.status == 304:
        assert await resp.read() == b""
        assert resp.headers["ETag"].startswith('W/"')
        assert resp.headers["Vary"] == "Authorization, Cookie"
        assert resp.headers["Cache-Control"] == "no-cache"
    return resp.status


async def test_imports_listing_answers_304_until_a_run_changes(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/jobs", rss(items(range(1, 4))), validators=False)
    client = await app_client(feeds=(url,))
    await settled(client, 1)
    etag, page = await fresh(client, "/api/imports")
    assert page["total"] == 1
    assert await status_with(client, "/api/imports", etag) == 304
    # RFC 9110: weak comparison, a list of tags, `*`; another tag is no match.
    strong = etag.removeprefix("W/")
    assert await status_with(client, "/api/imports", f'"other", {strong}') == 304
    assert await status_with(client, "/api/imports", "*") == 304
    assert await status_with(client, "/api/imports", 'W/"other"') == 200
    # The query is part of the tag: another page or filter is another body.
    limited, _ = await fresh(client, "/api/imports", limit=1)
    filtered, _ = await fresh(client, "/api/imports", status="failed")
    assert len({etag, limited, filtered}) == 3
    assert await status_with(client, "/api/imports", etag, limit=1) == 200
    assert await status_with(client, "/api/imports", limited, limit=1) == 304

    gate = feeds.gate("/jobs")
    started = await (await client.post("/api/imports")).json()
    (run,) = started["runs"]
    queued, _ = await fresh(client, "/api/imports")
    assert queued != etag
    assert await status_with(client, "/api/imports", etag) == 200
    gate.set()
    runs = await settled(client, 2)
    assert {r["status"] for r in runs} == {"succeeded"}
    finished, _ = await fresh(client, "/api/imports")
    assert finished not in (etag, queued)
    assert await status_with(client, "/api/imports", queued) == 200
    assert await status_with(client, "/api/imports", finished) == 304
    assert run["id"] in {r["id"] for r in runs}


async def test_one_import_gets_a_new_tag_when_its_status_and_counts_change(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/slow", rss(items(range(1, 6))))
    gate = feeds.gate("/slow")
    client = await app_client(feeds=(url,))

    async def held() -> bool:
        return feeds.waiting.get("/slow") == 1

    await wait_until(held, within=10, what="the start-up run's fetch at the gate")
    _, page = await fresh(client, "/api/imports")
    (run,) = page["items"]
    path = f"/api/imports/{run['id']}"
    running, detail = await fresh(client, path)
    assert (detail["status"], detail["totalFetched"]) == ("running", 0)
    assert await status_with(client, path, running) == 304
    other_page, _ = await fresh(client, path, failuresLimit=1)
    assert other_page != running
    gate.set()
    await settled(client, 1)
    done, detail = await fresh(client, path)
    assert (detail["status"], detail["totalFetched"]) == ("succeeded", 5)
    assert done != running
    assert await status_with(client, path, running) == 200
    assert await status_with(client, path, done) == 304
    # No such run: 404 whatever the If-None-Match, `*` included.
    assert await status_with(client, "/api/imports/" + "0" * 24, "*") == 404


async def test_jobs_listing_gets_a_new_tag_when_a_job_changes(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/jobs", rss(items(range(1, 3))), validators=False)
    client = await app_client(feeds=(url,))
    await settled(client, 1)
    etag, page = await fresh(client, "/api/jobs")
    assert page["total"] == 2
    assert await status_with(client, "/api/jobs", etag) == 304
    searched, _ = await fresh(client, "/api/jobs", q="nothing-matches-this")
    assert searched != etag
    feeds.put("/jobs", rss(items(range(1, 4))), validators=False)
    await client.post("/api/imports")
    await settled(client, 2)
    changed, page = await fresh(client, "/api/jobs")
    assert page["total"] == 3
    assert changed != etag
    assert await status_with(client, "/api/jobs", etag) == 200
    assert await status_with(client, "/api/jobs", changed) == 304


async def test_feeds_listing_gets_a_new_tag_when_a_feed_is_added_or_paused(
    feeds: FeedServer, app_client: AppClient
) -> None:
    client = await app_client(feeds=())
    empty, page = await fresh(client, "/api/feeds")
    assert page["total"] == 0
    assert await status_with(client, "/api/feeds", empty) == 304
    url = feeds.put("/jobs", rss(items(range(1, 3))))
    resp = await client.post("/api/feeds", json={"url": url, "paused": True})
    feed = await resp.json()
    assert resp.status == 201, feed
    added, page = await fresh(client, "/api/feeds")
    assert page["total"] == 1
    assert added != empty
    assert await status_with(client, "/api/feeds", empty) == 200
    assert await status_with(client, "/api/feeds", added) == 304
    resp = await client.patch(f"/api/feeds/{feed['id']}", json={"name": "Renamed"})
    assert resp.status == 200, await resp.json()
    renamed, page = await fresh(client, "/api/feeds")
    assert page["items"][0]["name"] == "Renamed"
    assert renamed != added
    resp = await client.patch(f"/api/feeds/{feed['id']}", json={"paused": False})
    assert resp.status == 200, await resp.json()
    unpaused, page = await fresh(client, "/api/feeds")
    assert page["items"][0]["paused"] is False
    assert unpaused not in (empty, added, renamed)
    assert await status_with(client, "/api/feeds", renamed) == 200


async def test_401_comes_before_304_when_reads_need_the_token(app_client: AppClient) -> None:
    # No feeds: nothing runs, so the tags stay put while the test asks.
    client = await app_client(admin_token=TOKEN, read_token_required=True, feeds=())
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/api/imports", "/api/jobs", "/api/feeds"):
        resp = await client.get(path, headers=bearer)
        assert resp.status == 200, await resp.json()
        etag = resp.headers["ETag"]
        assert await status_with(client, path, etag) == 401
        assert await status_with(client, path, "*") == 401
        matching = {**bearer, "If-None-Match": etag}
        assert (await client.get(path, headers=matching)).status == 304
