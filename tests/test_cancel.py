"""Cancelling a run whose batches are staged and queued: the queued batch steps find it
cancelled and do nothing (no error, no second announcement), and nothing more is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from jobimport.events.types import RunEvent
from jobimport.models import RunStatus
from jobimport.pipeline import Pipeline
from jobimport.reader.fetch import make_client_session
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import Store
from tests.feedgen import items, rss
from tests.feedserver import FeedServer


@pytest.fixture
async def events() -> list[RunEvent]:
    return []


@pytest.fixture
async def pipeline(
    make_settings: Callable[..., Settings], events: list[RunEvent]
) -> AsyncIterator[Pipeline]:
    settings = make_settings(batch_size=2)
    store: Store = open_store(settings.database_url)
    await store.open()

    async def record(event: RunEvent) -> None:
        events.append(event)

    async with make_client_session(settings) as session:
        yield Pipeline(settings, store, session, publish=record)
    await store.close()


async def test_batches_queued_behind_a_cancel_do_nothing(
    feeds: FeedServer, pipeline: Pipeline, events: list[RunEvent]
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 7))))  # three batches of two
    run, _ = await pipeline.store.start_or_get_run(url, "test")
    staged = await pipeline.fetch_and_stage(run.id)
    assert (staged.status, staged.batches_total) == (RunStatus.RUNNING, 3)
    first = await pipeline.apply_batch(run.id, 0)
    assert first.counts.new == 2

    cancelled = await pipeline.cancel(run.id)
    assert cancelled is not None
    assert cancelled.status is RunStatus.CANCELLED
    for n in (1, 2):  # the tasks still on the queue
        after = await pipeline.apply_batch(run.id, n)
        assert after.status is RunStatus.CANCELLED
        assert after.counts == cancelled.counts
    assert await pipeline.cancel(run.id) is None  # already final

    assert await pipeline.store.count_jobs() == 2  # what the first batch stored stays
    finished = [e for e in events if e.type == "run.finished"]
    assert [e.run.status for e in finished] == [RunStatus.CANCELLED]
    feed = await pipeline.store.get_feed(url)
    assert feed is not None
    assert (feed.last_status, feed.consecutive_failures) == ("cancelled", 0)
