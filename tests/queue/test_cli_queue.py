"""The queue from the command line, as real processes: `import --enqueue`, `worker` (health key,
SIGTERM) and `healthcheck`."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from jobimport.models import RunStatus
from jobimport.queue.names import fetch_job_id, health_check_key
from jobimport.store import open_store
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import Cli, run_cli, settings_env, wait_final
from tests.support import REDIS_URL, wait_until


def env_for(db: Path, queue_name: str | None, **extra: object) -> dict[str, str]:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{db}",
        "allow_private_addresses": True,
        "feeds": "[]",
        "tick_interval_s": 1,
    }
    if queue_name is not None:
        values.update(redis_url=REDIS_URL, queue_name=queue_name)
    values.update(extra)
    return settings_env(values)


@pytest.mark.slow  # a `python -m jobimport` process
async def test_enqueue_without_redis_is_a_usage_error(feeds: FeedServer, db_path: Path) -> None:
    url = feeds.put("/feed", rss(items(range(1, 3))))
    code, out, err = await run_cli(["import", "--enqueue", url], env_for(db_path, None))
    assert code == 2
    assert "JOBIMPORT_REDIS_URL" in err
    assert out == ""
    assert feeds.hits.get("/feed") is None


@pytest.mark.redis
async def test_enqueue_prints_the_queued_runs_and_leaves_them_to_the_workers(
    feeds: FeedServer, db_path: Path, queue_name: str
) -> None:
    a = feeds.put("/a", rss(items(range(1, 3))))
    b = feeds.put("/b", rss(items(range(3, 5))))
    code, out, err = await run_cli(["import", "--enqueue", a, b], env_for(db_path, queue_name))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["status", "fetched"]
    assert [line.split()[0] for line in lines[1:]] == ["queued", "queued"]
    assert [line.split()[-1] for line in lines[1:]] == [a, b]
    assert feeds.hits == {}  # nothing fetched here: the workers will

    code, out, err = await run_cli(
        ["import", "--enqueue", "--json", a], env_for(db_path, queue_name)
    )
    assert code == 0, err
    (again,) = json.loads(out)
    store = open_store(f"sqlite:///{db_path}")
    await store.open()
    try:
        run = await store.get_run(again["id"])
    finally:
        await store.close()
    assert run is not None
    assert (run.status, run.feed_url, run.trigger) == (RunStatus.QUEUED, a, "cli")
    redis: Redis = Redis.from_url(REDIS_URL)
    try:
        # The first command's run for /a is still in flight: the second returns it, not a new one.
        assert await redis.zscore(queue_name, fetch_job_id(run.id)) is not None
        assert await redis.zcard(queue_name) == 2
    finally:
        await redis.aclose()


async def healthcheck(env: dict[str, str]) -> int:
    code, _, _ = await run_cli(["healthcheck", "--role", "worker"], env)
    return code


@pytest.mark.redis
@pytest.mark.slow
async def test_healthcheck_follows_the_worker_and_sigterm_stops_it_cleanly(
    tmp_path: Path, db_path: Path, queue_name: str
) -> None:
    env = env_for(db_path, queue_name)
    assert await healthcheck(env) == 1  # no worker yet
    worker = await Cli.start(["worker"], env, tmp_path / "worker.log")
    redis: Redis = Redis.from_url(REDIS_URL)
    try:

        async def health_key() -> bool:
            return bool(await redis.exists(health_check_key(queue_name)))

        await wait_until(health_key, within=20, what="the worker's health key", state=worker.log)
        assert await healthcheck(env) == 0

        stopped_at = time.monotonic()
        worker.signal(signal.SIGTERM)
        assert await worker.wait(within=10) == 0, worker.log()
        assert time.monotonic() - stopped_at < 5
        assert not await redis.exists(health_check_key(queue_name))  # removed on the way out
        assert await healthcheck(env) == 1
    finally:
        await worker.kill()
        await redis.aclose()
    assert "Traceback" not in worker.log()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pause_s", "attempts"), [(0.5, 1), (3.0, 2)], ids=["finishes-in-grace", "handed-back"]
)
@pytest.mark.redis
async def test_sigterm_lets_a_running_task_finish_or_hands_it_back(
    feeds: FeedServer,
    tmp_path: Path,
    db_path: Path,
    queue_name: str,
    pause_s: float,
    attempts: int,
) -> None:
    """A stopping worker lets a running task finish for up to 5 s; after that it cancels it, arq
    puts it back on the queue, and the next worker completes the run."""
    body = rss(items(range(1, 11)))
    url = feeds.trickle("/slow", body, parts=4, pause_s=pause_s)  # 1.5 s, or 9 s
    env = env_for(db_path, queue_name, job_timeout_s=30, fetch_timeout_s=20, fetch_read_timeout_s=5)
    log = tmp_path / "worker.log"
    workers = [await Cli.start(["worker"], env, log)]
    redis: Redis = Redis.from_url(REDIS_URL)
    store = open_store(f"sqlite:///{db_path}")
    try:
        code, out, err = await run_cli(["import", "--enqueue", "--json", url], env)
        assert code == 0, err
        run_id = json.loads(out)[0]["id"]
        job_id = fetch_job_id(run_id)

        async def downloading() -> bool:
            return feeds.hits.get("/slow") == 1

        await wait_until(downloading, within=20, what="the download to start", state=workers[0].log)
        stopped_at = time.monotonic()
        workers[0].signal(signal.SIGTERM)
        assert await workers[0].wait(within=15) == 0, workers[0].log()
        assert time.monotonic() - stopped_at < 8  # at most the 5 s grace, then cancelled
        assert not await redis.exists(f"arq:in-progress:{job_id}")  # held by no one
        await store.open()
        run = await store.get_run(run_id)
        assert run is not None
        if attempts == 1:  # finished in the grace: staged, its batches queued for the next worker
            assert "cancelled" not in workers[0].log()
            assert run.batches_total == 1
        else:  # cancelled: back on the queue, to be fetched again
            assert "cancelled, will be run again" in workers[0].log()
            assert await redis.zscore(queue_name, job_id) is not None
            assert run.batches_total is None

        feeds.trickles.pop("/slow")
        feeds.put("/slow", body)
        workers.append(await Cli.start(["worker"], env, log))
        (done,) = await wait_final(store, [run_id], within=20)
    finally:
        for worker in workers:
            await worker.kill()
        await redis.aclose()
        await store.close()
    assert (done.status, done.counts.new, done.attempts) == (RunStatus.SUCCEEDED, 10, attempts)
