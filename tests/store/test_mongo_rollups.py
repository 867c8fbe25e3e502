"""MongoDB rollups without transactions (store/mongo/rollups.py): a closer or a pruner that stops
between its steps leaves counts that still equal the runs counted by hand (the run is read live
meanwhile), and the next prune, once HEAL_AFTER has passed, finishes the steps exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from jobimport.store.base import RunQuery
from jobimport.store.mongo import rollups
from jobimport.store.mongo.store import MongoStore
from tests.store.conftest import open_backend
from tests.store.test_contract import OTHER, import_run, job
from tests.store.test_contract_rollups import Clock, assert_agree, at

Doc = dict[str, Any]


@pytest.fixture
async def mongo(tmp_path: Path) -> AsyncIterator[tuple[MongoStore, Clock]]:
    clock = Clock()
    clock.at(9, 20)
    store = await open_backend("mongomock", tmp_path, clock=clock)
    assert isinstance(store, MongoStore)
    try:
        yield store, clock
    finally:
        await store.close()


async def hour_doc(store: MongoStore) -> Doc:
    doc = await store._hours.find_one({"_id": "2026-03-01T09:00Z"})
    assert doc is not None
    return doc


async def test_a_closer_that_stopped_before_the_rollup_is_healed_once(
    mongo: tuple[MongoStore, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, clock = mongo
    await import_run(store, [[job(1), job(2)]])
    real_add = rollups.add_run

    async def stop_after_the_close(hours: Any, runs: Any, doc: Doc, **kw: Any) -> None:
        return None  # the process died right after the update that made the run final

    monkeypatch.setattr(rollups, "add_run", stop_after_the_close)
    stalled = await import_run(store, [[job(3)]], feed=OTHER)
    monkeypatch.setattr(rollups, "add_run", real_add)
    assert (await store._runs.find_one({"_id": stalled.id}) or {}).get("rollup") == "pending"
    await assert_agree(store)  # read live meanwhile

    clock.at(9, 25)  # too soon to heal: the closer may still be on its way
    assert await store.prune_runs(at(0, 0)) == 0
    assert (await store._runs.find_one({"_id": stalled.id}) or {}).get("rollup") == "pending"
    clock.at(9, 40)
    assert await store.prune_runs(at(0, 0)) == 0
    assert "rollup" not in (await store._runs.find_one({"_id": stalled.id}) or {})
    assert (await hour_doc(store))["runs"] == {"succeeded": 2}
    assert (await hour_doc(store))["pending"] == []
    await assert_agree(store)
    assert await store.prune_runs(at(0, 0)) == 0  # healed once: nothing moves
    await assert_agree(store)


async def test_a_closer_that_stopped_after_adding_its_run_is_not_counted_twice(
    mongo: tuple[MongoStore, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, clock = mongo
    real_add = rollups.add_run

    async def stop_after_the_increment(hours: Any, runs: Any, doc: Doc, **kw: Any) -> None:
        await hours.update_one(
            {"_id": "2026-03-01T09:00Z", "pending": {"$ne": doc["_id"]}},
            {"$inc": {"runs.succeeded": 1, "counts.new": 1, "counts.fetched": 1},
             "$push": {"pending": doc["_id"]}},
            upsert=True,
        )  # fmt: skip

    monkeypatch.setattr(rollups, "add_run", stop_after_the_increment)
    stalled = await import_run(store, [[job(1)]])
    monkeypatch.setattr(rollups, "add_run", real_add)
    assert (await hour_doc(store))["pending"] == [stalled.id]
    clock.at(9, 40)
    await store.prune_runs(at(0, 0))
    assert (await hour_doc(store))["runs"] == {"succeeded": 1}
    assert (await hour_doc(store))["pending"] == []
    await assert_agree(store)


async def test_an_interrupted_prune_is_finished_by_the_next_one(
    mongo: tuple[MongoStore, Clock],
) -> None:
    store, clock = mongo
    old = await import_run(store, [[job(1)]])
    clock.at(9, 50)
    kept = await import_run(store, [[job(2)]], feed=OTHER)
    # A pruner marked the old run, then died before taking it out of its hour.
    token = await rollups.mark_prune(store._runs, {}, [old.id], clock())
    assert (await store._runs.find_one({"_id": old.id}) or {}).get("prune") == token
    clock.at(10, 10)
    assert await store.prune_runs(at(0, 0)) == 1  # nothing new to prune; the heal finished it
    assert await store.get_run(old.id) is None
    assert (await hour_doc(store))["runs"] == {"succeeded": 1}
    assert [r.id for r in (await store.list_runs(RunQuery())).items] == [kept.id]
    await assert_agree(store)
    clock.now += timedelta(days=1)
    assert await store.prune_runs(clock.now) == 1
    assert await store._hours.count_documents({}) == 0  # an hour with no runs left goes
    await assert_agree(store)
