"""Contract of the API's queries, on every backend: the job filters and sorts of `/api/jobs`
(location, type, category, source, feed; every sort key both ways) and the counts `/metrics`
reads (runs by status, items summed over runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jobimport.models import FeedErrorInfo, RunCounts, RunStatus
from jobimport.store.base import JOB_SORTS, JobQuery, JobRecord, Store
from tests.store.test_contract import FEED, OTHER, fail, import_run, job


def when(day: int) -> datetime:
    return datetime(2026, 11, day, 9, 30, tzinfo=UTC)


async def _catalogue(store: Store) -> None:
    await import_run(
        store,
        [
            [
                job(
                    1,
                    title="Backend Engineer",
                    company="ACME",
                    location="USA, Canada",
                    job_type="Full Time",
                    categories=("Software", "Python"),
                    published_at=when(20),
                    position=0,
                ),
                job(
                    2,
                    title="analyst",
                    company="Globex",
                    location="Europe",
                    job_type="Contract",
                    categories=("Data",),
                    published_at=when(22),
                    position=1,
                ),
                job(
                    3,
                    title="Designer",
                    company=None,
                    location="usa only",
                    job_type="Full Time",
                    categories=("Design",),
                    position=2,
                ),
                job(
                    4,
                    title="Zeta Ops",
                    company="Initech",
                    location=None,
                    source="jobicy",
                    job_type=None,
                    categories=("Software",),
                    published_at=when(21),
                    position=3,
                ),
            ]
        ],
        feed=FEED,
    )
    await import_run(store, [[job(5, title="Late", company="ACME", position=0)]], feed=OTHER)
    # the second feed lists job 2 too
    await import_run(store, [[job(2, title="analyst", company="Globex", location="Europe",
                                  job_type="Contract", categories=("Data",),
                                  published_at=when(22), position=1)]], feed=OTHER)  # fmt: skip


async def _ids(store: Store, **query: Any) -> list[str]:
    page = await store.list_jobs(JobQuery(limit=100, **query))
    assert page.total == len(page.items)
    return [r.job.external_id for r in page.items]


async def test_job_filters_location_type_category_source_feed(store: Store) -> None:
    await _catalogue(store)

    async def ids(**query: Any) -> set[str]:
        return set(await _ids(store, **query))

    assert await ids(location="usa") == {"1", "3"}  # contains, any case
    assert await ids(location="USA, C") == {"1"}
    assert await ids(location="%") == set()  # wildcards are literal
    assert await ids(job_type="Full Time") == {"1", "3"}
    assert await ids(job_type="full time") == set()  # exact
    assert await ids(category="Software") == {"1", "4"}  # one of the categories
    assert await ids(category="Soft") == set()  # exact element, not a substring
    assert await ids(source="jobicy") == {"4"}
    assert await ids(feed_url=OTHER) == {"2", "5"}
    assert await ids(feed_url=OTHER, category="Data", location="eur") == {"2"}
    assert await ids(company="ACME", job_type="Full Time") == {"1"}


def _key(record: JobRecord, sort: str) -> Any:
    return {
        "last_changed_at": record.last_changed_at,
        "published_at": record.job.published_at,
        "first_seen_at": record.first_seen_at,
        "last_seen_at": record.last_seen_at,
        "title": record.job.title,
        "company": record.job.company,
    }[sort]


@pytest.mark.parametrize("sort", JOB_SORTS)
@pytest.mark.parametrize("descending", [True, False])
async def test_job_sorts_both_ways_missing_values_low(
    store: Store, sort: str, descending: bool
) -> None:
    await _catalogue(store)
    records = (await store.list_jobs(JobQuery(limit=100))).items
    # Expected: by key (missing lowest), ties in document order then id, which stay ascending.
    expected = sorted(records, key=lambda r: (r.job.position, r.id))
    present = [r for r in expected if _key(r, sort) is not None]
    missing = [r for r in expected if _key(r, sort) is None]
    present.sort(key=lambda r: _key(r, sort), reverse=descending)
    ordered = present + missing if descending else missing + present
    page = await store.list_jobs(JobQuery(limit=100, sort=sort, descending=descending))
    assert [r.id for r in page.items] == [r.id for r in ordered]
    second = await store.list_jobs(JobQuery(limit=2, offset=2, sort=sort, descending=descending))
    assert [r.id for r in second.items] == [r.id for r in ordered[2:4]]


async def test_job_sort_refuses_unknown_keys(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown sort"):
        await store.list_jobs(JobQuery(sort="title; DROP TABLE jobs"))


async def test_counts_for_metrics(store: Store) -> None:
    assert await store.count_runs_by_status() == {}
    assert await store.sum_run_counts() == RunCounts()
    await import_run(store, [[job(1), job(2), fail(2)], [job(3)]])
    await import_run(store, [[job(1), job(4, h="h2")]], feed=OTHER)
    await import_run(store, [], error=FeedErrorInfo(reason="http_5xx", message="boom"))
    queued, _ = await store.start_or_get_run("https://third.test/feed", "test")
    assert queued.status is RunStatus.QUEUED

    assert await store.count_runs_by_status() == {
        "partial": 1,
        "succeeded": 1,
        "failed": 1,
        "queued": 1,
    }
    assert await store.sum_run_counts() == RunCounts(
        fetched=6, new=4, updated=0, unchanged=1, failed=1
    )
