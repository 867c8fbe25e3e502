"""Jobs that vanish, end to end: real HTTP on loopback → pipeline → SQLite, EXPIRE_AFTER_RUNS = 3.

Three whole-document imports without an item expire exactly that job; failed runs and broken
documents in between expire nothing; a 304 counts; the item's return reactivates the job."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from jobimport.models import ImportRun, JobStatus, RunStatus
from jobimport.pipeline import Pipeline
from jobimport.reader.fetch import make_client_session
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import JobQuery, Store
from jobimport.wire import ImportLog
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.inline import import_inline


@pytest.fixture
async def pipeline(make_settings: Callable[..., Settings]) -> AsyncIterator[Pipeline]:
    settings = make_settings(batch_size=4)
    assert settings.expire_after_runs == 3  # the default the issue names
    store: Store = open_store(settings.database_url, expire_after_runs=3)
    await store.open()
    async with make_client_session(settings) as session:
        yield Pipeline(settings, store, session)
    await store.close()


async def statuses(store: Store) -> dict[str, JobStatus]:
    page = await store.list_jobs(JobQuery(limit=100))
    return {record.job.title: record.status for record in page.items}


async def expired_ids(store: Store) -> set[str]:
    page = await store.list_jobs(JobQuery(status=JobStatus.EXPIRED, limit=100))
    return {record.job.title.removeprefix("Job number ") for record in page.items}


async def run(pipeline: Pipeline, url: str, expect: RunStatus) -> ImportRun:
    done = await import_inline(pipeline, url)
    assert done.status is expect, done
    return done


async def test_a_removed_item_expires_after_three_whole_runs_and_returns(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    store = pipeline.store
    url = feeds.put("/feed", rss(items(range(1, 7))), validators=False)
    await run(pipeline, url, RunStatus.SUCCEEDED)
    assert set((await statuses(store)).values()) == {JobStatus.ACTIVE}

    feeds.put("/feed", rss(items([1, 2, 3, 4, 6])), validators=False)  # job 5 is gone
    first = await run(pipeline, url, RunStatus.SUCCEEDED)
    second = await run(pipeline, url, RunStatus.SUCCEEDED)
    assert (first.counts.expired, second.counts.expired) == (0, 0)
    assert await expired_ids(store) == set()

    # A failed run and a document that breaks part-way see less than the feed: they never count.
    feeds.put("/feed", b"", status=503, validators=False)
    await run(pipeline, url, RunStatus.FAILED)
    broken = rss(items([1, 2, 3, 4, 6])).replace(b"</channel>", b"<oops>")
    feeds.put("/feed", broken, validators=False)
    cut = await run(pipeline, url, RunStatus.PARTIAL)
    assert cut.error is not None
    assert cut.counts.expired == 0
    assert await expired_ids(store) == set()

    feeds.put("/feed", rss(items([1, 2, 3, 4, 6])), validators=False)
    third = await run(pipeline, url, RunStatus.SUCCEEDED)
    assert third.counts.expired == 1
    assert ImportLog.of(third).model_dump()["expiredJobs"] == 1
    assert await expired_ids(store) == {"5"}
    (gone,) = (await store.list_jobs(JobQuery(status=JobStatus.EXPIRED))).items
    assert gone.expired_at is not None
    assert gone.job.title == "Job number 5"
    assert await store.count_jobs() == 6

    feeds.put("/feed", rss(items(range(1, 7))), validators=False)  # job 5 is back
    back = await run(pipeline, url, RunStatus.SUCCEEDED)
    assert back.counts.expired == 0
    assert await expired_ids(store) == set()
    record = await store.get_job(gone.id)
    assert record is not None
    assert (record.status, record.expired_at) == (JobStatus.ACTIVE, None)


async def test_not_modified_runs_count_and_a_job_in_two_feeds_needs_both(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    store = pipeline.store
    main = feeds.put("/main", rss(items(range(1, 5))))  # with validators: 304s follow
    other = feeds.put("/other", rss(items([4, 9])), validators=False)
    await run(pipeline, main, RunStatus.SUCCEEDED)
    await run(pipeline, other, RunStatus.SUCCEEDED)

    feeds.put("/main", rss(items([1, 2])))  # 3 and 4 leave main; 4 stays listed by other
    await run(pipeline, main, RunStatus.SUCCEEDED)
    await run(pipeline, main, RunStatus.NOT_MODIFIED)
    third = await run(pipeline, main, RunStatus.NOT_MODIFIED)
    assert third.counts.expired == 1
    assert await expired_ids(store) == {"3"}

    feeds.put("/other", rss(items([9])), validators=False)  # now 4 leaves other too
    for _ in range(2):
        await run(pipeline, other, RunStatus.SUCCEEDED)
    assert await expired_ids(store) == {"3"}
    last = await run(pipeline, other, RunStatus.SUCCEEDED)
    assert last.counts.expired == 1
    assert await expired_ids(store) == {"3", "4"}
