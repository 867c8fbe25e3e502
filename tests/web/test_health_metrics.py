"""/healthz, /readyz, /metrics, the error envelope on unknown routes, and the request id."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from jobimport.web import keys
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import REDIS_URL
from tests.web.conftest import AppClient
from tests.web.test_imports_api import get_json, settled

BAD_ITEM = "<item><link>https://jobicy.com/jobs/77-x</link><id>77</id></item>"


async def test_healthz(app_client: AppClient) -> None:
    client = await app_client()
    assert await get_json(client, "/healthz") == {"status": "ok"}
    assert (await get_json(client, "/healthz", 400, deep="1"))["error"]["details"] == {
        "parameter": "deep",
        "allowed": [],
    }


async def test_readyz_all_in_one(app_client: AppClient) -> None:
    client = await app_client()
    body = await get_json(client, "/readyz")
    assert body == {
        "status": "ok",
        "role": "all",
        "checks": {"store": {"ok": True, "detail": None}, "worker": {"ok": True, "detail": None}},
    }


async def test_readyz_is_503_when_the_store_is_gone(app_client: AppClient) -> None:
    client = await app_client()
    await client.app[keys.STORE].close()  # what a lost database looks like from here
    body = await get_json(client, "/readyz", 503)
    assert body["status"] == "unavailable"
    assert body["checks"]["store"]["ok"] is False
    assert "store" in body["checks"]["store"]["detail"]


async def test_readyz_with_redis_checks_redis_and_worker(
    app_client: AppClient, queue_name: str
) -> None:
    client = await app_client(redis_url=REDIS_URL, queue_name=queue_name)
    processing = client.app[keys.PROCESSING]
    assert processing.worker is not None
    await processing.worker.running.wait()
    body = await get_json(client, "/readyz")
    assert set(body["checks"]) == {"store", "redis", "worker"}
    assert body["status"] == "ok"
    await processing.worker.close()  # the embedded worker stops: not ready any more
    body = await get_json(client, "/readyz", 503)
    assert body["checks"]["worker"]["ok"] is False


async def test_readyz_of_a_web_replica_needs_a_live_worker(
    app_client: AppClient, queue_name: str
) -> None:
    client = await app_client("web", redis_url=REDIS_URL, queue_name=queue_name)
    body = await get_json(client, "/readyz", 503)  # no worker on this queue
    assert body["role"] == "web"
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False
    pool = client.app[keys.QUEUE].pool
    assert pool is not None
    await pool.set(f"{queue_name}:health-check", "alive", ex=60)  # as arq's worker writes it
    assert (await get_json(client, "/readyz"))["status"] == "ok"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def test_metrics(feeds: FeedServer, app_client: AppClient) -> None:
    good = feeds.put("/good", rss(items(range(1, 6))))
    partial = feeds.put("/partial", rss([*items(range(3, 6)), BAD_ITEM]))
    client = await app_client(feeds=(good, partial, feeds.base_url + "/missing"))
    await settled(client, 3)
    async with client.get("/api/events"):
        resp = await client.get("/metrics")
        text = await resp.text()
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    values = samples(text)
    assert values[("jobimport_runs", (("status", "succeeded"),))] == 1
    assert values[("jobimport_runs", (("status", "partial"),))] == 1
    assert values[("jobimport_runs", (("status", "failed"),))] == 1
    assert values[("jobimport_runs", (("status", "queued"),))] == 0
    assert values[("jobimport_items_total", (("outcome", "new"),))] == 5
    assert values[("jobimport_items_total", (("outcome", "unchanged"),))] == 3
    assert values[("jobimport_items_total", (("outcome", "failed"),))] == 1
    assert values[("jobimport_jobs", ())] == 5
    assert values[("jobimport_queue_depth", ())] == 0
    assert values[("jobimport_sse_clients", ())] == 1
    assert values[("jobimport_fetch_duration_seconds_count", ())] == 3
    assert ("jobimport_info", (("role", "all"), ("version", "0.1.0"))) in values
    assert all(name.startswith("jobimport_") for name, _ in values)


async def test_unknown_routes_and_methods_use_the_envelope(app_client: AppClient) -> None:
    client = await app_client()
    resp = await client.get("/api/nothing-here")
    body: dict[str, Any] = await resp.json()
    assert resp.status == 404
    assert body["error"]["code"] == "not_found"
    resp = await client.delete("/api/imports")
    body = await resp.json()
    assert resp.status == 405
    assert body["error"]["code"] == "method_not_allowed"
    assert "GET" in body["error"]["details"]["allowed"]


async def test_request_id_is_echoed_or_made(app_client: AppClient) -> None:
    client = await app_client()
    resp = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    resp = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])
    resp = await client.get("/api/imports?limit=0")
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


async def test_the_api_page(app_client: AppClient) -> None:
    client = await app_client(admin_token="x" * 20)
    page = await client.get("/api/docs")
    html = await page.text()
    assert page.headers["Content-Type"].startswith("text/html")
    assert "GET" in html
    assert "/api/imports/{id}" in html
    assert "<script" not in html  # server-rendered, nothing loaded from anywhere
    assert "Authorization: Bearer" in html
