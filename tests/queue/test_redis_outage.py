"""Redis stopped and started again during a run: the items wait in the store, the supervised
worker comes back, and the reconciler re-enqueues every staged batch that has no result."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from jobimport.models import RunStatus
from jobimport.runtime import open_runtime
from jobimport.settings import Settings
from jobimport.store.base import JobQuery
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.queue.support import check_invariants, wait_final
from tests.support import RedisProcess, wait_until

ITEMS = 150
BATCH_SIZE = 2  # 75 batches: a few seconds of work, so Redis can go away half-way


@pytest.mark.slow
async def test_a_run_survives_redis_going_away_and_coming_back(
    make_settings: Callable[..., Settings],
    private_redis: RedisProcess,
    feeds: FeedServer,
    tmp_path: Path,
) -> None:
    url = feeds.put("/feed", rss(items(range(1, ITEMS + 1))))
    settings = make_settings(
        database_url=f"sqlite:///{tmp_path / 'outage.db'}",
        redis_url=private_redis.url,
        queue_name="jobimport-outage",
        batch_size=BATCH_SIZE,
        max_concurrency=2,
        tick_interval_s=1,
        reconcile_after_s=1.0,
        retry_base_delay_s=0.05,
    )
    async with open_runtime(settings, "all") as runtime:
        worker = runtime.worker
        assert worker is not None
        store = runtime.store
        run, _ = await runtime.scheduler.start_run(url, "test")

        async def some_batches_done() -> bool:
            current = await store.get_run(run.id)
            return current is not None and current.batches_done >= 5

        await wait_until(some_batches_done, within=20, what="the first batches")

        await private_redis.stop(signal.SIGKILL)  # Redis is gone, with every queued task
        during = await store.get_run(run.id)
        assert during is not None
        assert during.batches_total == ITEMS // BATCH_SIZE
        assert during.batches_done < during.batches_total, "the run finished before the outage"

        async def worker_noticed() -> bool:
            return worker.restarts >= 1

        await wait_until(worker_noticed, within=10, what="the worker to notice the outage")
        await private_redis.start()  # empty: nothing of the queue survived

        (done,) = await wait_final(store, [run.id], within=40)
        jobs = await store.list_jobs(JobQuery(limit=ITEMS + 10))

    assert done.status is RunStatus.SUCCEEDED, done
    assert (done.counts.fetched, done.counts.new, done.counts.failed) == (ITEMS, ITEMS, 0)
    assert (done.batches_done, done.batches_total) == (ITEMS // BATCH_SIZE, ITEMS // BATCH_SIZE)
    assert done.requeues >= 1  # the reconciler brought the lost batches back
    check_invariants(done)
    assert jobs.total == ITEMS
    assert len({record.job.identity for record in jobs.items}) == ITEMS
