"""The task queue panel of the history page in Chromium: the counts of the real in-process queue
as a run is held in flight and then finishes; an answer rendered in full (kinds, totals, the
oldest waiting task); one request at a time however often a refresh is asked for; the error
state."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Page, Route, expect

from tests.browser.conftest import StartApp, open_live
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until

# Counts concurrent /api/queue requests in the page (the panel must never overlap them).
COUNT_QUEUE_FETCHES = """
(() => {
  const original = window.fetch;
  window.__queue = { open: 0, max: 0, total: 0 };
  window.fetch = async (...args) => {
    const url = String(args[0]?.url || args[0]);
    if (!url.includes("/api/queue")) return original(...args);
    const q = window.__queue;
    q.open += 1; q.total += 1; q.max = Math.max(q.max, q.open);
    try { return await original(...args); } finally { q.open -= 1; }
  };
})();
"""


def snapshot(**batch: int) -> dict[str, Any]:
    zero = {"waiting": 0, "running": 0, "deferred": 0, "failed": 0}
    kinds = {
        "fetch": {**zero, "waiting": 3, "running": 1},
        "batch": {**zero, **batch},
        "tick": dict(zero),
        "other": dict(zero),
    }
    totals = {state: sum(k[state] for k in kinds.values()) for state in zero}
    return {
        "backend": "arq", "kinds": kinds, "totals": totals,
        "oldestWaitingS": 125.0, "failedWindowS": 3600.0,
    }  # fmt: skip


async def test_the_panel_follows_the_real_queue(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    gate = feeds.gate("/feed")
    live = await start_app(feeds=(url,))

    async def held() -> bool:
        return feeds.waiting.get("/feed", 0) > 0

    await wait_until(held, within=10, what="the fetch held at the gate")
    await open_live(page, live.url())
    panel = page.locator("#queue-panel")
    await expect(panel.locator('[data-q="fetch.running"]')).to_have_text("1")
    await expect(panel.locator('[data-q="totals.running"]')).to_have_text("1")
    await expect(panel.locator("[data-queue-state]")).to_have_text("Busy")
    await expect(panel.locator("[data-queue-backend]")).to_have_text("· local queue")
    gate.set()  # the run ends: its events refresh the panel
    await expect(page.locator("#runs-body [data-badge]").first).to_have_text("Succeeded")
    await expect(panel.locator('[data-q="totals.running"]')).to_have_text("0")
    await expect(panel.locator('[data-q="totals.waiting"]')).to_have_text("0")
    await expect(panel.locator("[data-queue-state]")).to_have_text("Idle")
    await expect(panel.locator("[data-queue-oldest]")).to_have_text("Nothing waiting")


async def test_the_panel_renders_an_answer_and_never_overlaps_requests(
    page: Page, start_app: StartApp
) -> None:
    live = await start_app()
    held: list[Route] = []

    async def hold(route: Route) -> None:
        held.append(route)

    await page.add_init_script(COUNT_QUEUE_FETCHES)
    await page.route("**/api/queue", hold)
    await page.goto(live.url(), wait_until="load")
    panel = page.locator("#queue-panel")

    async def requests(n: int) -> bool:
        return len(held) >= n

    await wait_until(lambda: requests(1), within=5, what="the first /api/queue request")
    await expect(panel).to_have_attribute("aria-busy", "true")  # loading: skeleton rows
    await expect(panel.locator("[data-queue-state]")).to_have_text("Loading…")
    # Refreshes asked for while one is on its way wait for it (and run once after it).
    for _ in range(3):
        await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert len(held) == 1

    body = json.dumps(snapshot(waiting=7, running=2, deferred=1, failed=2))
    await held[0].fulfill(status=200, content_type="application/json", body=body)
    await expect(panel.locator('[data-q="batch.waiting"]')).to_have_text("7")
    await expect(panel.locator('[data-q="batch.failed"]')).to_have_text("2")
    await expect(panel.locator('[data-q="fetch.waiting"]')).to_have_text("3")
    await expect(panel.locator('[data-q="totals.waiting"]')).to_have_text("10")
    await expect(panel.locator('[data-q="totals.running"]')).to_have_text("3")
    await expect(panel.locator('[data-kind="batch"] th')).to_have_text("Import batches")
    await expect(panel.locator("[data-queue-oldest]")).to_have_text("Oldest waiting: 2 min 5 s")
    await expect(panel.locator("[data-queue-state]")).to_have_text("Busy")
    await expect(panel.locator("[data-queue-window]")).to_contain_text("the last 1 h 0 min")
    await expect(panel).to_have_attribute("aria-busy", "false")

    await wait_until(lambda: requests(2), within=5, what="the refresh asked for meanwhile")
    await held[1].fulfill(status=200, content_type="application/json", body=json.dumps(snapshot()))
    await expect(panel.locator('[data-q="batch.waiting"]')).to_have_text("0")
    stats = await page.evaluate("window.__queue")
    assert stats["max"] == 1, stats

    # The API fails: the panel says so and keeps the last numbers.
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await wait_until(lambda: requests(3), within=5, what="a third request")
    error = {"error": {"code": "unavailable", "message": "Redis is not answering."}}
    await held[2].fulfill(status=503, content_type="application/json", body=json.dumps(error))
    await expect(panel.locator("[data-queue-error]")).to_contain_text("Redis is not answering.")
    await expect(panel.locator('[data-q="fetch.waiting"]')).to_have_text("3")
    assert (await page.evaluate("window.__queue"))["max"] == 1
