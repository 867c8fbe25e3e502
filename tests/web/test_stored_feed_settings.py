"""Issue 14: feed settings stored before today's checks (a header value that is not an RFC 9110
field value, a schedule that cannot fire within 366 days). At start such a feed is paused with a
note, never run, never changed; a fetch whose request cannot be sent fails at once with
`invalid_request`. Real SQLite file, real server, feeds served from loopback."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from jobimport.models import FeedState, RunStatus
from jobimport.pipeline import Pipeline
from jobimport.reader.fetch import make_client_session
from jobimport.settings import Settings
from jobimport.store import open_store
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.inline import import_inline
from tests.web.conftest import AppClient
from tests.web.test_feeds_manage_api import send
from tests.web.test_imports_api import get_json, settled

SECRET = "s3cret-token"


def store_raw(settings: Settings, url: str, *, schedule: str | None, headers: str) -> None:
    """Write a feed's settings straight into the SQLite file, as an older release stored them."""
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        changed = conn.execute(
            "UPDATE feeds SET schedule = ?, headers = ? WHERE url = ?", (schedule, headers, url)
        ).rowcount
    assert changed == 1


async def add_feeds(settings: Settings, *urls: str) -> None:
    store = open_store(settings.database_url)
    await store.open()
    try:
        for url in urls:
            assert await store.add_feed(FeedState(url=url)) is not None
    finally:
        await store.close()


async def test_feeds_stored_with_refused_settings_are_paused_with_a_note_at_start(
    feeds: FeedServer, app_client: AppClient, make_settings: Callable[..., Settings]
) -> None:
    good = feeds.put("/good", rss(items(range(1, 3))))
    never = feeds.put("/never", rss(items(range(3, 5))))
    token = feeds.put("/token", rss(items(range(5, 7))))
    settings = make_settings()
    await add_feeds(settings, good, never, token)
    store_raw(settings, never, schedule="* * 31 2 *", headers="{}")
    store_raw(settings, token, schedule=None, headers='{"X-Token": "' + SECRET + '\\u000b"}')

    client = await app_client()  # the same SQLite file; the tick runs once at start
    await settled(client, 1)

    listed = {f["url"]: f for f in (await get_json(client, "/api/feeds"))["items"]}
    assert (listed[good]["paused"], listed[good]["pauseNote"]) == (False, None)
    assert listed[never]["paused"] is True
    assert listed[never]["pauseNote"].startswith("paused at start: schedule: ")
    assert "never fires" in listed[never]["pauseNote"]
    assert listed[token]["paused"] is True
    assert "headers: the value of X-Token" in listed[token]["pauseNote"]
    assert "U+000B" in listed[token]["pauseNote"]
    assert SECRET not in listed[token]["pauseNote"]
    # Never silently changed: the stored values are still there for a person to fix.
    assert listed[never]["schedule"] == "* * 31 2 *"
    assert listed[token]["headerNames"] == ["X-Token"]
    # Only the good feed ran.
    assert len(feeds.received("/good")) == 1
    assert feeds.received("/never") == feeds.received("/token") == []

    page = await (await client.get("/feeds")).text()
    assert listed[never]["pauseNote"] in page.replace("&#39;", "'")
    assert "data-pause-note" in page

    # Resuming as stored is refused; resuming with a usable value clears the note.
    path = f"/api/feeds/{listed[never]['id']}"
    refused = await send(client, "PATCH", path, {"paused": False}, expect=400)
    assert refused["error"]["code"] == "invalid_body"
    assert "never fires" in refused["error"]["message"]
    fixed = await send(client, "PATCH", path, {"paused": False, "schedule": "1h"})
    assert (fixed["paused"], fixed["pauseNote"], fixed["schedule"]) == (False, None, "1h")
    resumed = await send(client, "PATCH", f"/api/feeds/{listed[token]['id']}",
                         {"paused": False, "headers": {"X-Token": SECRET}})  # fmt: skip
    assert (resumed["paused"], resumed["pauseNote"]) == (False, None)


async def test_a_fetch_that_cannot_be_sent_fails_its_run_at_once(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    urls = {value: feeds.put(f"/f{n}", rss(items(range(1, 3))))
            for n, value in enumerate(("a\x01b", "a\x0bb", "a\x7fb", "a\ud800b"))}  # fmt: skip
    await add_feeds(settings, *urls.values())
    for value, url in urls.items():  # JSON escapes: how a lone surrogate can sit in the file
        store_raw(settings, url, schedule=None, headers=json.dumps({"X-Token": value}))
    store = open_store(settings.database_url)
    await store.open()
    try:
        async with make_client_session(settings) as session:
            pipeline = Pipeline(settings, store, session)
            for value, url in urls.items():
                run = await import_inline(pipeline, url)
                assert run.status is RunStatus.FAILED, value
                assert run.error is not None
                assert run.error.reason == "invalid_request", value
                assert "X-Token" in run.error.message
                assert run.attempts == 1
                after = await store.get_feed(url)
                assert after is not None
                assert after.consecutive_failures == 1
                assert after.next_run_at is not None  # the feed state was written
        for n in range(len(urls)):
            assert feeds.received(f"/f{n}") == []  # nothing went out
    finally:
        await store.close()
