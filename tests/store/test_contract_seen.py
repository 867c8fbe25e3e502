"""Sightings (`SeenItem`) and link fingerprints, on every backend: what the pipeline stages for an
item its feed repeats as it was."""

from __future__ import annotations

import dataclasses

from jobimport.models import ItemFailure, Job, JobStatus, RunCounts, RunStatus, SeenItem
from jobimport.store.base import Store
from tests.store.test_contract import FEED, begin, import_run, job

OTHER = "https://feeds.example.test/other"


def fingerprinted(ext: int, fp: str = "fp1", **fields: object) -> Job:
    return dataclasses.replace(job(ext, **fields), fingerprint=f"{ext}:{fp}")  # type: ignore[arg-type]


def seen(ext: int, fp: str = "fp1", position: int = 0) -> SeenItem:
    return SeenItem("example", str(ext), f"{ext}:{fp}", position=position)


async def test_links_keep_the_fingerprint_of_their_own_feed(store: Store) -> None:
    await import_run(store, [[fingerprinted(1), fingerprinted(2), job(3)]])
    await import_run(store, [[fingerprinted(2, "other-feed")]], feed=OTHER)
    ids = [job(i).id for i in (1, 2, 3, 4)]
    assert await store.link_fingerprints(FEED, ids) == {job(1).id: "1:fp1", job(2).id: "2:fp1"}
    assert await store.link_fingerprints(OTHER, ids) == {job(2).id: "2:other-feed"}
    assert await store.link_fingerprints(FEED, []) == {}
    await import_run(store, [[fingerprinted(1, "fp2")]])  # the feed said something else
    assert await store.link_fingerprints(FEED, ids[:1]) == {job(1).id: "1:fp2"}


async def test_a_sighting_counts_unchanged_and_moves_last_seen_only(store: Store) -> None:
    first = await import_run(store, [[fingerprinted(1), fingerprinted(2)]])
    before = await store.get_job(job(1).id)
    assert before is not None

    again = await import_run(store, [[seen(1), seen(2, position=1)]])
    assert (again.status, again.counts) == (RunStatus.SUCCEEDED, RunCounts(fetched=2, unchanged=2))
    after = await store.get_job(job(1).id)
    assert after is not None
    assert after.job == before.job
    assert (after.first_seen_run_id, after.last_changed_run_id) == (first.id, first.id)
    assert after.last_seen_run_id == again.id
    assert after.last_seen_at >= before.last_seen_at
    assert await store.link_fingerprints(FEED, [job(1).id]) == {job(1).id: "1:fp1"}


async def test_a_redelivered_batch_of_sightings_counts_nothing_twice(store: Store) -> None:
    await import_run(store, [[fingerprinted(1), fingerprinted(2)]])
    run = await begin(store)
    batch = [seen(1), seen(2, position=1), ItemFailure("missing_title", "m", position=2)]
    await store.stage_batch(run.id, 0, batch)
    await store.mark_run_staged(run.id, 1)
    first = await store.apply_batch(run.id, 0, batch)
    replay = await store.apply_batch(run.id, 0, batch)
    assert (first.first_time, replay.first_time) == (True, False)
    assert replay.result == first.result
    closed = await store.get_run(run.id)
    assert closed is not None
    assert closed.counts == RunCounts(fetched=3, unchanged=2, failed=1)


async def test_a_sighting_of_a_job_no_longer_stored_fails_as_lost(store: Store) -> None:
    await import_run(store, [[fingerprinted(1)]])
    run = await import_run(store, [[seen(1), seen(99, position=1)]])
    assert run.counts == RunCounts(fetched=2, unchanged=1, failed=1)
    (failure,) = run.failures
    assert (failure.reason, failure.identity, failure.position) == ("lost", "example:99", 1)


async def test_a_sighting_keeps_an_expired_job_listed_and_active_again(store: Store) -> None:
    """Expiry reads the links: a sighting refreshes its link as a listing does (the fixture's
    stores expire a job after EXPIRE_AFTER_RUNS = 3 runs that missed it)."""
    await import_run(store, [[fingerprinted(1), fingerprinted(2)]])
    expired = [(await import_run(store, [[seen(2)]])).counts.expired for _ in range(3)]
    assert expired == [0, 0, 1]  # job 1 missed thrice; job 2, only sighted, never
    gone = await store.get_job(job(1).id)
    assert gone is not None
    assert gone.status is JobStatus.EXPIRED
    back = await import_run(store, [[seen(1), seen(2, position=1)]])
    assert (back.counts.unchanged, back.counts.expired) == (2, 0)
    for i in (1, 2):
        record = await store.get_job(job(i).id)
        assert record is not None
        assert (record.status, record.expired_at) == (JobStatus.ACTIVE, None)
