"""MongoDB-specific behaviour of MongoStore, on the mongomock test double (not a MongoDB server):
indexes, lost insert races, crash points between apply_batch's steps, error translation.
The shared contract suite (test_contract.py) covers the Store protocol itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from pymongo import UpdateOne
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from jobimport.errors import StoreError, StoreUnavailable
from jobimport.models import ImportRun, Job, RunCounts, RunStatus, StagedEntry
from jobimport.store import open_store
from jobimport.store.base import SCHEMA_VERSION
from jobimport.store.mongo import MongoStore, database_name
from jobimport.store.mongo.batches import apply_jobs, record_result
from jobimport.store.mongo.docs import run_from_doc
from jobimport.store.mongo.jobs import Stamp, upsert_jobs
from jobimport.store.mongo.runs import close_if_done, start_or_get
from tests.store.mongomock_adapter import MongomockAsyncClient, MongomockAsyncCollection

FEED = "https://feeds.example.test/jobs"
OTHER = "https://feeds.example.test/other"
Doc = dict[str, Any]


def job(ext: int, h: str = "h1") -> Job:
    return Job(source="example", external_id=str(ext), title=f"Job {ext}", content_hash=h)


@pytest.fixture
def client() -> MongomockAsyncClient:
    return MongomockAsyncClient()


@pytest.fixture
async def store(client: MongomockAsyncClient) -> AsyncIterator[MongoStore]:
    mongo = MongoStore("mongodb://mongomock.invalid/jobimport_test", client=client)
    await mongo.open()
    yield mongo
    await mongo.close()


def jobs_of(client: MongomockAsyncClient) -> Any:
    """The adapter's jobs collection, typed loosely: it stands in for an AsyncCollection."""
    return client["jobimport_test"]["jobs"]


async def fetched_run(store: MongoStore, batches: Sequence[Sequence[StagedEntry]]) -> ImportRun:
    run, _ = await store.start_or_get_run(FEED, "test")
    await store.mark_run_running(run.id)
    for n, entries in enumerate(batches):
        await store.stage_batch(run.id, n, entries)
    return await store.mark_run_staged(run.id, len(batches))


# --- set-up -------------------------------------------------------------------------------


async def test_open_creates_the_indexes_and_can_run_again(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    await store.open()  # same names, same options: no conflict
    assert await store.schema_version() == SCHEMA_VERSION

    def index(collection: str, name: str) -> tuple[Any, ...]:
        info = client["jobimport_test"][collection].sync.index_information()[name]
        return info["key"], info.get("unique"), info.get("partialFilterExpression")

    pair = [("run_id", 1), ("n", 1)]
    assert index("jobs", "job_identity") == ([("source", 1), ("external_id", 1)], True, None)
    assert index("import_logs", "one_run_in_flight_per_feed") == (
        [("feed_url", 1)],
        True,
        {"in_flight": True},
    )
    assert index("batch_results", "batch_once") == (pair, True, None)
    assert index("staged_batches", "staged_once") == (pair, True, None)


async def test_a_newer_schema_is_refused(client: MongomockAsyncClient) -> None:
    await client["jobimport_test"]["meta"].insert_one(
        {"_id": "schema", "version": SCHEMA_VERSION + 1}
    )
    with pytest.raises(StoreError, match="newer"):
        await MongoStore("mongodb://h/jobimport_test", client=client).open()


@pytest.mark.parametrize(
    ("url", "database", "expected"),
    [
        ("mongodb://h:27017/imports?replicaSet=rs0", None, "imports"),
        ("mongodb+srv://user:pw@cluster.example.test/prod", None, "prod"),
        ("mongodb://a:1,b:2/", None, "jobimport"),
        ("mongodb://h", None, "jobimport"),
        ("mongodb://h/imports", "override", "override"),
    ],
)
def test_database_name(url: str, database: str | None, expected: str) -> None:
    assert database_name(url, database) == expected


@pytest.mark.parametrize("url", ["mongodb://h:27017/x", "mongodb+srv://cluster.example.test/x"])
def test_open_store_selects_mongo_for_mongodb_urls(url: str) -> None:
    assert isinstance(open_store(url), MongoStore)  # not opened: no client, no DNS lookup


async def test_open_creates_the_client_and_close_closes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, dict[str, Any]]] = []
    clients: list[MongomockAsyncClient] = []

    def fake_client(url: str, **options: Any) -> MongomockAsyncClient:
        made.append((url, options))
        clients.append(MongomockAsyncClient())
        return clients[-1]

    monkeypatch.setattr("jobimport.store.mongo.store.AsyncMongoClient", fake_client)
    mongo = MongoStore("mongodb://h/x")
    assert made == []  # not in __init__: the client belongs to the loop that runs open()
    await mongo.open()
    assert made == [("mongodb://h/x", {"tz_aware": True, "appname": "jobimport"})]
    await mongo.close()
    assert clients[0].closed
    other = MongomockAsyncClient()
    injected = MongoStore("mongodb://h/x", client=other)
    await injected.open()
    await injected.close()
    assert not other.closed  # the caller owns an injected client


async def test_a_bad_url_is_a_store_error_at_open() -> None:
    mongo = MongoStore("mongodb://h:99999/x")  # no client yet, so no error yet
    with pytest.raises(StoreError, match="invalid MongoDB URL") as raised:
        await mongo.open()
    assert not isinstance(raised.value, StoreUnavailable)
    await mongo.close()


# --- races and crash points ---------------------------------------------------------------


async def test_an_insert_that_meets_a_newer_document_is_retried_as_an_update(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    earlier = await fetched_run(store, [[job(1)]])
    await store.apply_batch(earlier.id, 0, [job(1)])
    # A stale view says "absent": the upsert meets the stored job instead of inserting it.
    stamp = Stamp("f" * 24, 0, OTHER, store._now())
    done = await upsert_jobs(jobs_of(client), [job(1, "h2"), job(2)], stamp, view={})
    assert done.outcomes == {job(1).id: "updated", job(2).id: "new"}
    assert done.failures == []
    stored = await store.get_job(job(1).id)
    assert stored is not None
    assert stored.job.content_hash == "h2"
    assert (stored.first_seen_run_id, stored.last_changed_run_id) == (earlier.id, "f" * 24)
    assert stored.feeds == (FEED, OTHER)
    assert await store.count_jobs() == 2


async def test_an_update_that_another_run_already_made_counts_unchanged(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    first = await fetched_run(store, [[job(1)]])
    await store.apply_batch(first.id, 0, [job(1)])
    stale = await jobs_of(client).find_one({"_id": job(1).id})  # still h1
    assert stale is not None
    second = await fetched_run(store, [[job(1, "h2")]])
    await store.apply_batch(second.id, 0, [job(1, "h2")])  # stores h2 first
    stamp = Stamp("f" * 24, 0, OTHER, store._now())
    done = await upsert_jobs(jobs_of(client), [job(1, "h2")], stamp, view={job(1).id: stale})
    assert done.outcomes == {job(1).id: "unchanged"}
    stored = await store.get_job(job(1).id)
    assert stored is not None
    assert (stored.last_changed_run_id, stored.last_seen_run_id) == (second.id, "f" * 24)


def bulk_error(index: int, code: int, upserted: Sequence[Doc] = ()) -> BulkWriteError:
    """A server's report of an unordered bulk write in which op `index` failed with `code`."""
    error = {"index": index, "code": code, "errmsg": f"error {code}"}
    counts = {"nInserted": 0, "nUpserted": len(upserted), "nMatched": 0, "nModified": 0}
    return BulkWriteError({"writeErrors": [error], "upserted": list(upserted), **counts})


class RacingJobs:
    """The jobs collection as a server reports a lost upsert race: another writer's insert of
    `winner` lands between our upsert's match and its insert, and our op fails with E11000."""

    def __init__(self, inner: MongomockAsyncCollection, winner: Doc) -> None:
        self.inner = inner
        self.winner: Doc | None = winner
        self.calls = 0

    def find(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.find(*args, **kwargs)

    async def bulk_write(self, ops: list[UpdateOne], ordered: bool = True) -> Any:
        self.calls += 1
        if self.winner is None:
            return await self.inner.bulk_write(ops, ordered=ordered)
        winner, self.winner = self.winner, None
        await self.inner.insert_one(winner)
        raise bulk_error(0, 11000)


@pytest.mark.parametrize(("h", "outcome"), [("h1", "unchanged"), ("h2", "updated")])
async def test_a_duplicate_key_from_a_racing_insert_is_retried_as_an_update(
    store: MongoStore, client: MongomockAsyncClient, h: str, outcome: str
) -> None:
    winner_run = await fetched_run(store, [[job(1)]])
    await store.apply_batch(winner_run.id, 0, [job(1)])
    winner = await jobs_of(client).find_one({"_id": job(1).id})
    assert winner is not None
    await jobs_of(client).delete_one({"_id": job(1).id})  # as it was before the race

    racing = RacingJobs(jobs_of(client), winner)
    stamp = Stamp("f" * 24, 0, OTHER, store._now())
    done = await upsert_jobs(racing, [job(1, h)], stamp)  # type: ignore[arg-type]
    assert done.outcomes == {job(1).id: outcome}
    assert racing.calls == 2
    stored = await store.get_job(job(1).id)
    assert stored is not None
    assert (stored.first_seen_run_id, stored.job.content_hash) == (winner_run.id, h)
    assert stored.feeds == (FEED, OTHER)


async def test_a_document_the_server_refuses_fails_alone(
    store: MongoStore, client: MongomockAsyncClient
) -> None:
    class Refusing(RacingJobs):
        async def bulk_write(self, ops: list[UpdateOne], ordered: bool = True) -> Any:
            await self.inner.bulk_write(ops[1:], ordered=ordered)
            raise bulk_error(0, 121, upserted=[{"index": 1, "_id": job(2).id}])

    stamp = Stamp("f" * 24, 0, FEED, store._now())
    refusing = Refusing(jobs_of(client), {})
    done = await upsert_jobs(refusing, [job(1), job(2)], stamp)  # type: ignore[arg-type]
    assert done.outcomes == {job(2).id: "new"}
    assert [(f.reason, f.identity) for f in done.failures] == [("store_error", "example:1")]
    assert "error 121" in done.failures[0].message


async def test_an_unexpected_write_error_fails_the_whole_batch(
    store: MongoStore, client: MongomockAsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupted(RacingJobs):
        async def bulk_write(self, ops: list[UpdateOne], ordered: bool = True) -> Any:
            raise bulk_error(0, 11602)  # InterruptedDueToReplStateChange

    run = await fetched_run(store, [[job(1)]])
    interrupted = Interrupted(jobs_of(client), {})
    monkeypatch.setattr(MongoStore, "_jobs", property(lambda _self: interrupted))
    with pytest.raises(StoreError):
        await store.apply_batch(run.id, 0, [job(1)])
    assert await store.get_batch_result(run.id, 0) is None  # nothing counted: the task retries
    assert await store.load_staged_batch(run.id, 0) == [job(1)]


async def test_a_crash_after_the_job_writes_replays_with_the_same_classification(
    store: MongoStore,
) -> None:
    await store.apply_batch((await fetched_run(store, [[job(2)]])).id, 0, [job(2)])
    entries = [job(1), job(2, "h2"), job(3)]
    run = await fetched_run(store, [entries])
    # The first delivery wrote every job, then died before recording the batch result.
    await apply_jobs(store._jobs, Stamp(run.id, 0, FEED, store._now()), entries)
    outcome = await store.apply_batch(run.id, 0, entries)
    assert outcome.first_time
    assert outcome.result.counts == RunCounts(fetched=3, new=2, updated=1)
    assert outcome.run.status is RunStatus.SUCCEEDED


async def test_a_crash_after_the_result_heals_the_run_counts_once(store: MongoStore) -> None:
    entries = [job(1), job(2)]
    run = await fetched_run(store, [entries])
    # The first delivery recorded the result, then died before adding it to the run.
    applied = await apply_jobs(store._jobs, Stamp(run.id, 0, FEED, store._now()), entries)
    await record_result(store._results, applied)
    assert (await store.get_run(run.id)).batches_done == 0  # type: ignore[union-attr]
    healed = await store.apply_batch(run.id, 0, entries)
    again = await store.apply_batch(run.id, 0, entries)
    assert (healed.first_time, again.first_time) == (False, False)
    for outcome in (healed, again):
        assert outcome.run.counts == RunCounts(fetched=2, new=2)
        assert (outcome.run.batches_done, outcome.run.status) == (1, RunStatus.SUCCEEDED)
    assert await store.load_staged_batch(run.id, 0) is None


async def test_a_job_in_two_batches_of_one_run_counts_new_once(store: MongoStore) -> None:
    run = await fetched_run(store, [[job(1)], [job(1)]])
    await store.apply_batch(run.id, 0, [job(1)])
    second = await store.apply_batch(run.id, 1, [job(1)])
    assert second.run.counts == RunCounts(fetched=2, new=1, unchanged=1)
    replay = await store.apply_batch(run.id, 1, [job(1)])
    assert replay.result.counts == RunCounts(fetched=1, unchanged=1)


async def test_a_run_closes_once_and_leaves_the_in_flight_index(store: MongoStore) -> None:
    run = await fetched_run(store, [[job(1)]])
    closed = (await store.apply_batch(run.id, 0, [job(1)])).run
    doc = await store._runs.find_one({"_id": run.id})
    assert doc is not None
    assert "in_flight" not in doc  # so the partial unique index lets the feed's next run in
    assert doc["duration_ms"] == closed.duration_ms  # stored, so the history sorts by it
    # Another delivery read the run just before it closed: its close must change nothing.
    stale = {**doc, "in_flight": True, "counts": {"fetched": 1, "failed": 1}}
    after = await close_if_done(store._runs, stale, store._now().replace(year=2100), store._expiry)
    assert run_from_doc(after) == closed == await store.get_run(run.id)


# --- the test double itself ---------------------------------------------------------------


async def test_the_adapter_reports_duplicate_keys_like_a_server(
    client: MongomockAsyncClient,
) -> None:
    coll = client["t"]["c"]
    await coll.create_index([("k", 1)], unique=True)
    await coll.insert_one({"_id": 1, "k": "taken"})
    ops = [
        UpdateOne({"_id": 2}, {"$set": {"k": "taken"}}, upsert=True),
        UpdateOne({"_id": 3}, {"$set": {"k": "free"}}, upsert=True),
        UpdateOne({"_id": 1}, {"$set": {"seen": True}}, upsert=True),
    ]
    with pytest.raises(BulkWriteError) as raised:
        await coll.bulk_write(ops, ordered=False)
    details = raised.value.details
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(0, 11000)]
    assert details["upserted"] == [{"index": 1, "_id": 3}]
    assert (details["nUpserted"], details["nMatched"]) == (1, 1)
    assert await coll.count_documents({}) == 2


# --- error translation --------------------------------------------------------------------


class FlakyClient(MongomockAsyncClient):
    """The adapter, except that every collection call raises `error` while it is set."""

    error: Exception | None = None

    def __getitem__(self, name: str) -> Any:
        return _Flaky(self, super().__getitem__(name))


class _Flaky:
    def __init__(self, client: FlakyClient, inner: Any) -> None:
        self.client, self.inner = client, inner

    def __getitem__(self, name: str) -> _Flaky:  # database → collection
        return _Flaky(self.client, self.inner[name])

    def __getattr__(self, name: str) -> Any:
        error = self.client.error
        if error is None:
            return getattr(self.inner, name)

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise error

        return fail


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (AutoReconnect("connection reset"), StoreUnavailable),
        (NetworkTimeout("timed out"), StoreUnavailable),
        (ServerSelectionTimeoutError("no primary"), StoreUnavailable),
        (OperationFailure("not authorized", code=13), StoreError),
    ],
)
async def test_driver_errors_become_store_errors(
    error: Exception, expected: type[StoreError]
) -> None:
    client = FlakyClient()
    mongo = MongoStore("mongodb://h/x", client=client)
    await mongo.open()
    run, _ = await mongo.start_or_get_run(FEED, "test")
    client.error = error
    with pytest.raises(expected) as raised:
        await mongo.get_run(run.id)
    assert (type(raised.value), raised.value.__cause__) == (expected, error)
    with pytest.raises(expected):
        await mongo.apply_batch(run.id, 0, [job(1)])
    client.error = None
    assert await mongo.get_run(run.id) == run


class CloseBeforeInsert:
    """The runs collection, except that before the first insert a run of the feed starts and
    closes (through the store): the close lands between start_or_get's checks and its insert."""

    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._runs = store._coll("import_logs")
        self.closed: list[ImportRun] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runs, name)

    async def insert_one(self, doc: Doc) -> Any:
        if not self.closed:
            manual, _ = await self._store.start_or_get_run(doc["feed_url"], "api")
            closed = await self._store.close_run_early(manual.id, RunStatus.NOT_MODIFIED)
            assert closed is not None
            self.closed.append(closed)
        return await self._runs.insert_one(doc)


async def test_a_run_that_closes_just_before_the_insert_keeps_the_tick_out(
    store: MongoStore,
) -> None:
    """The check after the insert catches what the check before it could not see; the run it
    inserted is removed again."""
    runs = CloseBeforeInsert(store)
    since = store._now()
    doc, created = await start_or_get(runs, FEED, "cron", store._now, None, since)  # type: ignore[arg-type]
    assert not created
    assert doc["_id"] == runs.closed[0].id
    assert await store._coll("import_logs").count_documents({"feed_url": FEED}) == 1
    assert await store._coll("import_logs").count_documents({"in_flight": True}) == 0
