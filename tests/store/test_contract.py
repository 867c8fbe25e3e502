"""The Store contract, run against every backend through the `store` fixture (see conftest.py).

Only the protocol is used here, never SQL or MongoDB queries. Times come from each backend's real
clock and MongoDB keeps milliseconds, so expected orders and time windows are computed from the
values the store hands back, never from the order in which the test wrote them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from jobimport.errors import StoreError
from jobimport.models import (
    MAX_STORED_FAILURES,
    Enclosure,
    FeedErrorInfo,
    FetchInfo,
    ImportRun,
    ItemFailure,
    Job,
    RunCounts,
    RunStatus,
    StagedEntry,
)
from jobimport.store.base import SCHEMA_VERSION, JobQuery, RunQuery, Store

FEED = "https://feeds.example.test/jobs"
OTHER = "https://feeds.example.test/other"
BROKEN = FeedErrorInfo(reason="malformed_xml", message="mismatched tag", line=40, column=3)


def job(ext: str | int, *, h: str = "h1", source: str = "example", **fields: Any) -> Job:
    fields.setdefault("title", f"Job {ext}")
    return Job(source=source, external_id=str(ext), content_hash=f"{ext}:{h}", **fields)


def fail(position: int, reason: str = "missing_title") -> ItemFailure:
    return ItemFailure(reason=reason, message=f"item {position} failed", position=position)


async def begin(store: Store, feed: str = FEED) -> ImportRun:
    run, created = await store.start_or_get_run(feed, "test")
    assert created
    running = await store.mark_run_running(run.id)
    assert running is not None
    return running


async def stage_all(store: Store, run: ImportRun, batches: Sequence[Sequence[StagedEntry]]) -> None:
    for n, entries in enumerate(batches):
        await store.stage_batch(run.id, n, entries)


async def apply_staged(store: Store, run_id: str, n: int) -> None:
    entries = await store.load_staged_batch(run_id, n)
    assert entries is not None
    await store.apply_batch(run_id, n, entries)


async def import_run(
    store: Store,
    batches: Sequence[Sequence[StagedEntry]],
    *,
    feed: str = FEED,
    error: FeedErrorInfo | None = None,
) -> ImportRun:
    """A whole run: start, stage, mark fetched, apply every batch; returns the run as stored."""
    run = await begin(store, feed)
    await stage_all(store, run, batches)
    await store.mark_run_staged(run.id, len(batches), error=error)
    for n in await store.pending_batches(run.id):
        await apply_staged(store, run.id, n)
    final = await store.get_run(run.id)
    assert final is not None
    return final


def check_invariants(run: ImportRun) -> None:
    c = run.counts
    assert c.fetched == c.imported + c.failed
    assert c.imported == c.new + c.updated + c.unchanged
    assert sum(run.failure_counts.values()) == c.failed
    assert len(run.failures) == min(c.failed, MAX_STORED_FAILURES)
    if run.status.is_final and run.staged:
        assert run.batches_done == run.batches_total
        assert run.finished_at is not None


# --- lifecycle and runs -------------------------------------------------------------------


async def test_schema_version_is_current(store: Store) -> None:
    assert await store.schema_version() == SCHEMA_VERSION


async def test_start_or_get_run_returns_the_run_in_flight(store: Store) -> None:
    first, created = await store.start_or_get_run(FEED, "api")
    assert created
    assert (first.status, first.trigger, first.feed_url) == (RunStatus.QUEUED, "api", FEED)
    assert first.created_at.utcoffset() == timedelta(0)
    again, created_again = await store.start_or_get_run(FEED, "cron")
    assert (again.id, again.trigger, created_again) == (first.id, "api", False)
    await store.mark_run_running(first.id)
    running, created_running = await store.start_or_get_run(FEED, "cron")
    assert (running.id, running.status, created_running) == (first.id, RunStatus.RUNNING, False)
    other, created_other = await store.start_or_get_run(OTHER, "api")
    assert created_other
    assert other.id != first.id


async def test_a_new_run_starts_once_the_first_is_final(store: Store) -> None:
    first = await import_run(store, [[job(1)]])
    assert first.status is RunStatus.SUCCEEDED
    second, created = await store.start_or_get_run(FEED, "cron")
    assert created
    assert second.id != first.id
    assert second.status is RunStatus.QUEUED


async def test_concurrent_starts_create_exactly_one_run(store: Store) -> None:
    results = await asyncio.gather(*(store.start_or_get_run(FEED, "api") for _ in range(10)))
    assert sum(created for _run, created in results) == 1
    assert len({run.id for run, _created in results}) == 1
    assert (await store.list_runs(RunQuery(feed_url=FEED))).total == 1


async def test_unknown_ids_read_as_none(store: Store) -> None:
    assert await store.get_run("0" * 24) is None
    assert await store.get_job("0" * 24) is None
    assert await store.get_batch_result("0" * 24, 0) is None
    assert await store.load_staged_batch("0" * 24, 0) is None
    assert await store.mark_run_running("0" * 24) is None


async def test_mark_run_running_counts_attempts_and_keeps_started_at(store: Store) -> None:
    run, _ = await store.start_or_get_run(FEED, "api")
    assert run.started_at is None
    assert run.attempts == 0
    first = await store.mark_run_running(run.id)
    assert first is not None
    assert first.status is RunStatus.RUNNING
    assert first.started_at is not None
    assert first.attempts == 1
    second = await store.mark_run_running(run.id)
    assert second is not None
    assert second.status is RunStatus.RUNNING
    assert (second.started_at, second.attempts) == (first.started_at, 2)
    await store.close_run_early(run.id, RunStatus.FAILED, error=BROKEN)
    assert await store.mark_run_running(run.id) is None
    final = await store.get_run(run.id)
    assert final is not None
    assert final.attempts == 2


# --- applying batches ---------------------------------------------------------------------


async def test_a_full_run_closes_succeeded_with_exact_counts(store: Store) -> None:
    batches = [[job(1), job(2)], [job(3), job(4)], [job(5)]]
    run = await begin(store)
    await stage_all(store, run, batches)
    fetch = FetchInfo(status=200, bytes=1234, etag='"v1"', last_modified="Mon, 01 Jan 2024")
    fetched = await store.mark_run_staged(run.id, 3, fetch=fetch)
    assert (fetched.status, fetched.batches_total, fetched.fetch) == (RunStatus.RUNNING, 3, fetch)
    assert await store.pending_batches(run.id) == [0, 1, 2]
    outcomes = []
    for n in range(3):
        entries = await store.load_staged_batch(run.id, n)
        assert entries == batches[n]
        outcomes.append(await store.apply_batch(run.id, n, entries))
        assert await store.load_staged_batch(run.id, n) is None  # dropped once applied
        assert await store.get_batch_result(run.id, n) == outcomes[-1].result
    assert [o.first_time for o in outcomes] == [True, True, True]
    assert [o.run.status for o in outcomes] == [RunStatus.RUNNING] * 2 + [RunStatus.SUCCEEDED]
    assert outcomes[0].result.counts == RunCounts(fetched=2, new=2)
    assert outcomes[0].run.batches_done == 1
    final = await store.get_run(run.id)
    assert final == outcomes[-1].run
    assert final.counts == RunCounts(fetched=5, new=5)
    assert final.finished_at is not None
    assert final.started_at is not None
    assert final.finished_at >= final.started_at
    assert final.duration_ms is not None
    assert final.duration_ms >= 0
    check_invariants(final)
    assert await store.pending_batches(run.id) == []
    assert await store.count_jobs() == 5


async def test_apply_batch_twice_returns_the_first_result(store: Store) -> None:
    run = await begin(store)
    entries: list[StagedEntry] = [job(1), job(2), fail(2)]
    await stage_all(store, run, [entries, [job(3)]])
    await store.mark_run_staged(run.id, 2)
    first = await store.apply_batch(run.id, 0, entries)
    replay = await store.apply_batch(run.id, 0, entries)
    assert first.first_time
    assert not replay.first_time
    assert replay.result == first.result
    assert replay.run == first.run
    assert replay.run.counts == RunCounts(fetched=3, new=2, failed=1)
    assert replay.run.batches_done == 1
    assert (await store.get_run(run.id)) == first.run
    assert await store.count_jobs() == 2


async def test_concurrent_applies_of_one_batch_count_once(store: Store) -> None:
    run = await begin(store)
    entries = [job(1), job(2)]
    await stage_all(store, run, [entries])
    await store.mark_run_staged(run.id, 1)
    outcomes = await asyncio.gather(*(store.apply_batch(run.id, 0, entries) for _ in range(5)))
    assert sum(o.first_time for o in outcomes) == 1
    assert {o.result for o in outcomes} == {outcomes[0].result}
    final = await store.get_run(run.id)
    assert final is not None
    assert (final.status, final.counts) == (RunStatus.SUCCEEDED, RunCounts(fetched=2, new=2))
    assert final.batches_done == 1


async def test_later_runs_classify_against_the_store(store: Store) -> None:
    a = await import_run(store, [[job(1), job(2)], [job(3)]])
    assert a.counts == RunCounts(fetched=3, new=3)
    b = await import_run(store, [[job(1), job(2)], [job(3)]])
    assert (b.status, b.counts) == (RunStatus.SUCCEEDED, RunCounts(fetched=3, unchanged=3))
    c = await import_run(store, [[job(1), job(2, h="h2", title="Job 2, edited")], [job(4)]])
    assert c.counts == RunCounts(fetched=3, new=1, updated=1, unchanged=1)
    check_invariants(c)

    one, two, three = [await store.get_job(job(i).id) for i in (1, 2, 3)]
    assert one is not None
    assert two is not None
    assert three is not None
    assert (one.first_seen_run_id, one.last_changed_run_id, one.last_seen_run_id) == (
        a.id,
        a.id,
        c.id,
    )
    assert one.first_seen_at == one.last_changed_at <= one.last_seen_at
    assert (two.first_seen_run_id, two.last_changed_run_id, two.last_seen_run_id) == (
        a.id,
        c.id,
        c.id,
    )
    assert two.job == job(2, h="h2", title="Job 2, edited")
    assert two.last_changed_at >= two.first_seen_at
    assert (three.last_seen_run_id, three.last_changed_run_id) == (b.id, a.id)
    assert await store.count_jobs() == 4


async def test_an_update_replaces_author_and_enclosures(store: Store) -> None:
    pdf = Enclosure("https://example.test/1.pdf", "application/pdf", 10)
    await import_run(store, [[job(1, author="Jane", enclosures=(pdf,))]])
    changed = job(1, h="h2", author=None, enclosures=(Enclosure("https://example.test/2.pdf"),))
    run = await import_run(store, [[changed]])
    assert run.counts == RunCounts(fetched=1, updated=1)
    stored = await store.get_job(changed.id)
    assert stored is not None
    assert (stored.job.author, stored.job.enclosures) == (None, changed.enclosures)


async def test_a_job_in_two_feeds_is_one_job_listing_both(store: Store) -> None:
    first = await import_run(store, [[job(1), job(2)]], feed=FEED)
    second = await import_run(store, [[job(1), job(3)]], feed=OTHER)
    assert first.counts.new == 2
    assert second.counts == RunCounts(fetched=2, new=1, unchanged=1)
    shared = await store.get_job(job(1).id)
    assert shared is not None
    assert shared.feeds == (FEED, OTHER)
    again = await import_run(store, [[job(1)]], feed=FEED)
    assert again.counts.unchanged == 1
    shared = await store.get_job(job(1).id)
    assert shared is not None
    assert shared.feeds == (FEED, OTHER)
    assert await store.count_jobs() == 3


async def test_concurrent_runs_with_the_same_new_job_count_it_new_once(store: Store) -> None:
    runs = [await begin(store, FEED), await begin(store, OTHER)]
    for run in runs:
        await stage_all(store, run, [[job(7)]])
        await store.mark_run_staged(run.id, 1)
    outcomes = await asyncio.gather(*(store.apply_batch(r.id, 0, [job(7)]) for r in runs))
    assert sorted(o.result.counts.new for o in outcomes) == [0, 1]
    assert sorted(o.result.counts.unchanged for o in outcomes) == [0, 1]
    assert all(o.run.status is RunStatus.SUCCEEDED for o in outcomes)
    assert await store.count_jobs() == 1
    stored = await store.get_job(job(7).id)
    assert stored is not None
    assert set(stored.feeds) == {FEED, OTHER}
    winner = next(o for o in outcomes if o.result.counts.new == 1)
    assert stored.first_seen_run_id == winner.run.id


async def test_some_items_failing_make_a_partial_run(store: Store) -> None:
    run = await import_run(store, [[job(1), fail(1), job(2)], [fail(3, "invalid_url")]])
    assert run.status is RunStatus.PARTIAL
    assert run.counts == RunCounts(fetched=4, new=2, failed=2)
    assert run.failures == (fail(1), fail(3, "invalid_url"))
    assert run.failure_counts == {"missing_title": 1, "invalid_url": 1}
    result = await store.get_batch_result(run.id, 0)
    assert result is not None
    assert result.failures == (fail(1),)
    check_invariants(run)


async def test_every_item_failing_makes_a_failed_run(store: Store) -> None:
    run = await import_run(store, [[fail(0), fail(1)], [fail(2)]])
    assert run.status is RunStatus.FAILED
    assert run.counts == RunCounts(fetched=3, failed=3)
    check_invariants(run)
    assert await store.count_jobs() == 0


async def test_a_document_broken_after_some_items_is_partial(store: Store) -> None:
    run = await import_run(store, [[job(1), job(2)]], error=BROKEN)
    assert (run.status, run.error) == (RunStatus.PARTIAL, BROKEN)
    assert run.counts == RunCounts(fetched=2, new=2)


async def test_failures_past_the_cap_are_only_counted(store: Store) -> None:
    batches: list[list[StagedEntry]] = [
        [fail(i) for i in range(60)],
        [fail(i) for i in range(60, 120)] + [job(i) for i in range(120, 125)],
        [fail(i, "invalid_url") for i in range(125, 135)],
    ]
    run = await import_run(store, batches)
    assert run.status is RunStatus.PARTIAL
    assert run.counts == RunCounts(fetched=135, new=5, failed=130)
    assert len(run.failures) == MAX_STORED_FAILURES
    assert [f.position for f in run.failures] == list(range(100))  # the first ones, in full
    assert run.failures[0] == fail(0)
    assert run.failure_counts == {"missing_title": 120, "invalid_url": 10}
    check_invariants(run)


async def test_a_batch_result_keeps_at_most_the_cap_of_failures(store: Store) -> None:
    run = await import_run(store, [[fail(i) for i in range(150)]])
    result = await store.get_batch_result(run.id, 0)
    assert result is not None
    assert result.counts == RunCounts(fetched=150, failed=150)
    assert list(result.failures) == [fail(i) for i in range(MAX_STORED_FAILURES)]


async def test_a_repeated_identity_in_one_batch_fails_as_duplicate(store: Store) -> None:
    run = await import_run(store, [[job(1, position=0), job(1, h="h2", position=1)]])
    assert run.counts == RunCounts(fetched=2, new=1, failed=1)
    assert run.failure_counts == {"duplicate_in_feed": 1}
    assert run.failures[0].position == 1
    check_invariants(run)


async def test_apply_to_an_unknown_run_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.apply_batch("0" * 24, 0, [job(1)])
    with pytest.raises(StoreError):
        await store.mark_run_staged("0" * 24, 1)
    assert await store.count_jobs() == 0


# --- fetched, early finish, staging -------------------------------------------------------


async def test_mark_run_fetched_happens_once(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)]])
    fetch = FetchInfo(status=200, bytes=10)
    first = await store.mark_run_staged(run.id, 2, fetch=fetch)
    second = await store.mark_run_staged(run.id, 5, fetch=FetchInfo(status=500), error=BROKEN)
    assert second == first
    assert (second.batches_total, second.fetch, second.error) == (2, fetch, None)


@pytest.mark.parametrize(
    ("error", "status"), [(None, RunStatus.SUCCEEDED), (BROKEN, RunStatus.FAILED)]
)
async def test_zero_batches_close_the_run_at_once(
    store: Store, error: FeedErrorInfo | None, status: RunStatus
) -> None:
    run = await begin(store)
    closed = await store.mark_run_staged(run.id, 0, fetch=FetchInfo(status=200), error=error)
    assert (closed.status, closed.batches_total, closed.error) == (status, 0, error)
    assert closed.finished_at is not None
    assert closed.counts == RunCounts()
    assert await store.get_run(run.id) == closed
    assert await store.pending_batches(run.id) == []


async def test_finish_run_early_closes_a_run_that_never_staged(store: Store) -> None:
    run = await begin(store)
    fetch = FetchInfo(status=304, not_modified=True, etag='"v1"', duration_ms=12)
    closed = await store.close_run_early(run.id, RunStatus.NOT_MODIFIED, fetch=fetch)
    assert closed is not None
    assert (closed.status, closed.fetch, closed.error) == (RunStatus.NOT_MODIFIED, fetch, None)
    assert closed.finished_at is not None
    assert closed.batches_total is None
    assert await store.close_run_early(run.id, RunStatus.FAILED, error=BROKEN) is None
    assert await store.get_run(run.id) == closed
    queued, _ = await store.start_or_get_run(FEED, "api")
    cancelled = await store.close_run_early(queued.id, RunStatus.CANCELLED)
    assert cancelled is not None
    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.started_at is None
    assert cancelled.duration_ms is None


async def test_finish_run_early_refuses_a_fetched_run(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)]])
    fetched = await store.mark_run_staged(run.id, 1)
    assert await store.close_run_early(run.id, RunStatus.FAILED, error=BROKEN) is None
    assert await store.get_run(run.id) == fetched
    assert await store.load_staged_batch(run.id, 0) == [job(1)]


async def test_reset_staging_only_before_fetched(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)]])
    await store.reset_staging(run.id)
    assert await store.load_staged_batch(run.id, 0) is None
    assert await store.load_staged_batch(run.id, 1) is None
    await stage_all(store, run, [[job(3)]])
    await store.mark_run_staged(run.id, 1)
    await store.reset_staging(run.id)
    assert await store.load_staged_batch(run.id, 0) == [job(3)]


async def test_staging_after_fetched_changes_nothing(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)]])
    await store.mark_run_staged(run.id, 1)
    await store.stage_batch(run.id, 0, [job(9)])
    await store.stage_batch(run.id, 1, [job(10)])
    assert await store.load_staged_batch(run.id, 0) == [job(1)]
    assert await store.load_staged_batch(run.id, 1) is None


async def test_pending_batches_lists_those_without_a_result(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)], [job(2)], [job(3)]])
    await store.mark_run_staged(run.id, 3)
    await apply_staged(store, run.id, 1)
    assert await store.pending_batches(run.id) == [0, 2]
    await apply_staged(store, run.id, 2)
    assert await store.pending_batches(run.id) == [0]
    await apply_staged(store, run.id, 0)
    assert await store.pending_batches(run.id) == []


async def test_staged_entries_round_trip_exactly(store: Store) -> None:
    full = job(
        "42",
        source="jobicy",
        title="Développeur Python ✓",
        company="ACME",
        location="Remote (EU)",
        job_type="full-time",
        categories=("dev", "python"),
        summary="Short teaser",
        description_html="<p>Hello <b>world</b></p>",
        description_text="Hello world",
        url="https://example.test/jobs/42",
        logo_url="https://example.test/logo.png",
        published_at=datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC),
        author="Jane Roe",
        enclosures=(
            Enclosure("https://example.test/jobs/42.pdf", "application/pdf", 12345),
            Enclosure("https://example.test/jobs/42.mp3"),
        ),
        raw={
            "title": "Développeur",
            "category": ["dev", "python"],
            "job_listing:company": {"@id": "7", "#text": "ACME"},
            "nested": [{"a": ["b", {"c": "d"}]}, []],
            "empty": "",
        },
        position=3,
    )
    minimal = job("43", position=4)
    other_zone = job(
        "44", published_at=datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    failure = ItemFailure(
        reason="invalid_url",
        message="not http(s)",
        position=5,
        identity="jobicy:45",
        url="ftp://x",
        title="T",
    )
    entries: list[StagedEntry] = [
        full,
        failure,
        minimal,
        ItemFailure("missing_title", "m"),
        other_zone,
    ]
    run = await begin(store)
    await store.stage_batch(run.id, 0, entries)
    loaded = await store.load_staged_batch(run.id, 0)
    assert loaded == entries
    assert loaded is not None
    published = [e.published_at for e in loaded if isinstance(e, Job) and e.published_at]
    assert all(p.utcoffset() == timedelta(0) for p in published)
    await store.mark_run_staged(run.id, 1)
    await store.apply_batch(run.id, 0, loaded)
    stored = await store.get_job(full.id)
    assert stored is not None
    assert stored.job == full
    assert stored.id == full.id


# --- listings -----------------------------------------------------------------------------


def _low_none(value: Any) -> tuple[bool, Any]:
    """Sort key where None sorts below every value, as on both backends."""
    return (value is not None, value)


RUN_SORT_KEYS: dict[str, Callable[[ImportRun], Any]] = {
    "created_at": lambda r: r.created_at,
    "started_at": lambda r: r.started_at,
    "updated_at": lambda r: r.updated_at,
    "duration": lambda r: r.duration_ms,
    "feed_url": lambda r: r.feed_url,
    "status": lambda r: r.status.value,
    "fetched": lambda r: r.counts.fetched,
    "new": lambda r: r.counts.new,
    "updated": lambda r: r.counts.updated,
    "unchanged": lambda r: r.counts.unchanged,
    "failed": lambda r: r.counts.failed,
}


async def _history(store: Store) -> list[ImportRun]:
    """Six runs of six feeds, one of each kind, as stored."""
    await import_run(store, [[job(1), job(2), job(3)]], feed="https://a.test/feed")
    await import_run(store, [[job(1, h="h2"), fail(1), fail(2)]], feed="https://b.test/feed")
    early = await begin(store, "https://c.test/feed")
    await store.close_run_early(early.id, RunStatus.NOT_MODIFIED)
    await store.start_or_get_run("https://d.test/feed", "api")  # stays queued, never started
    await import_run(store, [[fail(0), fail(1)]], feed="https://e.test/feed")
    broken = await begin(store, "https://f.test/feed")
    await store.close_run_early(broken.id, RunStatus.FAILED, error=BROKEN)
    page = await store.list_runs(RunQuery(limit=100))
    assert page.total == len(page.items) == 6
    return page.items


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", list(RUN_SORT_KEYS))
async def test_list_runs_sorts_by_each_key_then_id(
    store: Store, sort: str, descending: bool
) -> None:
    runs = await _history(store)
    key = RUN_SORT_KEYS[sort]
    expected = sorted(runs, key=lambda r: (_low_none(key(r)), r.id), reverse=descending)
    page = await store.list_runs(RunQuery(sort=sort, descending=descending, limit=100))
    assert [r.id for r in page.items] == [r.id for r in expected]


async def test_list_runs_filters_and_pages(store: Store) -> None:
    runs = await _history(store)
    by_feed = {r.feed_url[8]: r for r in runs}  # "https://a.test" → "a"

    async def ids(**query: Any) -> set[str]:
        page = await store.list_runs(RunQuery(limit=100, **query))
        assert page.total == len(page.items)
        return {r.id for r in page.items}

    def of(*letters: str) -> set[str]:
        return {by_feed[x].id for x in letters}

    assert await ids(feed_url="https://b.test/feed") == of("b")
    assert await ids(statuses=(RunStatus.SUCCEEDED, RunStatus.PARTIAL)) == of("a", "b")
    assert await ids(statuses=(RunStatus.QUEUED,)) == of("d")
    assert await ids(only_with_failures=True) == of("b", "e", "f")
    assert await ids(only_with_failures=True, statuses=(RunStatus.FAILED,)) == of("e", "f")
    pivot = sorted(r.created_at for r in runs)[3]
    after = await ids(created_after=pivot)  # inclusive
    before = await ids(created_before=pivot)  # exclusive
    assert after == {r.id for r in runs if r.created_at >= pivot}
    assert before == {r.id for r in runs if r.created_at < pivot}
    assert after | before == {r.id for r in runs}
    assert not after & before
    window = await ids(created_after=pivot, created_before=pivot + timedelta(days=1))
    assert window == after
    assert await ids(created_after=datetime.now(UTC) + timedelta(days=1)) == set()

    newest_first = sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)
    page = await store.list_runs(RunQuery(limit=2, offset=1))
    assert page.total == 6
    assert [r.id for r in page.items] == [r.id for r in newest_first[1:3]]
    tail = await store.list_runs(RunQuery(limit=10, offset=5))
    assert (len(tail.items), tail.total) == (1, 6)
    listed_b = (await store.list_runs(RunQuery(feed_url="https://b.test/feed"))).items[0]
    assert listed_b == by_feed["b"]
    assert listed_b.failures == (fail(1), fail(2))


async def test_list_runs_refuses_an_unknown_sort(store: Store) -> None:
    with pytest.raises(ValueError, match="sort"):
        await store.list_runs(RunQuery(sort="id; DROP TABLE import_logs"))


async def _catalogue(store: Store) -> None:
    await import_run(
        store,
        [
            [
                job(
                    1,
                    title="Senior Python Engineer",
                    company="ACME",
                    position=0,
                    description_text="Remote work with Django",
                ),
                job(
                    2,
                    title="Data Analyst",
                    company="Globex",
                    position=1,
                    description_text="SQL and python notebooks",
                ),
                job(
                    3,
                    title="Designer",
                    company="ACME",
                    position=2,
                    description_text="Figma, 100% remote",
                ),
                job(4, title="Go developer", company="Initech", source="jobicy", position=3),
            ]
        ],
        feed=FEED,
    )
    await import_run(store, [[job(2, title="Data Analyst", company="Globex"), job(5)]], feed=OTHER)


async def test_list_jobs_filters(store: Store) -> None:
    await _catalogue(store)

    async def ids(**query: Any) -> set[str]:
        page = await store.list_jobs(JobQuery(limit=100, **query))
        assert page.total == len(page.items)
        return {r.job.external_id for r in page.items}

    assert await ids() == {"1", "2", "3", "4", "5"}
    assert await ids(text="python") == {"1", "2"}  # title or description, any case
    assert await ids(text="acme") == {"1", "3"}  # company
    assert await ids(text="PYTHON remote") == {"1"}  # every word, in any field
    assert await ids(text="100%") == {"3"}  # wildcards are literal
    assert await ids(text="nobody-has-this") == set()
    assert await ids(source="jobicy") == {"4"}
    assert await ids(company="ACME") == {"1", "3"}
    assert await ids(feed_url=OTHER) == {"2", "5"}
    assert await ids(feed_url=FEED) == {"1", "2", "3", "4"}
    assert await ids(feed_url=FEED, company="Globex", text="analyst") == {"2"}

    records = (await store.list_jobs(JobQuery(limit=100))).items
    since = max(r.last_changed_at for r in records)
    expected = {r.job.external_id for r in records if r.last_changed_at >= since}
    assert "5" in expected
    assert await ids(updated_since=since) == expected  # inclusive
    assert await ids(updated_since=since + timedelta(seconds=1)) == set()


async def test_list_jobs_newest_change_first_then_document_order(store: Store) -> None:
    await _catalogue(store)
    everything = await store.list_jobs(JobQuery(limit=100))
    records = everything.items
    expected = sorted(records, key=lambda r: (r.job.position, r.id))
    expected.sort(key=lambda r: r.last_changed_at, reverse=True)  # stable: ties keep the above
    assert [r.id for r in records] == [r.id for r in expected]
    first_batch = records[-1].last_changed_run_id  # one batch: one timestamp, document order
    same_batch = [r.job.external_id for r in records if r.last_changed_run_id == first_batch]
    assert same_batch == ["1", "2", "3", "4"]
    page = await store.list_jobs(JobQuery(limit=2, offset=2))
    assert page.total == 5 == await store.count_jobs()
    assert [r.id for r in page.items] == [r.id for r in records[2:4]]
    assert (await store.list_jobs(JobQuery(limit=0))).total == 5
