"""The feeds page, server-rendered from the store: feeds from JOBIMPORT_FEEDS and those added at
run time, with their origin, paused state, effective schedule, header names (never values),
failure streak and alert, and the controls each may have."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from jobimport.models import FeedState
from jobimport.web import keys
from tests.admin.conftest import AdminClient
from tests.admin.support import settled
from tests.admin.test_pages import page
from tests.feedgen import items, rss
from tests.feedserver import FeedServer

SECRET = "Bearer very-secret-value-42"


def feed_rows(html: str) -> dict[str, str]:
    """Feed URL → its table row's markup."""
    return dict(re.findall(r'<tr data-feed="([^"]+)"(.*?)</tr>', html, flags=re.S))


async def with_two_feeds(
    feeds: FeedServer, admin_client: AdminClient
) -> tuple[TestClient[Any, Any], str, str]:
    """A configured feed (imported once) and a paused feed added at run time, with a header."""
    config_url = feeds.put("/config", rss(items(range(1, 3))))
    client = await admin_client(feeds=(config_url,), schedule="2h")
    await settled(client, 1)
    added = await client.app[keys.STORE].add_feed(
        FeedState(
            url=feeds.base_url + "/added",
            name="Added by hand",
            schedule="30m",
            paused=True,
            headers={"X-Api-Key": SECRET, "Authorization": SECRET},
        )
    )
    assert added is not None
    return client, config_url, added.url


async def test_both_origins_are_listed_with_their_settings_and_no_header_value(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    client, config_url, added_url = await with_two_feeds(feeds, admin_client)
    html = await page(client, "/feeds")
    rows = feed_rows(html)
    assert list(rows) == [config_url, added_url]  # the store's order: oldest first
    config, added = rows[config_url], rows[added_url]

    assert 'data-origin="config"' in config
    assert ">config</span>" in config
    assert "data-feed-delete" not in config  # configured feeds can be paused, not deleted
    assert re.search(r"data-feed-toggle[^>]*>Pause</button>", config)
    assert "<code>2h</code>" in config  # JOBIMPORT_SCHEDULE, the default
    assert ">default</span>" in config
    assert "data-paused-badge" not in config

    assert 'data-origin="api"' in added
    assert ">added</span>" in added
    assert ">Added by hand</a>" in added  # the name, the URL below it
    assert "data-feed-delete" in added
    assert re.search(r"data-feed-toggle[^>]*>Resume</button>", added)
    assert "data-paused-badge" in added
    assert "<code>30m</code>" in added
    assert ">default</span>" not in added
    assert re.findall(r"data-header-name>([^<]+)<", added) == ["Authorization", "X-Api-Key"]
    assert "paused</span>" in added  # no next run while paused
    assert "very-secret-value" not in html


async def test_a_failing_feed_shows_its_streak_and_alert(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    missing = feeds.base_url + "/missing"
    client = await admin_client(feeds=(missing,))
    await settled(client, 1)
    store = client.app[keys.STORE]
    quiet = feed_rows(await page(client, "/feeds"))[missing]
    assert "data-alerted" not in quiet
    assert re.search(r"data-failures>1<", quiet)

    state = await store.get_feed(missing)
    assert state is not None
    alerted = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    await store.save_feed_run_state(
        dataclasses.replace(state, consecutive_failures=3, alerted_at=alerted)
    )
    row = feed_rows(await page(client, "/feeds"))[missing]
    assert re.search(r"data-failures>3<", row)
    assert 'title="A failure alert was sent 2026-11-23 09:00:00 UTC" data-alerted' in row


async def test_no_feeds_offers_to_add_one(admin_client: AdminClient) -> None:
    client = await admin_client()
    html = await page(client, "/feeds")
    assert "No feeds yet" in html
    assert re.search(r'id="feeds-empty".*data-add-feed', html, flags=re.S)
    assert 'id="feed-dialog"' in html


async def test_feeds_added_at_run_time_are_offered_by_every_page(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    client, config_url, added_url = await with_two_feeds(feeds, admin_client)
    for path in ("/", "/jobs", "/feeds"):
        html = await page(client, path)
        run_dialog = html.split('id="run-dialog"', 1)[1]
        assert f'<option value="{added_url}"' in run_dialog, path
        assert f'<option value="{config_url}"' in run_dialog, path
    history = await page(client, "/")
    assert f'<option value="{added_url}" title="{added_url}"' in history  # the feed filter


async def test_sorting_by_next_run_puts_paused_feeds_last(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    client, config_url, added_url = await with_two_feeds(feeds, admin_client)
    html = await page(client, "/feeds?sort=nextRunAt&order=asc")
    assert list(feed_rows(html)) == [config_url, added_url]
    latest_first = await page(client, "/feeds?sort=nextRunAt&order=desc")
    assert list(feed_rows(latest_first)) == [added_url, config_url]
    by_name = await page(client, "/feeds?sort=url&order=desc")
    assert list(feed_rows(by_name)) == [added_url, config_url]  # "Added by hand" > "127.0.0.1…"
