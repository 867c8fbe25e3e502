"""Feeds as data over the API: add, list, change, pause, delete and preview feeds, with every
4xx these routes answer. Real server, real SQLite, feeds served from loopback."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.web import keys
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.web.conftest import TOKEN, AppClient
from tests.web.test_imports_api import BAD_ITEM, get_json, settled

Client = TestClient[Any, Any]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "Bearer feed-secret-5f1c2b"


async def send(client: Client, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    resp = await client.request(method, path, json=body, headers=AUTH)
    answer = None if resp.status == 204 else await resp.json()
    assert resp.status == expect, answer
    return answer


async def test_add_list_change_and_delete_a_feed(feeds: FeedServer, app_client: AppClient) -> None:
    configured = feeds.put("/configured", rss(items(range(1, 3))))
    added_url = feeds.put("/private", rss(items(range(10, 13))))
    client = await app_client(feeds=(configured,), admin_token=TOKEN)
    await settled(client, 1)

    added = await send(client, "POST", "/api/feeds", {
        "url": added_url, "name": "Private board", "schedule": "30m",
        "headers": {"Authorization": SECRET},
    }, expect=201)  # fmt: skip
    assert added["origin"] == "api"
    assert (added["name"], added["schedule"], added["effectiveSchedule"]) == (
        "Private board", "30m", "30m",
    )  # fmt: skip
    assert added["headerNames"] == ["Authorization"]
    assert not added["paused"]
    listed = await get_json(client, "/api/feeds")
    assert [f["url"] for f in listed["items"]] == [configured, added_url]
    assert listed["items"][0]["origin"] == "config"
    assert SECRET not in str(listed)
    assert SECRET not in str(added)

    # The stored header is sent with the feed's requests.
    resp = await client.post("/api/imports", json={"feeds": [added_url]}, headers=AUTH)
    assert resp.status == 202
    await settled(client, 2)
    assert feeds.headers["/private"][-1]["Authorization"] == SECRET
    assert (await get_json(client, "/api/jobs", feed=added_url))["total"] == 3

    changed = await send(client, "PATCH", f"/api/feeds/{added['id']}",
                         {"paused": True, "schedule": None, "name": "Renamed"})  # fmt: skip
    assert (changed["paused"], changed["schedule"], changed["name"]) == (True, None, "Renamed")
    assert changed["effectiveSchedule"] == "1h"
    assert changed["due"] is False
    assert changed["headerNames"] == ["Authorization"]  # untouched
    cleared = await send(client, "PATCH", f"/api/feeds/{added['id']}", {"headers": None})
    assert cleared["headerNames"] == []

    assert await send(client, "DELETE", f"/api/feeds/{added['id']}", expect=204) is None
    assert [f["url"] for f in (await get_json(client, "/api/feeds"))["items"]] == [configured]
    assert (await get_json(client, "/api/jobs", feed=added_url))["total"] == 3  # jobs stay
    await send(client, "DELETE", f"/api/feeds/{added['id']}", expect=404)


async def test_a_paused_feed_is_skipped_by_cron_but_runs_on_demand(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    client = await app_client(feeds=(url,))
    await settled(client, 1)
    (feed,) = (await get_json(client, "/api/feeds"))["items"]
    await send(client, "PATCH", f"/api/feeds/{feed['id']}", {"paused": True})
    store = client.app[keys.STORE]
    scheduler = client.app[keys.SERVICES].scheduler
    await store.update_feed(feed["id"], {"next_run_at": None})  # due now, if it were running
    assert (await scheduler.tick()).started == []
    resumed = await send(client, "PATCH", f"/api/feeds/{feed['id']}", {"paused": False})
    assert resumed["due"] is True
    assert len((await scheduler.tick()).started) == 1
    await settled(client, 2)
    await send(client, "PATCH", f"/api/feeds/{feed['id']}", {"paused": True})
    resp = await client.post("/api/imports", json={"feeds": [url]})
    assert resp.status == 202  # a person asked for it: paused only stops cron
    assert (await client.post("/api/imports")).status == 202  # no body: unpaused feeds only
    assert len(await settled(client, 3)) == 3


async def test_config_feeds_can_be_paused_not_deleted(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    client = await app_client(feeds=(url,))
    (feed,) = (await get_json(client, "/api/feeds"))["items"]
    answer = await send(client, "DELETE", f"/api/feeds/{feed['id']}", expect=409)
    assert answer["error"]["code"] == "config_feed"
    dup = await send(client, "POST", "/api/feeds", {"url": url}, expect=409)
    assert dup["error"]["code"] == "feed_exists"
    assert dup["error"]["details"]["id"] == feed["id"]
    assert (await send(client, "PATCH", f"/api/feeds/{feed['id']}", {"paused": True}))["paused"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://feeds.test/jobs"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://feeds.test/a", "schedule": "every tuesday"}, "schedule"),
        ({"url": "http://feeds.test/a", "schedule": "10s"}, "schedule"),
        ({"url": "http://feeds.test/a", "headers": {"Host": "x"}}, "headers"),
        ({"url": "http://feeds.test/a", "headers": {"Bad Name": "x"}}, "headers"),
        ({"url": "http://feeds.test/a", "headers": {"X-Token": "a\r\nb"}}, "headers"),
        # Issue 14: values that are not RFC 9110 field values, schedules that cannot fire.
        ({"url": "http://feeds.test/a", "headers": {"X-Token": "a\x01b"}}, "headers"),
        ({"url": "http://feeds.test/a", "headers": {"X-Token": "a\x0bb"}}, "headers"),
        ({"url": "http://feeds.test/a", "headers": {"X-Token": "a\x7fb"}}, "headers"),
        ({"url": "http://feeds.test/a", "headers": {"X-Token": "a\ud800b"}}, "headers"),
        ({"url": "http://feeds.test/a", "schedule": "3000000d"}, "schedule"),
        ({"url": "http://feeds.test/a", "schedule": "* * 31 2 *"}, "schedule"),
        ({"url": "http://feeds.test/a", "schedule": "99999999999999999999d"}, "schedule"),
        ({"url": "http://feeds.test/a", "extra": 1}, "extra"),
        ({"name": "no url"}, "url"),
    ],
)
async def test_add_feed_rejects_bad_bodies(
    app_client: AppClient, body: dict[str, Any], field: str
) -> None:
    client = await app_client(feeds=())
    answer = await send(client, "POST", "/api/feeds", body, expect=400)
    assert answer["error"]["code"] == "invalid_body"
    assert field in answer["error"]["message"]
    assert (await get_json(client, "/api/feeds"))["total"] == 0


async def test_change_feed_rejects_bad_requests(feeds: FeedServer, app_client: AppClient) -> None:
    client = await app_client(feeds=(feeds.put("/feed", rss(items(range(1, 2)))),))
    (feed,) = (await get_json(client, "/api/feeds"))["items"]
    path = f"/api/feeds/{feed['id']}"
    for body in ({}, {"paused": None}, {"paused": "yes"}, {"schedule": "nope"}, {"url": "x"},
                 {"schedule": "3000000d"}, {"schedule": "* * 31 2 *"},
                 {"schedule": "99999999999999999999d"}, {"headers": {"X-Token": "a\x01b"}},
                 {"headers": {"X-Token": "a\x0bb"}}, {"headers": {"X-Token": "a\x7fb"}},
                 {"headers": {"X-Token": "a\ud800b"}}):  # fmt: skip
        answer = await send(client, "PATCH", path, body, expect=400)
        assert answer["error"]["code"] == "invalid_body", body
    await send(client, "PATCH", "/api/feeds/0123456789abcdef", {"paused": True}, expect=404)
    await send(client, "PATCH", "/api/feeds/not-an-id", {"paused": True}, expect=404)
    after = (await get_json(client, "/api/feeds"))["items"][0]
    assert (after["paused"], after["schedule"], after["headerNames"]) == (False, None, [])


async def test_feed_writes_need_the_token(app_client: AppClient) -> None:
    client = await app_client(feeds=(), admin_token=TOKEN)
    for method, path in [("POST", "/api/feeds"), ("PATCH", "/api/feeds/0123456789abcdef"),
                         ("DELETE", "/api/feeds/0123456789abcdef"),
                         ("POST", "/api/feeds/preview")]:  # fmt: skip
        resp = await client.request(method, path, json={"url": "http://feeds.test/a"})
        assert resp.status == 401, (method, path)
        assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_preview_refuses_a_header_value_it_cannot_send(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    client = await app_client(feeds=())
    for value in ("a\x01b", "a\x0bb", "a\x7fb", "a\ud800b"):
        answer = await send(client, "POST", "/api/feeds/preview",
                            {"url": url, "headers": {"X-Token": value}}, expect=400)  # fmt: skip
        assert answer["error"]["code"] == "invalid_body", value
        assert "headers" in answer["error"]["message"]
    assert feeds.received("/feed") == []


async def test_preview_reads_a_feed_and_stores_nothing(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/big", rss([*items(range(1, 15)), BAD_ITEM]))
    client = await app_client(feeds=())
    answer = await send(client, "POST", "/api/feeds/preview",
                        {"url": url, "headers": {"X-Api-Key": "k-123"}})  # fmt: skip
    assert (answer["totalFetched"], answer["failedJobs"]) == (15, 1)
    assert len(answer["items"]) == 10
    assert answer["items"][0]["title"] == "Job number 1"
    assert [f["reason"] for f in answer["failures"]] == ["missing_title"]
    assert answer["error"] is None
    assert answer["http"]["status"] == 200
    assert answer["warnings"] == {}
    assert feeds.headers["/big"][-1]["X-Api-Key"] == "k-123"
    assert (await get_json(client, "/api/jobs"))["total"] == 0
    assert (await get_json(client, "/api/imports"))["total"] == 0
    assert (await get_json(client, "/api/feeds"))["total"] == 0


async def test_preview_counts_warnings_as_an_import_would(
    feeds: FeedServer, app_client: AppClient
) -> None:
    listed = items(range(1, 4))
    listed[0] = listed[0].with_(pub_date="whenever", title="Senior&nbsp;dev")
    url = feeds.put("/lenient", rss(listed).replace(b"Teaser of job 3", b"Teaser \xfe"))
    client = await app_client(feeds=())
    answer = await send(client, "POST", "/api/feeds/preview", {"url": url})
    assert (answer["totalFetched"], answer["failedJobs"]) == (3, 0)
    assert answer["warnings"] == {"date_unparsed": 1, "html_entity": 1, "encoding_replaced": 1}


async def test_preview_reports_an_unreadable_feed_as_its_error(
    feeds: FeedServer, app_client: AppClient
) -> None:
    client = await app_client(feeds=())
    missing = await send(client, "POST", "/api/feeds/preview", {"url": feeds.base_url + "/nope"})
    assert (missing["totalFetched"], missing["error"]["reason"]) == (0, "http_4xx")
    assert missing["http"]["status"] == 404
    broken = feeds.put("/broken", rss(items(range(1, 4))).replace(b"</channel>", b"<oops>"))
    part = await send(client, "POST", "/api/feeds/preview", {"url": broken})
    assert part["error"]["reason"] == "malformed_xml"
    assert part["totalFetched"] == 3


async def test_preview_obeys_the_address_rules(feeds: FeedServer, app_client: AppClient) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    client = await app_client(feeds=(), allow_private_addresses=False)
    literal = await send(client, "POST", "/api/feeds/preview", {"url": url}, expect=400)
    assert literal["error"]["details"]["reason"] == "ssrf_refused"
    named = url.replace("127.0.0.1", "localhost")
    answer = await send(client, "POST", "/api/feeds/preview", {"url": named})
    assert answer["error"]["reason"] == "ssrf_refused"
    assert feeds.hits.get("/feed") is None
