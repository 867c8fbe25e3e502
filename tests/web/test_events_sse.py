"""/api/events: an SSE client (aiohttp reading the stream) sees a real import's events, resumes
with Last-Event-ID, gets keep-alives; with Redis, another replica resumes the same stream."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient

from jobimport.models import FeedState
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.web.app import create_app
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import REDIS_URL
from tests.web.conftest import AppClient
from tests.web.support import SseEvent, SseReader, finished
from tests.web.test_imports_api import settled

Client = TestClient[Any, Any]


async def start_import(client: Client, url: str) -> str:
    resp = await client.post("/api/imports", json={"feeds": [url]})
    assert resp.status == 202
    run_id: str = (await resp.json())["runs"][0]["id"]
    return run_id


def of_run(events: list[SseEvent], run_id: str) -> list[SseEvent]:
    return [e for e in events if e.data["run"]["id"] == run_id]


async def check_live_then_resume(
    client: Client, url: str, resume_with: Client, *, first_import: bool = False
) -> None:
    async with client.get("/api/events") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        reader = SseReader(resp)
        await reader.connected()
        assert reader.retry == 2000
        run_id = await start_import(client, url)
        events = of_run(await reader.until(finished(run_id)), run_id)
    kinds = [e.event for e in events]
    assert kinds == ["run.queued", "run.started", *["run.progress"] * 4, "run.finished"], kinds
    assert all(e.event == e.data["type"] for e in events)
    progress = [e.data["run"] for e in events if e.event == "run.progress"]
    assert [p["batchesDone"] for p in progress] == [1, 2, 3, 4]
    assert {p["batchesTotal"] for p in progress} == {4}
    # Counters tick per batch: batches of 3, 3, 3 and 1 items, applied in any order (the queue
    # runs a run's batches concurrently).
    fetched = [0, *(p["totalFetched"] for p in progress)]
    assert sorted(b - a for a, b in itertools.pairwise(fetched)) == [1, 3, 3, 3]
    last = events[-1].data["run"]
    # Unless this is the feed's first import, an earlier run stored these jobs already.
    outcome = "newJobs" if first_import else "unchangedJobs"
    assert (last["status"], last["totalFetched"], last[outcome]) == ("succeeded", 10, 10)

    # A client that saw up to run.started reconnects and gets exactly what it missed.
    started = events[1]
    assert started.id is not None
    async with resume_with.get("/api/events", headers={"Last-Event-ID": started.id}) as again:
        missed = of_run(await SseReader(again).until(finished(run_id)), run_id)
    assert [(e.id, e.event) for e in missed] == [(e.id, e.event) for e in events[2:]]


async def test_sse_shows_a_real_import_and_resumes(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 11))), validators=False)
    client = await app_client(feeds=(url,), batch_size=3)
    await settled(client, 1)  # the start-up run (the feed is due at once)
    await check_live_then_resume(client, url, client)


async def test_sse_through_redis_any_replica_resumes(
    feeds: FeedServer, app_client: AppClient, aiohttp_client: Any, web_settings: Any,
    queue_name: str,
) -> None:  # fmt: skip
    url = feeds.put("/feed", rss(items(range(1, 11))), validators=False)
    common = {"redis_url": REDIS_URL, "queue_name": queue_name, "batch_size": 3}
    settings = web_settings(feeds=(url,), **common)
    await not_due(settings, url)  # only this test starts runs: no cron tick in between
    client = await app_client(feeds=(url,), **common)
    # A second, web-only replica on the same Redis and store: it streams what the first does.
    other: Client = await aiohttp_client(create_app(settings, "web"))
    async with other.get("/api/events") as remote:
        remote_reader = SseReader(remote)
        await remote_reader.connected()
        await check_live_then_resume(client, url, other, first_import=True)
        seen = await remote_reader.until(lambda e: e.event == "run.finished")
    assert [e.event for e in seen][-1] == "run.finished"
    ids = [e.id for e in seen]
    assert all(i is not None and "-" in i for i in ids)  # Redis Stream ids


async def not_due(settings: Settings, url: str) -> None:
    """Mark the feed as imported a moment ago, so the scheduler leaves it alone for a day."""
    store = open_store(settings.database_url)
    await store.open()
    try:
        later = datetime.now(UTC) + timedelta(days=1)
        await store.save_feed_run_state(FeedState(url=url, next_run_at=later))
    finally:
        await store.close()


async def test_keep_alive_comments(app_client: AppClient) -> None:
    client = await app_client(sse_keepalive_s=0.05)
    async with client.get("/api/events") as resp:
        reader = SseReader(resp)
        await reader.connected()
        await reader.wait_comment("ping", count=2, within=5)


async def test_a_garbage_last_event_id_is_a_fresh_stream(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))), validators=False)
    client = await app_client(feeds=(url,))
    await settled(client, 1)
    # A 5,000-digit number is past what int() reads (4,300 digits); `²` is a digit int() refuses.
    with structlog.testing.capture_logs() as logs:
        for bad in ["not-an-id", "99999999", "\u00e9", "9" * 5000, "\u00b2"]:
            async with client.get("/api/events", headers={"Last-Event-ID": bad}) as resp:
                reader = SseReader(resp)
                await reader.connected()
                run_id = await start_import(client, url)
                events = await reader.until(finished(run_id))
                assert events[0].event == "run.queued"
                await settled(client, 1)
    assert not [e for e in logs if e["log_level"] in ("error", "critical")], logs


async def test_events_refuses_parameters(app_client: AppClient) -> None:
    client = await app_client()
    resp = await client.get("/api/events?run=1")
    assert resp.status == 400
    assert (await resp.json())["error"]["details"]["parameter"] == "run"


async def test_streams_end_when_the_server_stops(app_client: AppClient) -> None:
    client = await app_client(sse_keepalive_s=60)
    url = client.make_url("/api/events")
    async with ClientSession() as http, http.get(url) as resp:
        reader = SseReader(resp)
        await reader.connected()
        # Shutdown: on_shutdown stops every stream at once (else the server waits 60 s on it).
        closing = asyncio.create_task(client.server.close())
        try:
            assert await reader.next(within=5) is None
        finally:
            await asyncio.wait_for(closing, 5)
