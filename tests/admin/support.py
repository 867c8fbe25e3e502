"""Helpers of the admin tests: waiting for runs to settle, and formatting examples that both
admin/format.py and static/js/format.js must agree on."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.support import wait_until
from tests.web.support import tasks_running

# (URL, short form) — admin/format.py short_url and format.js shortUrl.
SHORT_URLS = [
    ("https://jobicy.com/?feed=job_feed", "jobicy.com/?feed=job_feed"),
    ("https://www.higheredjobs.com/rss/articleFeed.cfm", "higheredjobs.com/rss/articleFeed.cfm"),
    ("http://127.0.0.1:8080/feed/", "127.0.0.1:8080/feed"),
    (
        "https://jobicy.com/?feed=job_feed&job_categories=seller&job_types=full-time"
        "&search_region=france",
        "jobicy.com/?feed=job_fe…ime&search_region=france",
    ),
]
# (seconds ago, text) — format.ago and format.js ago; negative is the future.
AGO = [
    (0, "just now"), (4, "just now"), (42, "42 s ago"), (300, "5 min ago"), (3599, "59 min ago"),
    (3 * 3600, "3 h ago"), (2 * 86400 + 5, "2 d ago"), (-300, "in 5 min"), (-2, "in a moment"),
]  # fmt: skip
# (milliseconds, text) — format.duration and format.js duration.
DURATIONS = [
    (None, "—"), (850, "850 ms"), (12_345, "12.3 s"), (184_000, "3 min 4 s"),
    (3_720_000, "1 h 2 min"),
]  # fmt: skip


async def settled(
    client: TestClient[Any, Any], runs: int, token: str | None = None
) -> list[dict[str, Any]]:
    """Wait until at least `runs` runs exist, none is in flight and no task of the in-process queue
    is still running (see tests.web.test_imports_api.settled); returns them, newest first."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def done() -> list[dict[str, Any]] | None:
        async with client.get("/api/imports", params={"limit": "100"}, headers=headers) as resp:
            page = await resp.json()
        in_flight = [r for r in page["items"] if r["status"] in ("queued", "running")]
        if page["total"] < runs or in_flight or tasks_running(client):
            return None
        items: list[dict[str, Any]] = page["items"]
        return items

    items: list[dict[str, Any]] = await wait_until(done, within=20, what=f"{runs} settled runs")
    return items
