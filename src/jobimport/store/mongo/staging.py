"""Staged batches on MongoDB: what a run's fetch task wrote for its batch tasks to apply, one
document per (run, n) in `staged_batches`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jobimport.models import StagedEntry
from jobimport.store import codec
from jobimport.store.mongo.docs import Doc
from jobimport.store.mongo.runs import run_doc

Collection = AsyncCollection[Doc]


async def reset(runs: Collection, staged: Collection, run_id: str) -> None:
    """Store.reset_staging: only while the run is not yet fetched."""
    doc = await runs.find_one({"_id": run_id}, {"batches_total": 1})
    if doc is not None and doc.get("batches_total") is None:
        await staged.delete_many({"run_id": run_id})


async def stage(
    runs: Collection,
    staged: Collection,
    run_id: str,
    n: int,
    entries: Sequence[StagedEntry],
    now: datetime,
) -> None:
    """Store.stage_batch: write (or overwrite) batch n while the run is in flight, not fetched."""
    run = await run_doc(runs, run_id)
    # Once fetched, the staged batches are what the batch tasks apply: a late fetch task (a
    # redelivery racing the first) must not change them.
    if run.get("batches_total") is not None or not run.get("in_flight"):
        return
    key = {"run_id": run_id, "n": n}
    update = {"$set": {"entries": [codec.entry_to_dict(e) for e in entries], "staged_at": now}}
    try:
        await staged.update_one(key, update, upsert=True)
    except DuplicateKeyError:  # a racing stage of the same batch: overwrite it
        await staged.update_one(key, update)


async def load(staged: Collection, run_id: str, n: int) -> list[StagedEntry] | None:
    """Store.load_staged_batch: None once applied (or never staged)."""
    doc = await staged.find_one({"run_id": run_id, "n": n})
    if doc is None:
        return None
    return [codec.entry_from_dict(entry) for entry in doc.get("entries") or ()]


async def pending(
    runs: Collection, results: Collection, staged: Collection, run_id: str
) -> list[int]:
    """Store.pending_batches: batches without a result (before the run is fetched: so far)."""
    doc = await runs.find_one({"_id": run_id}, {"batches_total": 1})
    done = {d["n"] async for d in results.find({"run_id": run_id}, {"n": 1})}
    if doc is not None and doc.get("batches_total") is not None:
        known = set(range(int(doc["batches_total"])))
    else:  # not fetched yet: what is staged so far
        known = {d["n"] async for d in staged.find({"run_id": run_id}, {"n": 1})}
    return sorted(known - done)
