"""Retrying and cancelling runs over the API, with every 4xx these routes answer."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.web import keys
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until
from tests.web.conftest import TOKEN, AppClient
from tests.web.test_imports_api import get_json, settled

Client = TestClient[Any, Any]
UNKNOWN_RUN = "0" * 24


async def post(client: Client, path: str, expect: int) -> Any:
    resp = await client.post(path)
    answer = await resp.json()
    assert resp.status == expect, answer
    return answer


async def test_retry_starts_a_linked_run_of_the_same_feed(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.base_url + "/flaky"  # 404 at first: the run fails
    client = await app_client(feeds=(url,))
    (failed,) = await settled(client, 1)
    assert failed["status"] == "failed"
    feeds.put("/flaky", rss(items(range(1, 4))))
    answer = await post(client, f"/api/imports/{failed['id']}/retry", 202)
    (retry,) = answer["runs"]
    assert (retry["fileName"], retry["retryOf"], retry["trigger"]) == (url, failed["id"], "retry")
    runs = {run["id"]: run for run in await settled(client, 2)}
    assert runs[retry["id"]]["status"] == "succeeded"
    assert runs[retry["id"]]["newJobs"] == 3
    detail = await get_json(client, f"/api/imports/{retry['id']}")
    assert detail["retryOf"] == failed["id"]
    # A retry of a retry is fine too: any finished run can be retried.
    again = await post(client, f"/api/imports/{retry['id']}/retry", 202)
    assert again["runs"][0]["retryOf"] == retry["id"]


async def test_retry_refuses_runs_in_flight_and_busy_feeds(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/slow", rss(items(range(1, 3))))
    client = await app_client(feeds=(url,))
    (first,) = await settled(client, 1)
    gate = feeds.gate("/slow")
    started = await (await client.post("/api/imports")).json()
    (in_flight,) = started["runs"]
    busy = await post(client, f"/api/imports/{in_flight['id']}/retry", 409)
    assert busy["error"]["code"] == "run_in_flight"
    feed_busy = await post(client, f"/api/imports/{first['id']}/retry", 409)
    assert feed_busy["error"]["code"] == "feed_busy"
    assert feed_busy["error"]["details"]["runId"] == in_flight["id"]
    await post(client, f"/api/imports/{UNKNOWN_RUN}/retry", 404)
    await post(client, "/api/imports/not-a-run/retry", 404)
    gate.set()
    assert len(await settled(client, 2)) == 2  # nothing else was started


async def test_cancel_stops_a_running_run_and_keeps_it_cancelled(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/slow", rss(items(range(1, 6))))
    gate = feeds.gate("/slow")
    client = await app_client(feeds=(url,))

    async def held() -> bool:
        return feeds.waiting.get("/slow") == 1

    await wait_until(held, within=10, what="the start-up run's fetch at the gate")
    (run,) = (await get_json(client, "/api/imports"))["items"]
    cancelled = await post(client, f"/api/imports/{run['id']}/cancel", 200)
    assert cancelled["status"] == "cancelled"
    assert cancelled["finishedAt"] is not None
    again = await post(client, f"/api/imports/{run['id']}/cancel", 409)
    assert again["error"]["code"] == "run_final"
    assert again["error"]["details"]["status"] == "cancelled"

    gate.set()  # the fetch goes on, finds its run cancelled and stores nothing
    local = client.app[keys.QUEUE].local
    assert local is not None

    async def idle() -> bool:
        stats = local.stats()
        return stats.running == 0 and stats.waiting == 0 and stats.deferred == 0

    await wait_until(idle, within=10, what="the fetch task to end")
    after = await get_json(client, f"/api/imports/{run['id']}")
    assert (after["status"], after["totalFetched"], after["newJobs"]) == ("cancelled", 0, 0)
    assert (await get_json(client, "/api/jobs"))["total"] == 0
    (feed,) = (await get_json(client, "/api/feeds"))["items"]
    assert feed["lastStatus"] == "cancelled"
    assert feed["consecutiveFailures"] == 0
    # A cancelled run is final: it can be retried.
    retried = await post(client, f"/api/imports/{run['id']}/retry", 202)
    assert retried["runs"][0]["retryOf"] == run["id"]


async def test_cancel_answers_404_for_unknown_runs_and_needs_the_token(
    app_client: AppClient,
) -> None:
    client = await app_client(feeds=())
    await post(client, f"/api/imports/{UNKNOWN_RUN}/cancel", 404)
    guarded = await app_client(feeds=(), admin_token=TOKEN)
    for action in ("cancel", "retry"):
        answer = await post(guarded, f"/api/imports/{UNKNOWN_RUN}/{action}", 401)
        assert answer["error"]["code"] == "unauthorized"


async def test_jobs_status_filter_is_validated(app_client: AppClient) -> None:
    client = await app_client(feeds=())
    assert (await get_json(client, "/api/jobs", status="expired"))["total"] == 0
    answer = await get_json(client, "/api/jobs", expect=400, status="gone")
    assert answer["error"]["details"]["parameter"] == "status"


async def test_cancel_of_a_run_being_closed_says_so(
    feeds: FeedServer, app_client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MongoDB refuses to cancel a run whose last batch has claimed its close (it is still in
    flight for a moment); the answer says that, not that the run ended."""
    url = feeds.put("/slow", rss(items(range(1, 3))))
    gate = feeds.gate("/slow")
    client = await app_client(feeds=(url,))

    async def held() -> bool:
        return feeds.waiting.get("/slow") == 1

    await wait_until(held, within=10, what="the start-up run's fetch at the gate")
    (run,) = (await get_json(client, "/api/imports"))["items"]

    async def claimed_by_its_closer(run_id: str) -> None:
        return None  # what MongoStore.cancel_run answers while a close is claimed

    monkeypatch.setattr(client.app[keys.STORE], "cancel_run", claimed_by_its_closer)
    answer = await post(client, f"/api/imports/{run['id']}/cancel", 409)
    assert answer["error"]["code"] == "run_closing"
    assert answer["error"]["details"]["status"] == "running"
    gate.set()
    (done,) = await settled(client, 1)
    assert done["status"] == "succeeded"
