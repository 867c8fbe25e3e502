"""The admin pages, server-rendered, against a real app with a real SQLite store and feeds
served on loopback (the browser tests in tests/browser drive the same pages in Chromium)."""

from __future__ import annotations

import re
from html import escape, unescape
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.web.auth import COOKIE
from tests.admin.conftest import AdminClient
from tests.admin.support import settled
from tests.feedgen import Item, items, rss
from tests.feedserver import FeedServer

TOKEN = "test-admin-token-0123456789"
NASTY = Item(
    id=900,
    title="Nasty &lt;b&gt;bold&lt;/b&gt; title",
    company="&lt;img src=x onerror=alert(1)&gt;",
    description='<p onclick="alert(1)">Hello <b>there</b></p><script>alert(2)</script>',
    extra=(
        "<author>jobs@x.test (Ann &lt;i&gt;Lee&lt;/i&gt;)</author>"
        '<enclosure url="/files/spec.pdf" type="application/pdf" length="2048"/>'
        '<enclosure url="javascript:alert(3)" type="text/html"/>'
    ),
)
BAD_ITEM = "<item><title></title><link>https://x.test/no-title</link></item>"


@pytest.fixture
async def imported(feeds: FeedServer, admin_client: AdminClient) -> tuple[Any, dict[str, str]]:
    """Three feeds imported once at start-up (due at once): good, partial, missing (404)."""
    urls = {
        "good": feeds.put("/good", rss([*items(range(1, 4)), NASTY])),
        "partial": feeds.put("/partial", rss([*items(range(10, 12)), BAD_ITEM])),
        "missing": feeds.base_url + "/missing",
    }
    client = await admin_client(feeds=tuple(urls.values()))
    await settled(client, 3)
    return client, urls


async def page(client: TestClient[Any, Any], path: str, status: int = 200) -> str:
    async with client.get(path) as resp:
        assert resp.status == status, await resp.text()
        assert resp.content_type == "text/html"
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        return await resp.text()


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="run-row" data-run-id="([0-9a-f]{24})"', html)


async def test_history_lists_the_runs_with_sortable_headers_and_a_chart(
    imported: tuple[Any, dict[str, str]],
) -> None:
    client, urls = imported
    html = await page(client, "/")
    assert len(rows(html)) == 3
    assert 'aria-sort="descending" data-sort-key="createdAt"' in html
    assert 'aria-sort="none" data-sort-key="newJobs"' in html
    assert f'title="{urls["partial"]}"' in html  # the full URL on hover
    assert 'class="series-new"' in html
    assert 'class="series-failed"' in html
    assert re.search(r'<link rel="stylesheet" href="/static/app.css\?v=[0-9a-f]{10}">', html)

    failed = await page(client, "/?status=failed")
    assert len(rows(failed)) == 1
    assert urls["missing"] in failed
    by_new = await page(client, "/?sort=newJobs&order=asc")
    assert 'aria-sort="ascending" data-sort-key="newJobs"' in by_new
    assert rows(by_new)[0] == rows(failed)[0]  # the failed run imported nothing


async def test_bad_view_parameters_are_named_not_refused(
    imported: tuple[Any, dict[str, str]],
) -> None:
    client, _ = imported
    html = await page(client, "/?sort=nope&page=-1")
    assert "Ignored the invalid value of “page”" in html
    assert "Ignored the invalid value of “sort”" in html
    assert len(rows(html)) == 3


async def test_empty_history_offers_to_run_now(admin_client: AdminClient) -> None:
    client = await admin_client()
    html = await page(client, "/")
    assert "No imports yet" in html
    assert rows(html) == []


async def test_run_detail_groups_failures_and_shows_the_http_outcome(
    imported: tuple[Any, dict[str, str]],
) -> None:
    client, urls = imported
    runs = {r["fileName"]: r for r in await settled(client, 3)}
    html = await page(client, f"/imports/{runs[urls['partial']]['id']}")
    assert '<code class="truncate">missing_title</code>' in html
    assert "item has no title" in html
    assert 'href="https://x.test/no-title"' in html
    missing = await page(client, f"/imports/{runs[urls['missing']]['id']}")
    assert "The feed failed: <code>http_4xx</code>" in missing
    await page(client, "/imports/ffffffffffffffffffffffff", status=404)
    await page(client, "/imports/not-an-id", status=404)


async def test_failed_items_link_only_to_web_addresses(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    """A failed item keeps the link the feed gave (`failures[].url`, as data); the run page makes
    a link of it only when it is http(s), and shows the rest as text."""
    hostile = {
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        " JavaScript:alert(2)",
    }
    bad_items = [f"<item><title></title><link>{escape(link)}</link></item>" for link in hostile]
    url = feeds.put("/hostile", rss([*items([1]), *bad_items, BAD_ITEM]))
    client = await admin_client(feeds=(url,))
    (run,) = await settled(client, 1)
    async with client.get(f"/api/imports/{run['id']}") as resp:
        assert resp.status == 200, await resp.text()
        failures = (await resp.json())["failures"]
    assert {f["url"].strip() for f in failures} == {
        *(h.strip() for h in hostile),
        "https://x.test/no-title",
    }
    html = await page(client, f"/imports/{run['id']}")
    hrefs = re.findall(r'<a [^>]*href="([^"]*)"', html)
    assert "https://x.test/no-title" in hrefs
    assert not [h for h in hrefs if re.match(r"\s*(javascript|data|vbscript):", h, re.I)], hrefs
    shown = re.findall(r"<span class=\"break-all\" data-unlinked-url>([^<]*)</span>", html)
    assert {unescape(text).strip() for text in shown} == {h.strip() for h in hostile}


async def test_feeds_page_shows_state_and_sorts(imported: tuple[Any, dict[str, str]]) -> None:
    client, urls = imported
    html = await page(client, "/feeds?sort=consecutiveFailures&order=desc")
    listed = re.findall(r'<tr data-feed="([^"]+)"', html)
    assert listed[0] == urls["missing"]
    assert set(listed) == set(urls.values())
    assert 'aria-sort="descending" data-sort-key="consecutiveFailures"' in html
    assert html.count('role="img" aria-label="Items of the last 1 imports') == 3


async def test_jobs_are_searchable_and_every_feed_text_is_escaped(
    imported: tuple[Any, dict[str, str]], feeds: FeedServer
) -> None:
    client, _ = imported
    html = await page(client, "/jobs?q=nasty")
    (job_path,) = re.findall(r'href="(/jobs/[0-9a-f]{24})"', html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the company, as text
    assert "<img src=x" not in html
    job = await page(client, job_path)
    assert "&lt;img src=x onerror=alert(1)&gt;" in job
    description = job.split("data-description>", 1)[1].split("</div>", 1)[0]
    assert "<p>Hello <b>there</b></p>" in description  # sanitized HTML, shown as HTML
    assert "onclick" not in description
    assert "<script" not in description
    assert "<dt>Author</dt><dd>Ann Lee</dd>" in job  # markup in the name stripped
    attachments = job.split("data-enclosures>", 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'href="([^"]+)"', attachments) == [
        f"{feeds.base_url}/files/spec.pdf"  # resolved against the feed; javascript: left out
    ]
    assert "application/pdf, 2.0 kB" in attachments
    detail = await (await client.get(f"/api{job_path}")).json()
    assert (detail["author"], detail["enclosures"]) == (
        "Ann Lee",
        [{"url": f"{feeds.base_url}/files/spec.pdf", "type": "application/pdf", "length": 2048}],
    )
    assert len(rows(await page(client, "/jobs?q=nothing-matches-this"))) == 0
    await page(client, "/jobs/ffffffffffffffffffffffff", status=404)


async def test_pages_ask_for_the_token_when_reads_need_it(admin_client: AdminClient) -> None:
    client = await admin_client(admin_token=TOKEN, read_token_required=True)
    html = await page(client, "/", status=401)
    assert "data-sign-in" in html
    async with client.get("/static/app.css") as resp:  # the sign-in page needs its styles
        assert resp.status == 200
    async with client.post("/api/session", json={"token": TOKEN}) as resp:
        assert resp.status == 204
        assert COOKIE in resp.cookies
    assert "Import history" in await page(client, "/")


async def test_static_files_are_served(admin_client: AdminClient) -> None:
    client = await admin_client()
    for path, kind in (("/static/app.css", "text/css"), ("/static/js/history.js", "javascript")):
        async with client.get(path) as resp:
            assert resp.status == 200
            assert kind in resp.content_type
