"""Leniency shows: an item whose date no format reads is imported, and its run says so, on the
API and on the run page."""

from __future__ import annotations

import dataclasses
import re

from tests.admin.conftest import AdminClient
from tests.admin.support import settled
from tests.admin.test_pages import page
from tests.feedgen import items, rss
from tests.feedserver import FeedServer


async def test_an_unreadable_date_is_a_warning_on_the_run_and_its_page(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    listed = items(range(1, 4))
    listed[1] = dataclasses.replace(listed[1], pub_date="the day after tomorrow")
    url = feeds.put("/feed", rss(listed))
    client = await admin_client(feeds=(url,))
    (run,) = await settled(client, 1)
    assert run["status"] == "succeeded"
    assert (run["newJobs"], run["failedJobs"]) == (3, 0)
    assert run["warnings"] == {"date_unparsed": 1}
    html = await page(client, f"/imports/{run['id']}")
    assert 'id="warnings-title"' in html
    assert '<code class="truncate">date_unparsed</code>' in html


async def test_a_run_without_leniency_shows_no_warnings(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    client = await admin_client(feeds=(url,))
    (run,) = await settled(client, 1)
    assert run["warnings"] == {}
    assert 'id="warnings-title"' not in await page(client, f"/imports/{run['id']}")
    history = await page(client, "/")
    row = history.split(f'data-run-id="{run["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-f="warnings" title="" hidden>0 warnings<', row), row
