"""A worker process killed with SIGKILL half-way through a run, then started again: the run
completes with the fixture's exact totals; no job is missing or doubled.

Two moments of death: while batch tasks are held (each blocked on the SQLite write lock, which
the test holds for a moment, so the kill certainly lands inside them), and while the fetch task is
still downloading a trickling feed with some batches already staged. arq hands a task held by a
dead worker out again once its in-progress key expires (JOB_TIMEOUT_S + 10 s = 13 s here).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from jobimport.models import ImportRun, RunStatus
from jobimport.queue.names import fetch_job_id
from jobimport.store import open_store
from jobimport.store.base import JobQuery, Store
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import Cli, check_invariants, run_cli, settings_env, wait_final
from tests.support import REDIS_URL, wait_until

pytestmark = pytest.mark.redis  # worker processes on the shared Redis

ITEMS = 200
BATCH_SIZE = 2  # 100 batches: about five seconds of work for one worker
TITLES = sorted(f"Job number {i}" for i in range(1, ITEMS + 1))


def worker_env(db: Path, queue_name: str, batch_size: int) -> dict[str, str]:
    return settings_env(
        {
            "redis_url": REDIS_URL,
            "database_url": f"sqlite:///{db}",
            "allow_private_addresses": True,
            "feeds": "[]",  # the tick must not reach for the default (internet) feeds
            "queue_name": queue_name,
            "job_timeout_s": 3,
            "fetch_timeout_s": 2.5,
            "fetch_read_timeout_s": 2,
            "fetch_connect_timeout_s": 1,
            "batch_size": batch_size,
            "max_concurrency": 4,
            "tick_interval_s": 1,
            "reconcile_after_s": 2,
            "retry_base_delay_s": 0.1,
        }
    )


@asynccontextmanager
async def deployment(
    tmp_path: Path, db_path: Path, queue_name: str, batch_size: int = BATCH_SIZE
) -> AsyncIterator[tuple[dict[str, str], list[Cli], Store]]:
    """The worker processes a test starts (always killed at the end) and a store to watch."""
    env = worker_env(db_path, queue_name, batch_size)
    workers: list[Cli] = []
    store = open_store(f"sqlite:///{db_path}")
    try:
        workers.append(await Cli.start(["worker"], env, tmp_path / "worker.log"))
        yield env, workers, store
    finally:
        for worker in workers:
            await worker.kill()
        await store.close()


async def enqueue(env: dict[str, str], url: str, store: Store) -> str:
    code, out, err = await run_cli(["import", "--enqueue", "--json", url], env)
    assert code == 0, err
    (queued,) = json.loads(out)
    assert queued["status"] == "queued"
    await store.open()  # after the CLI created the schema
    run_id: str = queued["id"]
    return run_id


async def in_progress(run_id: str, kind: str) -> list[str]:
    """arq's in-progress keys of this run's tasks of `kind` (batch or fetch)."""
    redis: Redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k.decode() async for k in redis.scan_iter(f"arq:in-progress:run:{run_id}:{kind}*")]
    finally:
        await redis.aclose()
    return keys


async def kill(worker: Cli) -> None:
    worker.signal(signal.SIGKILL)
    assert await worker.wait(within=10) == -signal.SIGKILL


async def assert_fixture_truth(store: Store, done: ImportRun, batch_size: int = BATCH_SIZE) -> None:
    assert done.status is RunStatus.SUCCEEDED, done
    assert (done.counts.fetched, done.counts.new, done.counts.failed) == (ITEMS, ITEMS, 0)
    assert (done.counts.updated, done.counts.unchanged) == (0, 0)
    assert done.batches_done == done.batches_total == ITEMS // batch_size
    check_invariants(done)
    jobs = await store.list_jobs(JobQuery(limit=ITEMS + 10))
    assert sorted(record.job.title for record in jobs.items) == TITLES  # none missing or twice


@pytest.mark.slow
async def test_a_worker_killed_inside_batch_tasks_and_restarted_completes_the_run_exactly(
    feeds: FeedServer, tmp_path: Path, db_path: Path, queue_name: str
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    async with deployment(tmp_path, db_path, queue_name) as (env, workers, store):
        run_id = await enqueue(env, url, store)

        async def ten_batches_done() -> bool:
            run = await store.get_run(run_id)
            return run is not None and run.batches_done >= 10

        await wait_until(ten_batches_done, within=20, what="ten batches", state=workers[0].log)

        # Hold the write lock: the worker's next batches block inside their task on it.
        lock = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        try:
            await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")

            async def held() -> list[str]:
                return await in_progress(run_id, "batch")

            held_keys = await wait_until(held, within=5, what="a batch task to be running")
            await kill(workers[0])
            await asyncio.to_thread(lock.execute, "ROLLBACK")
        finally:
            lock.close()

        at_kill = await store.get_run(run_id)
        assert at_kill is not None
        assert 10 <= at_kill.batches_done < ITEMS // BATCH_SIZE
        assert not at_kill.status.is_final

        workers.append(await Cli.start(["worker"], env, tmp_path / "worker.log"))
        (done,) = await wait_final(store, [run_id], within=45)
        await assert_fixture_truth(store, done)
    log = workers[1].log()
    for key in held_keys:  # the held tasks were handed out again, as a second try
        job = key.removeprefix("arq:in-progress:")
        assert f"{job}:jobimport.batch" in log
    assert "try=2" in log
    assert feeds.hits["/feed"] == 1


@pytest.mark.slow
async def test_a_worker_killed_while_fetching_and_restarted_restages_and_completes(
    feeds: FeedServer, tmp_path: Path, db_path: Path, queue_name: str
) -> None:
    body = rss(items(range(1, ITEMS + 1)))
    url = feeds.trickle("/slow", body, parts=4, pause_s=0.5)  # 1.5 s to download
    async with deployment(tmp_path, db_path, queue_name, batch_size=5) as (env, workers, store):
        run_id = await enqueue(env, url, store)

        async def staging() -> bool:
            # Downloading, some batches staged, not fetched: the middle of the fetch task.
            run = await store.get_run(run_id)
            if run is None or run.staged:
                return False
            return bool(await store.pending_batches(run_id))

        await wait_until(staging, within=20, what="some batches staged", state=workers[0].log)
        assert await in_progress(run_id, "fetch") == [f"arq:in-progress:{fetch_job_id(run_id)}"]
        await kill(workers[0])
        at_kill = await store.get_run(run_id)
        assert at_kill is not None
        assert (at_kill.status, at_kill.batches_total) == (RunStatus.RUNNING, None)

        workers.append(await Cli.start(["worker"], env, tmp_path / "worker.log"))
        (done,) = await wait_final(store, [run_id], within=45)
        await assert_fixture_truth(store, done, batch_size=5)
        assert done.attempts == 2  # the redelivered fetch restaged the document from scratch
    assert feeds.hits["/slow"] == 2
