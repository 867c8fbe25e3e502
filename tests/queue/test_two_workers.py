"""Two worker processes on one queue and one SQLite file import two overlapping feeds at once:
batches of both runs race each other across processes, and every identity is stored once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobimport.models import RunStatus
from jobimport.store import open_store
from jobimport.store.base import JobQuery
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import Cli, check_invariants, run_cli, settings_env, wait_final
from tests.support import REDIS_URL

pytestmark = pytest.mark.redis  # worker processes on the shared Redis


@pytest.mark.slow
async def test_two_worker_processes_import_overlapping_feeds_exactly(
    feeds: FeedServer, tmp_path: Path, db_path: Path, queue_name: str
) -> None:
    # 1..120 and 61..180: 60 jobs in both feeds, 180 in all; batches of 3 interleave.
    a = feeds.put("/all", rss(items(range(1, 121))), validators=False)
    b = feeds.put("/category", rss(items(range(61, 181))), validators=False)
    env = settings_env(
        {
            "redis_url": REDIS_URL,
            "database_url": f"sqlite:///{db_path}",
            "allow_private_addresses": True,
            "feeds": "[]",
            "queue_name": queue_name,
            "batch_size": 3,
            "max_concurrency": 4,
            "tick_interval_s": 1,
        }
    )
    workers: list[Cli] = []
    store = open_store(f"sqlite:///{db_path}")
    try:
        for i in range(2):
            workers.append(await Cli.start(["worker"], env, tmp_path / f"worker-{i}.log"))
        code, out, err = await run_cli(["import", "--enqueue", "--json", a, b], env)
        assert code == 0, err
        run_ids = [log["id"] for log in json.loads(out)]
        await store.open()
        runs = await wait_final(store, run_ids, within=40)
        jobs = await store.list_jobs(JobQuery(limit=200))
    finally:
        for worker in workers:
            await worker.kill()
        await store.close()

    for run in runs:
        assert run.status is RunStatus.SUCCEEDED, run
        assert (run.counts.fetched, run.counts.failed, run.counts.updated) == (120, 0, 0)
        assert run.failures == ()
        check_invariants(run)
    assert sum(run.counts.new for run in runs) == 180
    assert sum(run.counts.unchanged for run in runs) == 60
    assert jobs.total == 180
    assert len({record.job.identity for record in jobs.items}) == 180
    both = [r for r in jobs.items if set(r.feeds) == {a, b}]
    assert len(both) == 60
    # Both processes did part of the work, and neither logged an error.
    logs = [worker.log() for worker in workers]
    assert all('"event": "batch applied"' in log for log in logs)
    assert not any('"level": "error"' in log for log in logs)
