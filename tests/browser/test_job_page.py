"""A job's page in Chromium: the description is shown as (sanitized) HTML, and nothing a feed
wrote runs: no `<script>`, no event-handler attributes, and other fields stay text."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.admin.support import settled
from tests.browser.conftest import StartApp
from tests.feedgen import Item, rss
from tests.feedserver import FeedServer

HOSTILE = Item(
    id=4242,
    title="Hostile &lt;i&gt;title&lt;/i&gt; job",
    company='&lt;img src="data:," onerror="window.__xss = \'company\'"&gt;',
    description=(
        "<p onclick=\"document.title = 'clicked'\">Hello <b>there</b></p>"
        "<script>document.title = 'pwned'; window.__xss = 'script';</script>"
        '<img src="data:," onerror="window.__xss = \'img\'">'
        "<a href=\"javascript:window.__xss = 'link'\">a link</a>"
    ),
)


async def test_a_hostile_description_does_not_execute(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    live = await start_app(feeds=(feeds.put("/hostile", rss([HOSTILE])),))
    await settled(live.client, 1)
    async with live.client.get("/api/jobs") as resp:
        (job,) = (await resp.json())["items"]
    await page.goto(live.url(f"/jobs/{job['id']}"), wait_until="load")

    description = page.locator("[data-description]")
    await expect(description).to_contain_text("Hello there")
    await expect(description.locator("b")).to_have_text("there")  # real HTML, not escaped text
    await expect(description.locator("script")).to_have_count(0)
    await expect(description.locator("[onclick], [onerror]")).to_have_count(0)
    assert await description.locator("a").get_attribute("href") is None  # javascript: dropped
    await description.locator("p").click()
    await description.locator("a").click()
    assert await page.evaluate("window.__xss") is None
    await expect(page).to_have_title("Hostile title job · jobimport")
    # Other feed fields are text: the company's markup is shown, not run.
    await expect(page.locator("header").filter(has_text="Hostile")).to_contain_text(
        '<img src="data:," onerror="window.__xss = \'company\'">'
    )
