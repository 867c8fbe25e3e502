"""Issue 15 ("ten thousand feeds"): the tick reads due feeds from the store in slices (keyset
pages of `Scheduler.due_page`), never the whole feed list, and still starts every due feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from jobimport.models import utc_now
from jobimport.pipeline import Pipeline
from jobimport.queue.local import LocalQueue
from jobimport.queue.names import BATCH, FETCH
from jobimport.queue.tasks import Tasks
from jobimport.reader.fetch import make_client_session
from jobimport.scheduler import Scheduler
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import RunQuery, Store


class CountingStore:
    """The real store, counting the due-feed pages read; reading every feed fails the test."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.pages: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def list_due_feeds(self, now: datetime, **page: Any) -> list[Any]:
        found = await self._inner.list_due_feeds(now, **page)
        self.pages.append(len(found))
        return found

    async def list_feeds(self) -> list[Any]:
        raise AssertionError("the tick read every registered feed at once")


async def test_the_tick_starts_every_due_feed_reading_them_in_slices(
    queue_settings: Callable[..., Settings],
) -> None:
    settings = queue_settings("local")
    inner = open_store(settings.database_url)
    await inner.open()
    counting = CountingStore(inner)
    store = cast(Store, counting)
    # Not started: the tick's fetches stay queued, so only the tick itself is under test.
    local = LocalQueue(concurrency=1, max_tries=1, job_timeout_s=10)
    try:
        urls = [f"https://feeds.example.test/{i:04d}" for i in range(2500)]
        await inner.seed_feeds(urls)  # never imported: due at once
        now = utc_now()
        not_due, paused = set(urls[::5]), set(urls[1::50])
        for url in not_due | paused:
            feed = await inner.get_feed(url)
            assert feed is not None
            if url in paused:
                await inner.update_feed(feed.id, {"paused": True})
            else:
                await inner.update_feed(feed.id, {"next_run_at": now + timedelta(minutes=5)})
        # Some due feeds have run before: they are due by time, not never-run.
        for url in urls[2::7]:
            if url not in not_due | paused:
                feed = await inner.get_feed(url)
                assert feed is not None
                await inner.update_feed(feed.id, {"next_run_at": now - timedelta(minutes=1)})
        due = set(urls) - not_due - paused

        async with make_client_session(settings) as session:
            pipeline = Pipeline(settings, store, session, publish=_ignore)
            tasks = Tasks(settings, pipeline, local)
            local.register(FETCH, tasks.fetch)
            local.register(BATCH, tasks.batch)
            scheduler = Scheduler(
                settings, store, pipeline, local, local.is_pending, lambda: now, _ignore,
                due_page=64,
            )  # fmt: skip
            report = await scheduler.tick()

            assert len(report.started) == len(due)
            runs = await inner.list_runs(RunQuery(limit=len(due) + 10))
            assert {run.feed_url for run in runs.items} == due
            assert runs.total == len(due)
            assert local.stats().waiting == len(due)  # one fetch queued per started run
            # Slices of at most 64, as many as needed and one short (or empty) last one.
            assert max(counting.pages) == 64
            assert sum(counting.pages) == len(due)
            assert len(counting.pages) == len(due) // 64 + 1

            counting.pages.clear()
            assert (await scheduler.tick()).started == []  # all in flight now
    finally:
        await local.close()
        await inner.close()


async def _ignore(event: object) -> None:
    del event
