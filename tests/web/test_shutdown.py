"""Shutdown of `--role all` on the in-process queue: a task running when the app stops gets a
grace period to finish; one that does not finish in time is cut, its run stays in flight in the
store, and the next start's reconciler completes it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from jobimport.store import open_store
from jobimport.store.base import RunQuery
from jobimport.web import keys
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import wait_until
from tests.web.conftest import AppClient
from tests.web.test_imports_api import get_json, settled

Client = TestClient[Any, Any]


async def _value(value: Any) -> Any:
    return value


async def test_a_running_task_finishes_within_the_grace(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 6))))
    gate = feeds.gate("/feed")
    client = await app_client(feeds=(url,))
    await wait_until(lambda: _value(feeds.waiting.get("/feed")), within=10, what="the fetch")
    store = client.app[keys.STORE]
    (run,) = (await store.list_runs(RunQuery())).items
    local = client.app[keys.QUEUE].local
    assert local is not None
    closing = asyncio.create_task(client.close())
    await wait_until(lambda: _value(local.closing), within=5, what="the queue to stop")
    gate.set()  # the download completes during the grace
    await asyncio.wait_for(closing, 10)
    final = await _reopen_run(client, run.id)
    assert final == "running"  # fetched in the grace; its batches wait for the next start


async def _reopen_run(client: Client, run_id: str) -> str:
    store = open_store(client.app[keys.SETTINGS].database_url)
    await store.open()
    try:
        run = await store.get_run(run_id)
        assert run is not None
        assert run.staged  # the fetch task was not cut: the whole document is staged
        return run.status.value
    finally:
        await store.close()


@pytest.mark.slow  # waits out the real shutdown grace (4 s)
async def test_a_cut_run_is_completed_at_the_next_start(
    feeds: FeedServer, app_client: AppClient
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 6))))
    gate = feeds.gate("/feed")
    # Read timeouts longer than the grace (4 s): the fetch is still running when it ends.
    slow = {"fetch_read_timeout_s": 8.0, "fetch_timeout_s": 9.0}
    first = await app_client(feeds=(url,), **slow)
    await wait_until(lambda: _value(feeds.waiting.get("/feed")), within=10, what="the fetch")
    started = asyncio.get_running_loop().time()
    await first.close()  # the grace runs out: the fetch task is cancelled
    assert 3.5 < asyncio.get_running_loop().time() - started < 8
    gate.set()
    second = await app_client(feeds=(url,))  # same database: the reconciler restarts the run
    (run,) = await settled(second, 1)
    assert (run["status"], run["newJobs"], run["trigger"]) == ("succeeded", 5, "cron")
    assert (await get_json(second, "/api/imports"))["total"] == 1
