"""Alerts end to end: imports through the real runtime (in-process queue, SQLite, loopback feed)
with ALERT_WEBHOOK_URL pointing at a path of the same loopback server. A feed that fails three
times and then succeeds yields exactly one failure alert and one recovery alert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobimport.cli import import_feeds
from jobimport.models import RunStatus
from jobimport.settings import Settings
from tests.feedgen import items, rss
from tests.feedserver import Doc, FeedServer

HOOK = "/hook/s3cret"


def bodies(feeds: FeedServer) -> list[Any]:
    """The JSON body of every alert the webhook received, in order."""
    return [request.json() for request in feeds.received(HOOK)]


async def test_three_failures_then_a_success_send_one_alert_each(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    hook = feeds.script(HOOK, [Doc(b"", status=204, content_type="text/plain")])
    settings = make_settings(
        alert_webhook_url=hook,
        alert_after_failures=3,
        public_url="https://jobs.example.test/admin/",
        max_tries=1,
    )
    url = feeds.base_url + "/feed"  # nothing there yet: 404

    async def import_once(expect: RunStatus) -> str:
        (run,) = await import_feeds(settings, [url])
        assert run.status is expect, run
        return run.id

    first = await import_once(RunStatus.FAILED)
    second = await import_once(RunStatus.FAILED)
    assert bodies(feeds) == []  # two failures: below the threshold
    third = await import_once(RunStatus.FAILED)
    assert [body["event"] for body in bodies(feeds)] == ["feed.failing"]
    (failing,) = bodies(feeds)
    assert failing["feed"]["url"] == url
    assert failing["consecutiveFailures"] == 3
    assert failing["lastError"]["reason"] == "http_4xx"
    assert failing["lastError"]["status"] == 404
    assert failing["run"] == {
        "id": third,
        "status": "failed",
        "finishedAt": failing["run"]["finishedAt"],
        "url": f"https://jobs.example.test/admin/imports/{third}",
    }
    assert third not in (first, second)

    await import_once(RunStatus.FAILED)  # a fourth failure in the same streak: no new alert
    assert len(bodies(feeds)) == 1

    feeds.put("/feed", rss(items(range(1, 4))))
    recovered_run = await import_once(RunStatus.SUCCEEDED)
    assert [body["event"] for body in bodies(feeds)] == ["feed.failing", "feed.recovered"]
    recovered = bodies(feeds)[1]
    assert recovered["run"]["id"] == recovered_run
    assert recovered["lastError"] is None
    assert recovered["consecutiveFailures"] == 0

    await import_once(RunStatus.NOT_MODIFIED)  # healthy again: nothing more to say
    assert len(bodies(feeds)) == 2
