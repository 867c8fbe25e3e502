"""A frozen Redis (issue 14, item 4): a redis-server of the test's own, stopped with SIGSTOP (its
port still accepts connections, nothing answers), under the service on a real socket.

While it is frozen, `GET /api/queue`, `POST /api/imports` and `POST /api/imports/{id}/retry` answer
503 `queue_unavailable` within JOBIMPORT_REDIS_TIMEOUT_S, `/readyz` reports Redis down and
`/metrics` still answers; an open `/api/events` stream stays open, and after SIGCONT it carries
the events published since."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import RedisProcess, wait_until
from tests.web.conftest import AppClient
from tests.web.support import SseReader, finished

pytestmark = pytest.mark.slow

TIMEOUT_S = 0.5
"""JOBIMPORT_REDIS_TIMEOUT_S here; each answer must come within it plus this margin:"""
MARGIN_S = 1.0
REQUEST_BOUND_S = 10.0


async def timed(
    client: TestClient[Any, Any], method: str, path: str, **kwargs: Any
) -> tuple[int, Any, float]:
    """(status, JSON body, seconds); a request that hangs fails the test after REQUEST_BOUND_S."""
    started = time.monotonic()
    bound = aiohttp.ClientTimeout(total=REQUEST_BOUND_S)
    async with client.request(method, path, timeout=bound, **kwargs) as resp:
        body = await resp.json()
        return resp.status, body, time.monotonic() - started


async def test_a_frozen_redis_gets_503s_and_the_stream_catches_up(
    private_redis: RedisProcess, app_client: AppClient, feeds: FeedServer
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    client = await app_client(
        redis_url=private_redis.url,
        queue_name="frozen",
        redis_timeout_s=TIMEOUT_S,
        sse_keepalive_s=0.5,
    )
    # Paused, so the worker's tick never starts it: only the imports asked for below run.
    status, _, _ = await timed(client, "POST", "/api/feeds", json={"url": url, "paused": True})
    assert status == 201
    status, body, _ = await timed(client, "GET", "/readyz")
    assert status == 200, body

    async with client.get("/api/events") as stream:
        reader = SseReader(stream)
        await reader.connected()
        # A finished run, to ask for its retry while Redis is frozen.
        status, body, _ = await timed(client, "POST", "/api/imports", json={"feeds": [url]})
        assert status == 202, body
        first = body["runs"][0]["id"]
        await reader.until(finished(first), within=20)
        private_redis.freeze()
        try:
            status, body, took = await timed(client, "GET", "/api/queue")
            assert (status, body["error"]["code"]) == (503, "queue_unavailable"), body
            assert took < TIMEOUT_S + MARGIN_S, took

            status, body, took = await timed(client, "POST", "/api/imports", json={"feeds": [url]})
            assert (status, body["error"]["code"]) == (503, "queue_unavailable"), body
            assert took < TIMEOUT_S + MARGIN_S, took

            status, body, took = await timed(client, "POST", f"/api/imports/{first}/retry")
            assert (status, body["error"]["code"]) == (503, "queue_unavailable"), body
            assert took < TIMEOUT_S + MARGIN_S, took

            status, body, took = await timed(client, "GET", "/readyz")
            assert status == 503, body
            assert body["checks"]["redis"]["ok"] is False
            assert body["checks"]["store"]["ok"] is True
            assert took < TIMEOUT_S + MARGIN_S, took

            started = time.monotonic()
            async with client.get(
                "/metrics", timeout=aiohttp.ClientTimeout(total=REQUEST_BOUND_S)
            ) as resp:
                text = await resp.text()
                assert resp.status == 200
            assert "jobimport_jobs " in text
            assert "jobimport_queue_depth" not in text
            assert time.monotonic() - started < TIMEOUT_S + MARGIN_S

            # The stream is still open: keep-alive comments keep arriving while Redis is frozen.
            pings = reader.comments.count("ping")
            await reader.wait_comment("ping", count=pings + 2, within=5)
        finally:
            private_redis.resume()

        # Redis is back: an import starts again, and its event reaches the open stream.
        async def accepted() -> Any:
            status, body, _ = await timed(client, "POST", "/api/imports", json={"feeds": [url]})
            return body if status == 202 else None

        body = await wait_until(accepted, within=15, what="POST /api/imports to answer 202")
        run_id = body["runs"][0]["id"]
        seen = await reader.until(
            lambda e: e.event == "run.queued" and e.data["run"]["id"] == run_id, within=20
        )
        assert seen[-1].id
        assert "-" in seen[-1].id

    status, body, _ = await timed(client, "GET", "/api/queue")
    assert status == 200, body
    status, body, _ = await timed(client, "GET", "/readyz")
    assert status == 200, body
