"""The import history in Chromium: real runs in the table, sorting and filtering through the
URL, an import started from the page coming alive without a reload, the state when the server
goes away, and cards on a phone."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, Route, expect

from jobimport.models import RunStatus
from jobimport.web.admin import format as fmt
from tests.admin.support import AGO, DURATIONS, SHORT_URLS, settled
from tests.browser.conftest import PHONE, Live, StartApp, open_live
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until
from tests.web.support import SseReader, finished

TOKEN = "browser-admin-token-0123456789"
BAD_ITEM = "<item><title></title><link>https://x.test/no-title</link></item>"


async def three_feeds(
    feeds: FeedServer, start_app: StartApp
) -> tuple[Live, dict[str, dict[str, Any]]]:
    """good (4 new), partial (2 new, 1 failed), missing (404): imported at start-up."""
    urls = {
        "good": feeds.put("/good", rss(items(range(1, 5)))),
        "partial": feeds.put("/partial", rss([*items(range(10, 12)), BAD_ITEM])),
        "missing": feeds.base_url + "/missing",
    }
    live = await start_app(feeds=tuple(urls.values()))
    runs = {run["fileName"]: run for run in await settled(live.client, 3)}
    return live, {name: runs[u] for name, u in urls.items()}


def row(page: Page, run_id: str) -> Any:
    return page.locator(f'tr[data-run-id="{run_id}"]')


async def test_table_shows_real_runs_and_sorting_and_filtering_change_rows_and_url(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    live, runs = await three_feeds(feeds, start_app)
    await open_live(page, live.url())
    body = page.locator("#runs-body tr")
    await expect(body).to_have_count(3)
    partial = row(page, runs["partial"]["id"])
    await expect(partial.locator('[data-f="newJobs"]')).to_have_text("2")
    await expect(partial.locator('[data-f="failedJobs"]')).to_have_text("1")
    await expect(partial.locator("[data-badge]")).to_have_text("Partial")
    await expect(row(page, runs["missing"]["id"]).locator("[data-badge]")).to_have_text("Failed")

    new_header = page.locator('th[data-sort-key="newJobs"]')
    await new_header.locator("a").click()
    await expect(page).to_have_url(live.url("/?sort=newJobs"))
    await expect(new_header).to_have_attribute("aria-sort", "descending")
    await expect(body.first).to_have_attribute("data-run-id", runs["good"]["id"])
    await new_header.locator("a").click()
    await expect(page).to_have_url(live.url("/?sort=newJobs&order=asc"))
    await expect(new_header).to_have_attribute("aria-sort", "ascending")
    await expect(body.first).to_have_attribute("data-run-id", runs["missing"]["id"])
    await expect(page.locator('th[data-sort-key="createdAt"]')).to_have_attribute(
        "aria-sort", "none"
    )

    await page.select_option("#f-status", "failed")
    await expect(page).to_have_url(live.url("/?sort=newJobs&order=asc&status=failed"))
    await expect(body).to_have_count(1)
    await page.reload(wait_until="load")  # the view survives a reload
    await expect(body).to_have_count(1)
    await expect(page.locator("#f-status")).to_have_value("failed")
    await expect(new_header).to_have_attribute("aria-sort", "ascending")
    await page.go_back()
    await expect(body).to_have_count(3)
    await page.locator('input[name="withFailures"]').check()
    await expect(page).to_have_url(live.url("/?sort=newJobs&order=asc&withFailures=1"))
    await expect(body).to_have_count(2)  # partial (an item failed) and missing (the feed did)


async def test_run_now_asks_for_the_token_and_the_new_row_comes_alive_without_reload(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    feed = feeds.put("/live", rss(items(range(1, 3))))
    live = await start_app(feeds=(feed,), admin_token=TOKEN, batch_size=5)
    (first,) = await settled(live.client, 1)
    feeds.put("/live", rss(items(range(1, 41))))  # 38 more jobs, 8 batches
    gate = feeds.gate("/live")  # the next fetch waits until the test opens it
    await open_live(page, live.url())
    await page.evaluate("window.__sameDocument = true")
    await expect(page.locator("#runs-body tr")).to_have_count(1)

    await page.get_by_role("button", name="Run now").first.click()
    dialog = page.locator("#run-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Admin token").fill("not-the-token-at-all")
    await dialog.get_by_role("button", name="Start import").click()
    await expect(dialog.locator("[data-run-error]")).to_contain_text("not accepted")
    await dialog.get_by_label("Admin token").fill(TOKEN)
    await dialog.get_by_role("button", name="Start import").click()
    await expect(dialog).to_be_hidden()

    rows = page.locator("#runs-body tr")
    await expect(rows).to_have_count(2)
    new_row = rows.first
    assert await new_row.get_attribute("data-run-id") != first["id"]
    await expect(new_row.locator("[data-progress]")).to_be_visible()  # in flight, held at the gate
    await expect(new_row.locator('[data-f="newJobs"]')).to_have_text("0")

    gate.set()
    await expect(new_row.locator('[data-f="newJobs"]')).to_have_text("38")
    await expect(new_row.locator('[data-f="unchangedJobs"]')).to_have_text("2")
    await expect(new_row.locator("[data-badge]")).to_have_text("Succeeded")
    await expect(new_row.locator("[data-progress]")).to_be_hidden()
    assert await page.evaluate("window.__sameDocument") is True  # no reload happened
    await expect(page.locator("#hourly-chart")).to_contain_text("New 40")  # the chart followed


async def test_skeleton_rows_while_loading_then_the_empty_state(
    page: Page, start_app: StartApp
) -> None:
    live = await start_app()
    await open_live(page, live.url())
    empty = page.locator("#empty")
    await expect(empty).to_contain_text("No imports yet")
    await expect(empty.get_by_role("button", name="Run now")).to_be_visible()

    held: list[Route] = []

    async def hold(route: Route) -> None:
        held.append(route)

    await page.route("**/api/imports?*", hold)
    await page.select_option("#f-status", "failed")
    await expect(page.locator("#runs-body tr.skeleton-row").first).to_be_visible()
    await expect(page.locator("#runs")).to_have_attribute("aria-busy", "true")

    async def requested() -> bool:
        return bool(held)

    await wait_until(requested, within=5, what="the held /api/imports request")
    await held[0].continue_()
    await expect(empty).to_contain_text("No imports match this view")
    await expect(page.locator("#runs-body tr.skeleton-row")).to_have_count(0)


async def test_stopping_the_server_shows_reconnecting_and_the_error_banner(
    page: Page, start_app: StartApp
) -> None:
    live = await start_app()
    await open_live(page, live.url())

    await live.server.close()
    live = page.locator("#live")
    await expect(live).to_have_attribute("data-state", "reconnecting")
    await expect(live).to_have_text("Reconnecting…")
    await page.select_option("#f-status", "partial")  # the view changes: the API is asked
    banner = page.get_by_role("alert").filter(has_text="Couldn’t reach the API")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("did not answer")


async def test_a_phone_sees_cards(browser: Browser, feeds: FeedServer, start_app: StartApp) -> None:
    live, runs = await three_feeds(feeds, start_app)
    context = await browser.new_context(viewport=PHONE)
    phone = await context.new_page()
    try:
        await phone.goto(live.url(), wait_until="load")
        card = phone.locator(f'tr[data-run-id="{runs["good"]["id"]}"]')
        await expect(card).to_be_visible()
        assert await card.evaluate("el => getComputedStyle(el).display") == "grid"
        label = await card.locator('[data-f="newJobs"]').evaluate(
            "el => getComputedStyle(el, '::before').content"
        )
        assert label == '"New"'
        header = await phone.locator("#runs thead").bounding_box()
        assert header is not None
        assert header["height"] <= 1  # for screen readers only
        assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await expect(phone.locator("#f-sort")).to_be_visible()  # sorting without headers
    finally:
        await context.close()


async def test_the_scripts_format_like_the_server(page: Page, start_app: StartApp) -> None:
    live = await start_app()
    await page.goto(live.url(), wait_until="load")
    got = await page.evaluate(
        """async ([urls, agos, durations]) => {
            const m = await import("/static/js/format.js");
            const now = new Date("2026-11-23T09:00:00Z");
            return {
                urls: urls.map(([u]) => m.shortUrl(u)),
                agos: agos.map(([s]) => m.ago(new Date(now - s * 1000), now)),
                durations: durations.map(([ms]) => m.duration(ms)),
            };
        }""",
        [SHORT_URLS, AGO, DURATIONS],
    )
    assert got["urls"] == [short for _, short in SHORT_URLS]
    assert got["agos"] == [text for _, text in AGO]
    assert got["durations"] == [text for _, text in DURATIONS]


async def test_live_badges_show_the_servers_labels(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    live = await start_app(feeds=(feeds.put("/one", rss(items(range(1, 3)))),))
    (run,) = await settled(live.client, 1)
    await page.goto(live.url(), wait_until="load")
    statuses = [status.value for status in RunStatus]
    got = await page.evaluate(
        """async ([run, statuses]) => {
            const { fillRun } = await import("/static/js/common.js");
            const template = document.getElementById("run-row-template");
            return statuses.map((status) => {
                const row = template.content.firstElementChild.cloneNode(true);
                fillRun(row, { ...run, status });
                const badge = row.querySelector("[data-badge]");
                const progress = row.querySelector("[data-progress]");
                return [badge.textContent, badge.className, progress.hidden];
            });
        }""",
        [run, statuses],
    )
    assert got == [
        [fmt.STATUS_LABELS[s], f"badge {fmt.status_badge(s)}", RunStatus(s).is_final]
        for s in statuses
    ]


async def test_live_rows_show_the_runs_warnings(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    live = await start_app(feeds=(feeds.put("/one", rss(items(range(1, 3)))),))
    (run,) = await settled(live.client, 1)
    await page.goto(live.url(), wait_until="load")
    got = await page.evaluate(
        """async (run) => {
            const { fillRun } = await import("/static/js/common.js");
            const template = document.getElementById("run-row-template");
            const cases = [{}, { date_unparsed: 1 }, { html_entity: 2, date_unparsed: 1 }];
            return cases.map((warnings) => {
                const row = template.content.firstElementChild.cloneNode(true);
                fillRun(row, { ...run, warnings });
                const note = row.querySelector('[data-f="warnings"]');
                return [note.hidden, note.textContent, note.title];
            });
        }""",
        run,
    )
    assert got == [
        [True, "0 warnings", ""],
        [False, "1 warning", "date_unparsed: 1"],
        [False, "3 warnings", "date_unparsed: 1, html_entity: 2"],
    ]


async def start_import(live: Live, url: str) -> str:
    async with live.client.post("/api/imports", json={"feeds": [url]}) as resp:
        assert resp.status == 202
        run_id: str = (await resp.json())["runs"][0]["id"]
        return run_id


async def test_a_live_run_joins_the_rows_only_when_it_passes_the_status_filter(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    good = feeds.put("/good", rss(items(range(1, 3))), validators=False)  # succeeds every time
    missing = feeds.base_url + "/missing"  # fails every time
    live = await start_app(feeds=(good, missing))
    await settled(live.client, 2)
    await open_live(page, live.url("/?status=failed"))  # the filter of the page's config
    rows = page.locator("#runs-body tr")
    await expect(rows).to_have_count(1)

    async def one_then_the_other(left_out: str, joins: str) -> tuple[str, str]:
        """Start a run of `left_out`, and once it ended one of `joins`; the events of both
        reach the page in that order (one stream), so when the second's row is there, the page
        has seen every event of the first."""
        async with live.client.get("/api/events") as resp:
            reader = SseReader(resp)
            await reader.connected()
            first = await start_import(live, left_out)
            await reader.until(finished(first))
            second = await start_import(live, joins)
            await expect(row(page, second)).to_be_visible()
        return first, second

    succeeded, failed = await one_then_the_other(good, missing)
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-run-id", failed)
    await expect(row(page, failed).locator("[data-badge]")).to_have_text("Failed")
    await expect(row(page, succeeded)).to_have_count(0)

    # The filter changed in the page: the new view's filter comes from the server too.
    await page.select_option("#f-status", "succeeded")
    await expect(page).to_have_url(live.url("/?status=succeeded"))
    await expect(row(page, succeeded)).to_be_visible()
    await expect(rows).to_have_count(2)  # the start-up run and `succeeded`
    failed, succeeded = await one_then_the_other(missing, good)
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_have_attribute("data-run-id", succeeded)
    await expect(row(page, failed)).to_have_count(0)


async def test_when_reads_need_the_token_the_page_asks_once(
    page: Page, feeds: FeedServer, start_app: StartApp
) -> None:
    live = await start_app(
        feeds=(feeds.put("/one", rss(items(range(1, 3)))),),
        admin_token=TOKEN,
        read_token_required=True,
    )
    await settled(live.client, 1, token=TOKEN)
    await page.goto(live.url(), wait_until="load")
    form = page.locator("form[data-sign-in]")
    await form.get_by_label("Admin token").fill("wrong-token-wrong-token")
    await form.get_by_role("button", name="Sign in").click()
    await expect(form.locator("[data-sign-in-error]")).to_have_text("That token was not accepted.")
    await form.get_by_label("Admin token").fill(TOKEN)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#runs-body tr")).to_have_count(1)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")  # cookie works
    await page.get_by_role("button", name="Run now").first.click()
    await expect(page.locator("#run-dialog [data-token-field]")).to_be_hidden()  # remembered
