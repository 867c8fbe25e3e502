"""The run page's Retry / Cancel controls, the retried run's link and the expired count; the
history's Expired column; the jobs page's status filter and expired badges."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from jobimport.web import keys
from tests.admin.conftest import AdminClient
from tests.admin.support import settled
from tests.admin.test_pages import page
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until


def controls(html: str) -> tuple[bool, bool]:
    """(has Retry, has Cancel) on a run page."""
    return "data-run-retry" in html, "data-run-cancel" in html


def count(html: str, name: str) -> str:
    match = re.search(rf'data-f="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


async def test_a_final_run_offers_retry_and_one_in_flight_cancel(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    client = await admin_client(feeds=(url,))
    (first,) = await settled(client, 1)
    html = await page(client, f"/imports/{first['id']}")
    assert controls(html) == (True, False)
    assert count(html, "expiredJobs") == "0"
    assert "data-retry-of" not in html

    store = client.app[keys.STORE]
    retry, created = await store.start_or_get_run(url, "retry", retry_of=first["id"])
    assert created
    retried = await page(client, f"/imports/{retry.id}")
    assert controls(retried) == (False, True)
    assert re.search(
        rf'Retry of <a class="link font-mono" href="/imports/{first["id"]}">{first["id"]}</a>',
        retried,
    )
    await store.cancel_run(retry.id)
    cancelled = await page(client, f"/imports/{retry.id}")
    assert controls(cancelled) == (True, False)
    assert "data-cancelled-note" in cancelled
    assert "badge badge-cancelled" in cancelled


async def test_a_running_run_offers_cancel(feeds: FeedServer, admin_client: AdminClient) -> None:
    url = feeds.put("/slow", rss(items(range(1, 3))))
    gate = feeds.gate("/slow")
    client = await admin_client(feeds=(url,))

    async def held() -> bool:
        return feeds.waiting.get("/slow", 0) > 0

    await wait_until(held, within=10, what="the fetch held at the gate")
    async with client.get("/api/imports") as resp:
        (run,) = (await resp.json())["items"]
    assert run["status"] == "running"
    assert controls(await page(client, f"/imports/{run['id']}")) == (False, True)
    gate.set()
    await settled(client, 1)


async def expiring(
    feeds: FeedServer, admin_client: AdminClient
) -> tuple[TestClient[Any, Any], list[dict[str, Any]]]:
    """With EXPIRE_AFTER_RUNS=1: jobs 1–3 imported, then a run whose feed lost job 3."""
    url = feeds.put("/feed", rss(items(range(1, 4))))
    client = await admin_client(feeds=(url,), expire_after_runs=1)
    await settled(client, 1)
    feeds.put("/feed", rss(items(range(1, 3))))
    async with client.post("/api/imports", json={"feeds": [url]}) as resp:
        assert resp.status == 202, await resp.text()
    return client, await settled(client, 2)


async def test_the_history_and_run_page_count_expired_jobs(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    client, (second, first) = await expiring(feeds, admin_client)
    history = await page(client, "/")
    assert '<th scope="col" class="num">Expired</th>' in history
    assert re.search(
        rf'data-run-id="{second["id"]}".*?data-f="expiredJobs">1<', history, flags=re.S
    )
    assert re.search(rf'data-run-id="{first["id"]}".*?data-f="expiredJobs">0<', history, re.S)
    assert '<option value="cancelled">Cancelled</option>' in history
    assert count(await page(client, f"/imports/{second['id']}"), "expiredJobs") == "1"


def job_titles(html: str) -> list[str]:
    return re.findall(r'<a class="link font-medium" href="/jobs/[0-9a-f]{24}">([^<]+)</a>', html)


async def test_jobs_filter_by_status_and_expired_jobs_say_so(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    client, _ = await expiring(feeds, admin_client)
    expired = await page(client, "/jobs?status=expired")
    assert job_titles(expired) == ["Job number 3"]
    assert expired.count("data-expired>") == 1
    assert '<option value="expired" selected>Expired</option>' in expired
    active = await page(client, "/jobs?status=active")
    assert sorted(job_titles(active)) == ["Job number 1", "Job number 2"]
    assert "data-expired>" not in active
    everything = await page(client, "/jobs")
    assert len(job_titles(everything)) == 3
    assert everything.count("data-expired>") == 1
    assert "No expired jobs" not in everything

    (job_path,) = re.findall(r'href="(/jobs/[0-9a-f]{24})">Job number 3<', expired)
    job = await page(client, job_path)
    assert "data-expired>" in job
    assert re.search(r"<dt>Status</dt><dd>Expired <time datetime=", job)

    bad = await page(client, "/jobs?status=gone")
    assert "Ignored the invalid value of “status”" in bad
    assert len(job_titles(bad)) == 3
