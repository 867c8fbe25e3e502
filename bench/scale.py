"""Issue 15 ("ten thousand feeds"): the scheduler tick with many registered feeds, and the fetches
one host sees at once.

- `tick_ms_10k_feeds`: a fresh SQLite store with 10,000 registered feeds, 500 of them due (the
  others' `next_run_at` an hour ahead, set straight in the file); one `Scheduler.tick()` timed,
  on an in-process queue that is not started (the 500 fetches stay queued: the tick only, with
  its reconcile and prune). A fresh store per run.
- `per_host_max_concurrent`: an aiohttp server on 127.0.0.1 serves 200 small feeds (20 ms per
  answer) and counts the requests in flight; `open_runtime(settings, "inline")` (what `jobimport
  import` uses) imports them all with MAX_CONCURRENCY 16 and MAX_PER_HOST 2; the figure is the
  most requests the server saw at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from bench.stats import BenchError, Figure
from jobimport.log import configure_logging
from jobimport.models import RunStatus, utc_now
from jobimport.pipeline import Pipeline
from jobimport.queue.local import LocalQueue
from jobimport.queue.names import BATCH, FETCH
from jobimport.queue.tasks import Tasks
from jobimport.reader.fetch import make_client_session
from jobimport.runtime import open_runtime
from jobimport.scheduler import Scheduler
from jobimport.settings import Settings, load_settings
from jobimport.store import open_store

FEEDS, DUE, HOST_FEEDS = 10_000, 500, 200


def _settings(db: Path, **overrides: object) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{db}", feeds=[], allow_private_addresses=True,
        log_level="WARNING", **overrides,
    )  # fmt: skip


async def _nothing(event: object) -> None:
    del event


async def tick_ms(folder: Path) -> float:
    db = folder / "tick.db"
    settings = _settings(db)
    urls = [f"https://feeds{i % 50}.example.test/{i:05d}" for i in range(FEEDS)]
    store = open_store(settings.database_url)
    await store.open()
    await store.seed_feeds(urls)
    await store.close()
    later = (utc_now() + timedelta(hours=1)).isoformat(timespec="microseconds")
    with sqlite3.connect(db) as conn:  # 9,500 not due, in one statement
        conn.execute("UPDATE feeds SET next_run_at = ? WHERE rowid % 20 != 0", (later,))
    store = open_store(settings.database_url)
    await store.open()
    local = LocalQueue(concurrency=1, max_tries=1, job_timeout_s=60)
    try:
        async with make_client_session(settings) as session:
            pipeline = Pipeline(settings, store, session, publish=_nothing)
            tasks = Tasks(settings, pipeline, local)
            local.register(FETCH, tasks.fetch)
            local.register(BATCH, tasks.batch)
            scheduler = Scheduler(
                settings, store, pipeline, local, local.is_pending, utc_now, _nothing
            )
            started = time.perf_counter()
            report = await scheduler.tick()
            elapsed = (time.perf_counter() - started) * 1000
        if len(report.started) != DUE:
            raise BenchError(f"the tick started {len(report.started)} feeds, not {DUE}")
        return elapsed
    finally:
        await local.close()
        await store.close()


async def per_host_max(folder: Path) -> int:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "".join(
            f"<item><title>Job {i}</title><link>https://example.test/{i}</link>"
            f"<guid>{i}</guid></item>"
            for i in range(3)
        )
        + "</channel></rss>"
    ).encode()
    in_flight, most = 0, 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.02)  # a server that takes its time
            return web.Response(body=body, content_type="application/rss+xml")
        finally:
            in_flight -= 1

    app = web.Application()
    app.router.add_get("/{name}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        urls = [f"http://127.0.0.1:{port}/f{i}" for i in range(HOST_FEEDS)]
        settings = _settings(folder / "host.db", max_concurrency=16, max_per_host=2)
        async with open_runtime(settings, "inline") as runtime:
            assert runtime.local_queue is not None
            runs = await runtime.scheduler.start_runs(urls, trigger="bench")
            await asyncio.wait_for(runtime.local_queue.join(), 600)
            final = [await runtime.store.get_run(run.id) for run in runs]
        bad = [r for r in final if r is None or r.status is not RunStatus.SUCCEEDED]
        if bad:
            raise BenchError(f"{len(bad)} of {HOST_FEEDS} runs did not succeed")
        return most
    finally:
        await runner.cleanup()


def figures(runs: int) -> list[Figure]:
    configure_logging(_settings(Path("unused.db")))
    ticks, mosts = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            ticks.append(asyncio.run(tick_ms(Path(folder))))
        with tempfile.TemporaryDirectory() as folder:
            mosts.append(float(asyncio.run(per_host_max(Path(folder)))))
    return [
        Figure("tick_ms_10k_feeds", ticks, "ms", 1000, better="lower",
               note=f"one tick, {FEEDS:,} registered feeds, {DUE} due, SQLite"),
        Figure("per_host_max_concurrent", mosts, "fetches", 2, better="lower",
               note=f"{HOST_FEEDS} feeds on one loopback host, MAX_PER_HOST 2"),
    ]  # fmt: skip
