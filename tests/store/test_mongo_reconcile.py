"""MongoDB-specific behaviour of the reconciler's bookkeeping, on the mongomock test double (not a
MongoDB server): runs written before schema 2, the stale-run index and bound, and the crash
points of `fail_batch`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobimport.errors import StoreError
from jobimport.models import RunCounts, RunStatus
from jobimport.store.base import SCHEMA_VERSION
from jobimport.store.mongo import MongoStore
from jobimport.store.mongo.batches import lost_result, record_result
from jobimport.store.mongo.docs import new_run_doc
from jobimport.store.mongo.jobs import Stamp
from jobimport.store.mongo.runs import stale_filter
from tests.store.mongomock_adapter import MongomockAsyncClient
from tests.store.test_mongo import fetched_run, job

FEED = "https://feeds.example.test/jobs"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def client() -> MongomockAsyncClient:
    return MongomockAsyncClient()


@pytest.fixture
async def store(client: MongomockAsyncClient) -> AsyncIterator[MongoStore]:
    mongo = MongoStore("mongodb://mongomock.invalid/jobimport_test", client=client)
    await mongo.open()
    yield mongo
    await mongo.close()


def schema_1_run(run_id: str, feed_url: str, created_at: datetime) -> dict[str, Any]:
    """A queued run as release 1 wrote it: no updated_at, no requeues."""
    doc = new_run_doc(run_id, feed_url, "cron", created_at)
    del doc["updated_at"], doc["requeues"]
    return doc


async def test_a_schema_1_database_is_recorded_as_current(client: MongomockAsyncClient) -> None:
    await client["jobimport_test"]["meta"].insert_one({"_id": "schema", "version": 1})
    store = MongoStore("mongodb://h/jobimport_test", client=client)
    await store.open()
    assert await store.schema_version() == SCHEMA_VERSION
    info = client["jobimport_test"]["import_logs"].sync.index_information()["stale_runs"]
    assert info["key"] == [("in_flight", 1), ("updated_at", 1)]
    assert info["partialFilterExpression"] == {"in_flight": True}


async def test_runs_without_updated_at_read_and_go_stale_by_created_at(store: MongoStore) -> None:
    await store._runs.insert_one(schema_1_run("a" * 24, FEED + "/a", T0))
    await store._runs.insert_one(schema_1_run("c" * 24, FEED + "/c", T0 + timedelta(hours=2)))
    current, _ = await store.start_or_get_run(FEED, "api")
    old = await store.get_run("a" * 24)
    assert old is not None
    assert (old.updated_at, old.requeues) == (T0, 0)

    async def stale(idle_since: datetime) -> list[str]:
        return [run.id for run in await store.list_stale_runs(idle_since)]

    assert await stale(T0) == []
    assert await stale(T0 + timedelta(hours=1)) == ["a" * 24]
    everyone = await stale(datetime.now(UTC) + timedelta(hours=1))
    assert everyone == ["a" * 24, "c" * 24, current.id]  # by updated_at, else created_at

    requeued = await store.note_requeue("a" * 24)
    assert requeued is not None
    assert requeued.requeues == 1
    assert requeued.updated_at is not None
    assert requeued.updated_at > T0
    assert await stale(T0 + timedelta(hours=1)) == []


def test_the_stale_bound_is_rounded_up_to_a_millisecond() -> None:
    # A server compares BSON dates, which keep milliseconds: rounding the bound down would
    # drop a run updated in the bound's own millisecond, just before it.
    def bound(value: datetime) -> Any:
        return stale_filter(value)["$or"][0]["updated_at"]["$lt"]

    assert bound(T0 + timedelta(microseconds=1)) == T0 + timedelta(milliseconds=1)
    assert bound(T0 + timedelta(microseconds=1999)) == T0 + timedelta(milliseconds=2)
    assert bound(T0 + timedelta(milliseconds=7)) == T0 + timedelta(milliseconds=7)
    assert stale_filter(T0)["$or"][1] == {
        "updated_at": {"$exists": False},
        "created_at": {"$lt": T0},
    }


async def test_a_crash_after_the_lost_result_heals_the_run_once(store: MongoStore) -> None:
    run = await fetched_run(store, [[job(1), job(2)]])
    # The first fail_batch recorded the result, then died before adding it to the run.
    stamp = Stamp(run.id, 0, FEED, store._now())
    await record_result(
        store._results, await lost_result(store._results, store._staged, stamp, "lost", "m")
    )
    healed = await store.fail_batch(run.id, 0, "lost", "m")
    again = await store.fail_batch(run.id, 0, "lost", "m")
    assert (healed.first_time, again.first_time) == (False, False)
    for outcome in (healed, again):
        assert outcome.run.counts == RunCounts(fetched=2, failed=2)
        assert (outcome.run.batches_done, outcome.run.status) == (1, RunStatus.FAILED)
    assert await store.load_staged_batch(run.id, 0) is None


async def test_a_batch_recorded_by_a_racing_delivery_is_kept(store: MongoStore) -> None:
    run = await fetched_run(store, [[job(1)]])
    applied = await store.apply_batch(run.id, 0, [job(1)])  # dropped the staged batch
    stamp = Stamp(run.id, 0, FEED, store._now())
    # fail_batch found no result, then the staged batch gone: the other delivery's result stands.
    recorded = await lost_result(store._results, store._staged, stamp, "lost", "m")
    stands, first_time = await record_result(store._results, recorded)
    assert not first_time
    assert stands["counts"] == {"fetched": 1, "new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert applied.result.counts == RunCounts(fetched=1, new=1)
    with pytest.raises(StoreError, match="neither staged nor recorded"):
        await lost_result(
            store._results, store._staged, Stamp(run.id, 1, FEED, stamp.now), "x", "y"
        )
