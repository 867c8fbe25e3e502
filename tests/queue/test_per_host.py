"""Issue 15: at most MAX_PER_HOST fetches run against one feed host at once, across workers; a
fetch that finds no free slot is deferred (not blocked in its task, not a try, not lost to the
reconciler) and its run still succeeds.

The loopback FeedServer holds every request until the test has seen the limit at work (the
other fetches deferred), and counts the requests in flight per Host."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from jobimport.models import RunStatus
from jobimport.settings import Settings
from jobimport.store import open_store
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import Cli, harness, run_cli, settings_env, wait_final, wait_finished
from tests.support import REDIS_URL, wait_until


class HostCounter:
    """A FeedServer handler: counts requests in flight by host (most at once in `most`) and
    holds each until `release` is set."""

    def __init__(self) -> None:
        self.body = rss(items(range(1, 4)))
        self.in_flight: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        host = request.url.host or ""
        self.in_flight[host] += 1
        self.most[host] = max(self.most[host], self.in_flight[host])
        try:
            await self.release.wait()
            return web.Response(body=self.body, content_type="application/rss+xml")
        finally:
            self.in_flight[host] -= 1


async def test_the_in_process_queue_runs_at_most_max_per_host_fetches_per_host(
    queue_settings: Callable[..., Settings], feeds: FeedServer
) -> None:
    counter = HostCounter()
    # One try only: a deferral that counted as a try would fail the run.
    settings = queue_settings(
        "local", max_per_host=2, max_concurrency=8, max_tries=1,
        fetch_read_timeout_s=20, fetch_timeout_s=30,  # held requests must not time out
    )  # fmt: skip
    same_host = [feeds.route(f"/f{i}", counter.handle) for i in range(6)]
    # The same server under another name is another host, with slots of its own.
    other_host = feeds.route("/other", counter.handle).replace("127.0.0.1", "localhost")
    async with harness(settings) as h:
        assert h.local is not None
        runs = [(await h.scheduler.start_run(url, "test"))[0] for url in [*same_host, other_host]]

        async def limit_at_work() -> bool:
            assert h.local is not None
            return (
                counter.in_flight["127.0.0.1"] == 2
                and counter.in_flight["localhost"] == 1
                and h.local.stats().deferred == 4
            )

        await wait_until(
            limit_at_work, within=15, what="2 fetches held, 1 on the other host, 4 deferred",
            state=lambda: _state(counter, h.local.stats() if h.local else None),
        )  # fmt: skip
        assert h.local.stats().running <= 3  # deferred fetches hold no worker
        # Deferred fetches are still queued: waiting, not lost.
        report = await h.scheduler.reconcile(idle_s=0)
        assert (report.requeued, report.lost) == ([], [])

        counter.release.set()
        done = await wait_finished(h, [run.id for run in runs], within=30)
    assert [run.status for run in done] == [RunStatus.SUCCEEDED] * 7
    assert all(run.attempts == 1 for run in done)  # a deferral is not an attempt
    assert counter.most["127.0.0.1"] == 2
    assert counter.most["localhost"] == 1


async def _state(counter: HostCounter, stats: object) -> object:
    return {"in_flight": dict(counter.in_flight), "most": dict(counter.most), "queue": stats}


def deferred_runs(workers: list[Cli]) -> set[str]:
    """Run ids of the fetches the workers logged as deferred for want of a host slot."""
    found = set()
    for worker in workers:
        for line in worker.log().splitlines():
            if "host busy" not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "host busy: fetch deferred":
                found.add(entry["run_id"])
    return found


@pytest.mark.redis
@pytest.mark.slow
async def test_the_per_host_limit_holds_with_two_worker_processes(
    feeds: FeedServer, tmp_path: Path, db_path: Path, queue_name: str
) -> None:
    counter = HostCounter()
    urls = [feeds.route(f"/f{i}", counter.handle) for i in range(6)]
    env = settings_env(
        {
            "redis_url": REDIS_URL,
            "database_url": f"sqlite:///{db_path}",
            "allow_private_addresses": True,
            "feeds": "[]",
            "queue_name": queue_name,
            "max_concurrency": 4,  # 8 task slots in all: room for every fetch at once
            "max_per_host": 2,
            "max_tries": 1,  # a deferral that counted as a try would fail the fetch
            "tick_interval_s": 60,
        }
    )
    workers: list[Cli] = []
    store = open_store(f"sqlite:///{db_path}")
    try:
        for i in range(2):
            workers.append(await Cli.start(["worker"], env, tmp_path / f"worker-{i}.log"))
        code, out, err = await run_cli(["import", "--enqueue", "--json", *urls], env)
        assert code == 0, err
        run_ids = [log["id"] for log in json.loads(out)]

        async def limit_at_work() -> bool:
            return counter.most["127.0.0.1"] > 2 or (
                counter.in_flight["127.0.0.1"] == 2 and len(deferred_runs(workers)) >= 4
            )

        await wait_until(
            limit_at_work, within=30, what="2 fetches held and the 4 others deferred",
            state=lambda: _state(counter, deferred_runs(workers)),
        )  # fmt: skip
        assert counter.most["127.0.0.1"] == 2
        counter.release.set()
        await store.open()
        runs = await wait_final(store, run_ids, within=40)
    finally:
        for worker in workers:
            await worker.kill()
        await store.close()

    assert [run.status for run in runs] == [RunStatus.SUCCEEDED] * 6
    assert all(run.attempts == 1 for run in runs)
    assert counter.most["127.0.0.1"] == 2
    logs = [worker.log() for worker in workers]
    assert not any('"level": "error"' in log for log in logs)
