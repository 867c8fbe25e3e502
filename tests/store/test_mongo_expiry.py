"""MongoDB-specific behaviour of schema v3 on the mongomock test double (not a MongoDB server): the
new indexes, documents written by schema v2, the expiry sweep's idempotence and crash points, the
claim that keeps a cancel from racing a close, and feed settings as documents. The shared
contract suites (test_contract_*.py) cover the Store protocol itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from jobimport.models import (
    FeedOrigin,
    FeedState,
    ImportRun,
    JobStatus,
    RunCounts,
    RunStatus,
    feed_id,
)
from jobimport.store.base import SCHEMA_VERSION, JobQuery
from jobimport.store.mongo import MongoStore
from jobimport.store.mongo import runs as mongo_runs
from jobimport.store.mongo.docs import job_content
from jobimport.store.mongo.expiry import sweep
from jobimport.store.mongo.runs import close_if_done
from tests.store.mongomock_adapter import MongomockAsyncClient
from tests.store.test_mongo import FEED, OTHER, job

DB = "jobimport_test"
FID = feed_id(FEED)
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
Doc = dict[str, Any]


@pytest.fixture
def client() -> MongomockAsyncClient:
    return MongomockAsyncClient()


async def opened(client: MongomockAsyncClient, expire_after_runs: int = 3) -> MongoStore:
    mongo = MongoStore(
        f"mongodb://mongomock.invalid/{DB}", client=client, expire_after_runs=expire_after_runs
    )
    await mongo.open()
    return mongo


@pytest.fixture
async def store(client: MongomockAsyncClient) -> AsyncIterator[MongoStore]:
    mongo = await opened(client)
    yield mongo
    await mongo.close()


def raw(client: MongomockAsyncClient, collection: str) -> Any:
    """The mongomock collection itself, to read or write documents around the store."""
    return client[DB][collection].sync


async def run_of(store: MongoStore, ids: Sequence[int], feed: str = FEED) -> ImportRun:
    """A whole run listing jobs `ids` in one batch (none: closed by mark_run_staged)."""
    run, created = await store.start_or_get_run(feed, "test")
    assert created
    await store.mark_run_running(run.id)
    batches = [[job(i) for i in ids]] if ids else []
    for n, entries in enumerate(batches):
        await store.stage_batch(run.id, n, entries)
    closed = await store.mark_run_staged(run.id, len(batches))
    for n, entries in enumerate(batches):
        closed = (await store.apply_batch(run.id, n, entries)).run
    assert closed.status.is_final
    return closed


def link(client: MongomockAsyncClient, ext: int, fid: str = FID) -> Doc:
    doc = raw(client, "jobs").find_one({"_id": job(ext).id})
    assert doc is not None
    return dict(doc["links"][fid])


def v2_job(ext: int, feeds: Sequence[str]) -> Doc:
    """A job as schema v2 stored it: no status, no links."""
    return {
        "_id": job(ext).id,
        **job_content(job(ext)),
        "first_seen_at": T0,
        "first_seen_run_id": "0" * 24,
        "first_seen_batch": 0,
        "last_seen_at": T0,
        "last_seen_run_id": "0" * 24,
        "last_changed_at": T0,
        "last_changed_run_id": "0" * 24,
        "last_changed_batch": 0,
        "feeds": list(feeds),
    }


# --- set-up and migration -----------------------------------------------------------------


async def test_open_declares_the_v3_indexes(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    def index(collection: str, name: str) -> tuple[Any, ...]:
        info = raw(client, collection).index_information()[name]
        return info["key"], info.get("unique"), info.get("partialFilterExpression")

    assert index("feeds", "feed_id_unique") == (
        [("feed_id", 1)],
        True,
        {"feed_id": {"$exists": True}},
    )
    assert index("jobs", "jobs_by_status") == (
        [("status", 1), ("last_changed_at", -1), ("position", 1), ("_id", 1)],
        None,
        None,
    )
    assert index("jobs", "jobs_by_feed") == ([("feeds", 1)], None, None)  # the sweep's
    assert index("import_logs", "runs_by_finished") == ([("finished_at", 1)], None, None)
    meta = raw(client, "meta").find_one({"_id": "schema"})
    assert (meta["version"], meta["expire_after_runs"]) == (SCHEMA_VERSION, 3)


async def test_v2_documents_read_with_defaults_and_expire_like_new_ones(
    client: MongomockAsyncClient,
) -> None:
    raw(client, "meta").insert_one({"_id": "schema", "version": 2})
    raw(client, "feeds").insert_one({"_id": FEED, "etag": '"e1"', "consecutive_failures": 2})
    raw(client, "feeds").insert_one({"_id": OTHER})
    raw(client, "jobs").insert_one(v2_job(1, [FEED]))
    raw(client, "jobs").insert_one(v2_job(2, [FEED, OTHER]))
    store = await opened(client)
    assert await store.schema_version() == SCHEMA_VERSION

    feed = await store.get_feed(FEED)
    assert feed == FeedState(url=FEED, etag='"e1"', consecutive_failures=2)
    assert feed.origin is FeedOrigin.ADHOC
    assert await store.get_feed_by_id(FID) == feed
    assert await store.list_feeds() == []
    record = await store.get_job(job(1).id)
    assert record is not None
    assert (record.status, record.expired_at) == (JobStatus.ACTIVE, None)
    assert link(client, 2, feed_id(OTHER)) == {"seen": None, "missed": 0}
    assert raw(client, "jobs").find_one({"_id": job(2).id})["present_in"] == [
        FID,
        feed_id(OTHER),
    ]

    await store.seed_feeds([FEED])  # configured: registered now, its run state kept
    seeded = await store.get_feed(FEED)
    assert seeded is not None
    assert (seeded.origin, seeded.etag) == (FeedOrigin.CONFIG, '"e1"')
    assert seeded.created_at is not None
    assert [f.url for f in await store.list_feeds()] == [FEED]

    runs = [await run_of(store, []) for _ in range(3)]
    assert [r.counts.expired for r in runs] == [0, 0, 1]  # job 2: OTHER still lists it
    assert (await store.get_job(job(1).id)).status is JobStatus.EXPIRED  # type: ignore[union-attr]
    assert (await store.get_job(job(2).id)).status is JobStatus.ACTIVE  # type: ignore[union-attr]


async def test_a_job_without_status_or_links_reads_active_and_never_breaks_a_sweep(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    # Written after the migration by a process still running schema v2.
    raw(client, "jobs").insert_one(v2_job(1, [FEED]))

    async def listed(status: JobStatus) -> list[str]:
        page = await store.list_jobs(JobQuery(status=status))
        return [r.job.external_id for r in page.items]

    assert (await listed(JobStatus.ACTIVE), await listed(JobStatus.EXPIRED)) == (["1"], [])
    for _ in range(4):
        assert (await run_of(store, [])).counts.expired == 0  # no link: nothing to count
    back = await run_of(store, [1])  # listed again by this release: now it has its link
    assert (back.counts, link(client, 1)) == (
        RunCounts(fetched=1, unchanged=1),
        {"seen": back.id, "missed": 0},
    )


async def test_a_new_expire_after_runs_recomputes_presence_at_open(
    client: MongomockAsyncClient,
) -> None:
    store = await opened(client, expire_after_runs=3)
    await run_of(store, [1, 2])
    await run_of(store, [1])
    await run_of(store, [1])  # job 2: missed twice, still present in FEED
    assert raw(client, "jobs").find_one({"_id": job(2).id})["present_in"] == [FID]
    await store.close()

    store = await opened(client, expire_after_runs=2)
    assert raw(client, "jobs").find_one({"_id": job(2).id})["present_in"] == []
    assert raw(client, "jobs").find_one({"_id": job(1).id})["present_in"] == [FID]
    assert raw(client, "meta").find_one({"_id": "schema"})["expire_after_runs"] == 2
    # It expires at the next whole-document run of its feed, not at open.
    assert (await store.get_job(job(2).id)).status is JobStatus.ACTIVE  # type: ignore[union-attr]
    run = await run_of(store, [1])
    assert run.counts.expired == 1
    assert link(client, 2)["missed"] == 2  # at the threshold: not counted further


async def test_expire_after_runs_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MongoStore("mongodb://h/x", expire_after_runs=0)


# --- the sweep ----------------------------------------------------------------------------


async def test_a_repeated_sweep_counts_each_miss_once(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    first = await run_of(store, [1, 2, 3])
    second = await run_of(store, [1, 2])
    assert link(client, 3) == {"seen": first.id, "missed": 1, "swept": second.id}
    now = store._now()
    for _ in range(2):  # a replay of the second run's sweep
        assert await sweep(store._expiry, second.id, FEED, not_modified=False, now=now) == 0
    assert link(client, 3)["missed"] == 1
    assert link(client, 1)["missed"] == 0  # listed by that run

    await run_of(store, [1])
    assert (link(client, 2)["missed"], link(client, 3)["missed"]) == (1, 2)
    last = await run_of(store, [1])
    assert last.counts.expired == 1
    # (Only the latest sweep of a feed can be replayed: a run sweeps while it is in flight, and
    # the feed's next run starts once it has closed.)
    for _ in range(2):
        assert await sweep(store._expiry, last.id, FEED, not_modified=False, now=now) == 1
    assert (link(client, 2)["missed"], link(client, 3)["missed"]) == (2, 3)
    expired = await store.get_job(job(3).id)
    assert expired is not None
    assert (expired.status, expired.expired_at) == (JobStatus.EXPIRED, last.finished_at)


async def test_a_closer_that_dies_after_sweeping_is_healed_by_the_next_delivery(
    store: MongoStore, client: MongomockAsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_of(store, [1, 2])
    await run_of(store, [1])
    await run_of(store, [1])
    run, _ = await store.start_or_get_run(FEED, "test")
    await store.mark_run_running(run.id)
    await store.stage_batch(run.id, 0, [job(1)])
    await store.mark_run_staged(run.id, 1)

    real_sweep = mongo_runs.sweep
    crashes = [RuntimeError("worker killed")]

    async def dying_sweep(*args: Any, **kwargs: Any) -> int:
        swept = await real_sweep(*args, **kwargs)
        if crashes:
            raise crashes.pop()
        return swept

    monkeypatch.setattr(mongo_runs, "sweep", dying_sweep)
    with pytest.raises(RuntimeError, match="worker killed"):
        await store.apply_batch(run.id, 0, [job(1)])
    # Swept and claimed, not closed: still in flight, and no longer cancellable.
    claimed = await store.get_run(run.id)
    assert claimed is not None
    assert (claimed.status, claimed.batches_done, claimed.counts.expired) == (
        RunStatus.RUNNING,
        1,
        0,
    )
    assert (await store.get_job(job(2).id)).status is JobStatus.EXPIRED  # type: ignore[union-attr]
    assert await store.cancel_run(run.id) is None
    assert await store.get_run(run.id) == claimed

    healed = await store.apply_batch(run.id, 0, [job(1)])  # the redelivered batch task
    assert not healed.first_time
    assert healed.run.status is RunStatus.SUCCEEDED
    assert healed.run.counts == RunCounts(fetched=1, unchanged=1, expired=1)
    assert link(client, 2)["missed"] == 3
    assert "closing" not in raw(client, "import_logs").find_one({"_id": run.id})
    assert await store.get_run(run.id) == healed.run


async def test_a_stale_closer_sweeps_nothing(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    first = await run_of(store, [1, 2])
    closed = await run_of(store, [1])
    assert link(client, 2)["missed"] == 1
    # A delivery that read the run just before it closed, with a close of its own to try.
    stale = {**raw(client, "import_logs").find_one({"_id": closed.id}), "in_flight": True}
    other_now = store._now().replace(year=2100)
    after = await close_if_done(store._runs, stale, other_now, store._expiry)
    assert after["finished_at"] == closed.finished_at
    assert link(client, 2) == {"seen": first.id, "missed": 1, "swept": closed.id}


async def test_not_modified_sweeps_only_links_already_missing(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    first = await run_of(store, [1, 2])
    missing = await run_of(store, [1])
    run, _ = await store.start_or_get_run(FEED, "cron")
    await store.mark_run_running(run.id)
    closed = await store.close_run_early(run.id, RunStatus.NOT_MODIFIED)
    assert closed is not None
    assert (link(client, 1)["missed"], link(client, 2)) == (
        0,
        {"seen": first.id, "missed": 2, "swept": run.id},
    )
    assert link(client, 1)["seen"] == missing.id


# --- runs and feeds -----------------------------------------------------------------------


async def test_prune_goes_chunk_by_chunk(
    store: MongoStore, client: MongomockAsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mongo_runs, "PRUNE_CHUNK", 2)
    runs = [await run_of(store, [i]) for i in range(5)]
    assert raw(client, "batch_results").count_documents({}) == 5
    last = runs[-1].finished_at
    assert last is not None
    assert await store.prune_runs(last.replace(year=last.year + 1)) == 5
    assert raw(client, "batch_results").count_documents({}) == 0
    assert await store.count_jobs() == 5


async def test_feed_headers_are_stored_as_pairs_so_any_name_round_trips(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    headers = {"X.Api.Key": "s3cret", "$Odd": "v", "Authorization": "Bearer t"}
    added = await store.add_feed(FeedState(url=FEED, headers=headers))
    assert added is not None
    assert added.headers == headers
    stored = raw(client, "feeds").find_one({"_id": FEED})
    assert stored["headers"][0] == {"name": "X.Api.Key", "value": "s3cret"}
    assert stored["feed_id"] == FID
    updated = await store.update_feed(FID, {"headers": {"a.b": "c"}, "paused": 1})
    assert updated is not None
    assert (updated.headers, updated.paused) == ({"a.b": "c"}, True)
    assert await store.get_feed(FEED) == updated


async def test_a_cancel_racing_the_start_of_its_run_keeps_duration_consistent(
    store: MongoStore,
) -> None:
    # The adapter yields before each operation, so the two calls interleave: the cancel's
    # update restates the started_at it computed duration_ms from, and reads again if it moved.
    for feed in (FEED, OTHER, "https://feeds.example.test/third"):
        run, _ = await store.start_or_get_run(feed, "api")
        cancelled, _ = await asyncio.gather(
            store.cancel_run(run.id), store.mark_run_running(run.id)
        )
        assert cancelled is not None
        assert cancelled.status is RunStatus.CANCELLED
        assert cancelled.finished_at is not None
        if cancelled.started_at is None:
            assert cancelled.duration_ms is None
        else:
            assert cancelled.duration_ms == int(
                (cancelled.finished_at - cancelled.started_at).total_seconds() * 1000
            )
        doc = await store._runs.find_one({"_id": run.id})
        assert doc is not None
        assert doc["duration_ms"] == cancelled.duration_ms
