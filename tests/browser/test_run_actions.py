"""A run's page in Chromium: "Retry" on a finished run opens the new run (linked back to the one
it retries), "Cancel import" stops a run in flight, and a retried run follows live to its end."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from tests.admin.support import settled
from tests.browser.conftest import Live, StartApp, open_live
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until

RUN_PAGE = re.compile(r"/imports/([0-9a-f]{24})$")


async def get_run(live: Live, run_id: str) -> dict[str, Any]:
    async with live.client.get(f"/api/imports/{run_id}") as resp:
        assert resp.status == 200, await resp.text()
        run: dict[str, Any] = await resp.json()
        return run


async def run_on_page(page: Page, other_than: str) -> str:
    """The run id of the page, once the browser has moved on from `other_than`."""
    await expect(page).not_to_have_url(re.compile(f"/imports/{other_than}$"))
    await expect(page).to_have_url(RUN_PAGE)
    match = RUN_PAGE.search(page.url)
    assert match
    return match.group(1)


async def test_retry_opens_the_new_run_and_cancel_stops_it(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    live = await start_app(feeds=(url,))
    (first,) = await settled(live.client, 1)
    gate = feeds.gate("/feed")  # the retry's fetch waits: it stays in flight
    await open_live(page, live.url(f"/imports/{first['id']}"))
    await expect(page.locator('[data-f="expiredJobs"]')).to_have_text("0")
    await expect(page.get_by_role("button", name="Cancel import")).to_have_count(0)

    await page.get_by_role("button", name="Retry").click()
    retry_id = await run_on_page(page, first["id"])
    retry_of = page.locator("[data-retry-of]")
    await expect(retry_of).to_contain_text(f"Retry of {first['id']}")
    await expect(retry_of.get_by_role("link")).to_have_attribute("href", f"/imports/{first['id']}")
    assert (await get_run(live, retry_id))["retryOf"] == first["id"]

    async def held() -> bool:
        return feeds.waiting.get("/feed", 0) > 0

    await wait_until(held, within=10, what="the retry's fetch held at the gate")
    detail = page.locator("#run-detail")
    await expect(detail.locator("[data-badge]").first).to_have_text(re.compile("Queued|Running"))
    await expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    await page.get_by_role("button", name="Cancel import").click()
    await expect(detail.locator("[data-badge]").first).to_have_text("Cancelled")
    await expect(page.locator("[data-cancelled-note]")).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel import")).to_have_count(0)
    assert (await get_run(live, retry_id))["status"] == "cancelled"
    gate.set()

    # Retrying the cancelled run imports the feed again; the page follows it to its end.
    feeds.put("/feed", rss(items(range(1, 5))))  # one more job (not a 304)
    await page.get_by_role("button", name="Retry").click()
    again_id = await run_on_page(page, retry_id)
    await expect(page.locator("[data-retry-of]")).to_contain_text(f"Retry of {retry_id}")
    await expect(page.locator("#run-detail [data-badge]").first).to_have_text("Succeeded")
    await expect(page.locator('[data-f="newJobs"]')).to_have_text("1")
    await expect(page.locator('[data-f="unchangedJobs"]')).to_have_text("3")
    assert (await get_run(live, again_id))["trigger"] == "retry"


async def test_retry_says_why_when_the_feed_is_busy(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    live = await start_app(feeds=(url,))
    (first,) = await settled(live.client, 1)
    gate = feeds.gate("/feed")
    async with live.client.post("/api/imports", json={"feeds": [url]}) as resp:
        assert resp.status == 202
        (busy,) = (await resp.json())["runs"]
    await open_live(page, live.url(f"/imports/{first['id']}"))
    await page.get_by_role("button", name="Retry").click()
    banner = page.locator("#error-banner")
    await expect(banner).to_be_visible()
    await expect(banner.locator("[data-error-title]")).to_have_text("Couldn’t retry this import.")
    await expect(page.locator("#toast").get_by_role("link", name="Open it")).to_have_attribute(
        "href", f"/imports/{busy['id']}"
    )
    await expect(page).to_have_url(live.url(f"/imports/{first['id']}"))
    gate.set()
    await settled(live.client, 2)
