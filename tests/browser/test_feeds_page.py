"""The feeds page in Chromium: the "Add feed" dialog previews a feed served on loopback (its
items, its failed items, a feed that cannot be read, the request headers it is sent), asks for
the admin token once, adds the feed and lists it; pause and resume; delete after confirming;
the table as cards on a phone."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.admin.support import settled
from tests.browser.conftest import PHONE, Live, StartApp, open_live
from tests.feedgen import items, rss
from tests.feedserver import FeedServer

TOKEN = "browser-admin-token-0123456789"
BAD_ITEM = "<item><title></title><link>https://x.test/no-title</link></item>"
SECRET = "s3cret-feed-token-value"


async def api_feeds(live: Live) -> list[dict[str, Any]]:
    async with live.client.get("/api/feeds") as resp:
        assert resp.status == 200, await resp.text()
        items: list[dict[str, Any]] = (await resp.json())["items"]
        return items


async def test_add_feed_previews_it_then_adds_it_to_the_list(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    configured = feeds.put("/config", rss(items(range(1, 3))))
    new = feeds.put("/new", rss([*items(range(1, 13)), BAD_ITEM]))  # 12 jobs, 1 failed item
    live = await start_app(feeds=(configured,), admin_token=TOKEN)
    await settled(live.client, 1, token=TOKEN)
    await open_live(page, live.url("/feeds"))
    await expect(page.locator("#feeds-table tbody tr")).to_have_count(1)

    await page.locator("[data-add-feed]").first.click()
    dialog = page.locator("#feed-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Feed URL")).to_be_focused()
    error = dialog.locator("[data-feed-error]")
    preview = dialog.locator("[data-preview]")

    await dialog.get_by_label("Feed URL").fill("example.com/feed")
    await dialog.get_by_role("button", name="Preview").click()
    await expect(error).to_contain_text("starting with http:// or https://")
    await dialog.get_by_label("Feed URL").fill(new)
    await dialog.get_by_label("Request headers").fill(f"X-Feed-Token: {SECRET}\nno colon here")
    await dialog.get_by_role("button", name="Preview").click()
    await expect(error).to_contain_text("line 2")
    await dialog.get_by_label("Request headers").fill(f"X-Feed-Token: {SECRET}")

    # The first write asks for the token; a wrong one is refused and asked for again.
    await dialog.get_by_role("button", name="Preview").click()
    token = page.locator("#token-dialog")
    await expect(token).to_be_visible()
    await token.get_by_label("Admin token").fill("not-the-token-at-all")
    await token.get_by_role("button", name="Continue").click()
    await expect(token.locator("[data-token-error]")).to_contain_text("not accepted")
    await token.get_by_label("Admin token").fill(TOKEN)
    await token.get_by_role("button", name="Continue").click()
    await expect(token).to_be_hidden()

    await expect(preview.locator("[data-preview-total]")).to_have_text("13")
    await expect(preview.locator("[data-preview-summary]")).to_contain_text("1 failed")
    rows = preview.locator("[data-preview-item]")
    await expect(rows).to_have_count(10)  # the first items only
    await expect(preview).to_contain_text("The first 10 of 12 items")
    first = rows.first
    await expect(first.get_by_role("link", name="Job number 1")).to_have_attribute(
        "href", "https://jobicy.com/jobs/1-job-number-1"
    )
    await expect(first).to_contain_text("Acme & Co")
    await expect(first).to_contain_text("Anywhere")
    failure = preview.locator("[data-preview-failure]")
    await expect(failure).to_have_count(1)
    await expect(failure).to_contain_text("missing_title")
    await expect(preview.locator("[data-preview-error]")).to_have_count(0)
    assert feeds.headers["/new"][-1].get("X-Feed-Token") == SECRET
    assert [f["url"] for f in await api_feeds(live)] == [configured]  # nothing stored

    # A feed that cannot be read: the feed-level error, clearly.
    await dialog.get_by_label("Feed URL").fill(feeds.base_url + "/missing")
    await expect(preview).to_be_hidden()  # a preview is of what was typed
    await dialog.get_by_role("button", name="Preview").click()
    feed_error = preview.locator("[data-preview-error]")
    await expect(feed_error).to_contain_text("The feed could not be read")
    await expect(feed_error).to_contain_text("HTTP 404")
    await expect(preview.locator("[data-preview-total]")).to_have_text("0")

    await dialog.get_by_label("Feed URL").fill(new)
    await dialog.get_by_label("Name").fill("New remote jobs")
    await dialog.get_by_label("Schedule").fill("45m")
    await dialog.get_by_role("button", name="Add feed").click()
    await expect(dialog).to_be_hidden()
    added = page.locator(f'#feeds-table tr[data-feed="{new}"]')
    await expect(added).to_be_visible()
    await expect(added.locator("[data-feed-name]")).to_have_text("New remote jobs")
    await expect(added.locator("[data-origin-badge]")).to_have_text("added")
    await expect(added.locator("[data-header-name]")).to_have_text("X-Feed-Token")
    await expect(added.locator("[data-schedule]")).to_contain_text("45m")
    await expect(page.locator("#toast")).to_contain_text("Added New remote jobs")
    assert SECRET not in await page.content()
    stored = {f["url"]: f for f in await api_feeds(live)}
    assert stored[new]["headerNames"] == ["X-Feed-Token"]
    assert (stored[new]["name"], stored[new]["schedule"]) == ("New remote jobs", "45m")

    # The same URL again: the API's 409 message, in the dialog (no token asked: it is kept).
    await page.locator("[data-add-feed]").first.click()
    await dialog.get_by_label("Feed URL").fill(new)
    await dialog.get_by_role("button", name="Add feed").click()
    await expect(error).to_contain_text("already a feed")
    await expect(dialog).to_be_visible()
    # A value only the API can judge: its 400 message is shown as it is.
    await dialog.get_by_label("Feed URL").fill(feeds.base_url + "/other")
    await dialog.get_by_label("Schedule").fill("every other tuesday")
    await dialog.get_by_role("button", name="Add feed").click()
    await expect(error).to_contain_text("every other tuesday")
    assert len(await api_feeds(live)) == 2


async def add_via_api(live: Live, url: str, **body: Any) -> dict[str, Any]:
    async with live.client.post("/api/feeds", json={"url": url, **body}) as resp:
        assert resp.status == 201, await resp.text()
        feed: dict[str, Any] = await resp.json()
        return feed


async def test_pause_resume_and_delete_after_confirming(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    configured = feeds.put("/config", rss(items(range(1, 3))))
    live = await start_app(feeds=(configured,))
    await settled(live.client, 1)
    added = await add_via_api(live, feeds.put("/added", rss(items(range(5, 7)))), name="Extra")
    await open_live(page, live.url("/feeds"))

    row = page.locator(f'tr[data-feed-id="{added["id"]}"]')
    toggle = row.locator("[data-feed-toggle]")
    await expect(toggle).to_have_text("Pause")
    await toggle.click()
    await expect(row).to_have_attribute("data-paused", "true")
    await expect(row.locator("[data-paused-badge]")).to_be_visible()
    await expect(row.locator("[data-next-run]")).to_have_text("paused")
    await expect(toggle).to_have_text("Resume")
    await expect(toggle).to_be_focused()  # the keyboard stays where it was
    assert {f["id"]: f["paused"] for f in await api_feeds(live)}[added["id"]] is True
    await toggle.click()
    await expect(row).to_have_attribute("data-paused", "false")
    await expect(row.locator("[data-paused-badge]")).to_have_count(0)
    assert {f["id"]: f["paused"] for f in await api_feeds(live)}[added["id"]] is False

    config_row = page.locator(f'tr[data-feed="{configured}"]')
    await expect(config_row.locator("[data-feed-toggle]")).to_be_visible()
    await expect(config_row.locator("[data-feed-delete]")).to_have_count(0)

    confirm = page.locator("#delete-dialog")
    await row.get_by_role("button", name="Delete Extra").click()
    await expect(confirm).to_be_visible()
    await expect(confirm).to_contain_text("Delete Extra?")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_be_hidden()
    await expect(row).to_be_visible()
    assert len(await api_feeds(live)) == 2

    await row.get_by_role("button", name="Delete Extra").click()
    await confirm.get_by_role("button", name="Delete feed").click()
    await expect(confirm).to_be_hidden()
    await expect(row).to_have_count(0)
    await expect(page.locator("#toast")).to_contain_text("Deleted Extra")
    assert [f["url"] for f in await api_feeds(live)] == [configured]


async def test_the_feeds_table_becomes_cards_on_a_phone(
    browser: Browser, feeds: FeedServer, start_app: StartApp
) -> None:
    configured = feeds.put("/config", rss(items(range(1, 3))))
    live = await start_app(feeds=(configured,))
    await settled(live.client, 1)
    await add_via_api(live, feeds.put("/added", rss(items(range(5, 7)))), headers={"X-K": "v"})
    context = await browser.new_context(viewport=PHONE)
    phone = await context.new_page()
    try:
        await phone.goto(live.url("/feeds"), wait_until="load")
        card = phone.locator(f'tr[data-feed="{configured}"]')
        await expect(card.locator("[data-feed-toggle]")).to_be_visible()
        assert await card.evaluate("el => getComputedStyle(el).display") == "grid"
        assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await phone.locator("[data-add-feed]").first.click()
        dialog = phone.locator("#feed-dialog")
        await expect(dialog).to_be_visible()
        box = await dialog.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        await expect(dialog.get_by_role("button", name="Preview")).to_be_in_viewport()
    finally:
        await context.close()
