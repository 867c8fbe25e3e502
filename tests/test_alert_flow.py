"""Alerts end to end: imports through the real runtime (in-process queue, SQLite, loopback feed)
with ALERT_WEBHOOK_URL pointing at a receiver on 127.0.0.1. A feed that fails three times and
then succeeds yields exactly one failure alert and one recovery alert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from jobimport.cli import import_feeds
from jobimport.models import RunStatus
from jobimport.settings import Settings
from tests.feedgen import items, rss
from tests.feedserver import FeedServer


class Receiver:
    """A webhook receiver: keeps every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook/{secret}", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.Response(status=204)


@pytest.fixture
async def receiver(aiohttp_server: Any) -> Receiver:
    hook = Receiver()
    running = await aiohttp_server(hook.app())
    hook.url = str(running.make_url("/hook/s3cret"))
    return hook


async def test_three_failures_then_a_success_send_one_alert_each(
    receiver: Receiver, server: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        alert_webhook_url=receiver.url,
        alert_after_failures=3,
        public_url="https://jobs.example.test/admin/",
        max_tries=1,
    )
    url = server.base_url + "/feed"  # nothing there yet: 404

    async def import_once(expect: RunStatus) -> str:
        (run,) = await import_feeds(settings, [url])
        assert run.status is expect, run
        return run.id

    first = await import_once(RunStatus.FAILED)
    second = await import_once(RunStatus.FAILED)
    assert receiver.bodies == []  # two failures: below the threshold
    third = await import_once(RunStatus.FAILED)
    assert [body["event"] for body in receiver.bodies] == ["feed.failing"]
    (failing,) = receiver.bodies
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
    assert len(receiver.bodies) == 1

    server.put("/feed", rss(items(range(1, 4))))
    recovered_run = await import_once(RunStatus.SUCCEEDED)
    assert [body["event"] for body in receiver.bodies] == ["feed.failing", "feed.recovered"]
    recovered = receiver.bodies[1]
    assert recovered["run"]["id"] == recovered_run
    assert recovered["lastError"] is None
    assert recovered["consecutiveFailures"] == 0

    await import_once(RunStatus.NOT_MODIFIED)  # healthy again: nothing more to say
    assert len(receiver.bodies) == 2
