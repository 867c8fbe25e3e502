"""Steps of `MongoStore.apply_batch` and `fail_batch`, each one idempotent write.

Without multi-document transactions, "once" comes from conditions: a batch result is inserted
once (unique (run_id, n)); its counts are added once (`applied_batches` must not hold n yet).
The step that adds the last batch closes the run (`runs.close_if_done`). A crash between any two
steps is healed by the redelivered call repeating them. Every write to a run sets `updated_at`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jobimport.errors import StoreError
from jobimport.models import (
    MAX_STORED_FAILURES,
    BatchResult,
    ItemFailure,
    Job,
    RunCounts,
    RunStatus,
    SeenItem,
    StagedEntry,
    count_warnings,
)
from jobimport.store import codec
from jobimport.store.base import ApplyOutcome
from jobimport.store.batches import duplicate_in_feed, fail_entries, lost_sighting
from jobimport.store.mongo.docs import (
    Doc,
    batch_result_doc,
    batch_result_from_doc,
    reason_increments,
    run_from_doc,
)
from jobimport.store.mongo.expiry import Expiry
from jobimport.store.mongo.jobs import Stamp, sight_jobs, upsert_jobs
from jobimport.store.mongo.runs import close_if_done, run_doc

Collection = AsyncCollection[Doc]
AFTER = ReturnDocument.AFTER

MakeResult = Callable[[Doc], Awaitable[Doc]]


async def settle_batch(
    runs: Collection,
    results: Collection,
    staged: Collection,
    run_id: str,
    n: int,
    now: datetime,
    make_result: MakeResult,
    expiry: Expiry,
) -> ApplyOutcome:
    """Record batch n's result once, add it to its run once, close the run if this was its last
    batch, drop the staged batch: the steps `apply_batch` and `fail_batch` share. Each is one
    idempotent write, so a redelivery after a crash anywhere heals:
    1. a recorded result wins (`make_result` is not called: a replay changes no job);
    2. else `make_result(run document)` builds the result document to record;
    3. insert the result once; a racing duplicate means the other one is the result;
    4. add the result to the run once (`applied_batches` guards the $inc), closing it if last;
    5. drop the staged batch.
    A cancelled run takes none of these steps: its recorded result (else an empty one) and the
    run are returned as they are. (A batch that was past step 1 when the run was cancelled still
    counts: its jobs are stored.)"""
    run = await run_doc(runs, run_id)
    result = await results.find_one({"run_id": run_id, "n": n})
    if run.get("status") == RunStatus.CANCELLED.value:
        await staged.delete_one({"run_id": run_id, "n": n})
        if result is None:
            return ApplyOutcome(BatchResult(run_id, n, RunCounts()), False, run_from_doc(run))
        return ApplyOutcome(batch_result_from_doc(result), False, run_from_doc(run))
    first_time = False
    if result is None:
        result, first_time = await record_result(results, await make_result(run))
    closed = await add_to_run(runs, result, now, expiry)
    await staged.delete_one({"run_id": run_id, "n": n})
    return ApplyOutcome(batch_result_from_doc(result), first_time, run_from_doc(closed))


async def lost_result(
    results: Collection, staged: Collection, stamp: Stamp, reason: str, message: str
) -> Doc:
    """`fail_batch`'s result: every staged entry of the batch failed (see batches.fail_entries).
    A batch no longer staged was recorded meanwhile by a concurrent delivery, whose result is
    returned so record_result keeps it; if it has no result either, StoreError."""
    doc = await staged.find_one({"run_id": stamp.run_id, "n": stamp.n})
    if doc is None:
        recorded = await results.find_one({"run_id": stamp.run_id, "n": stamp.n})
        if recorded is None:
            raise StoreError(
                f"batch {stamp.n} of run {stamp.run_id} is neither staged nor recorded"
            )
        return recorded
    entries = [codec.entry_from_dict(entry) for entry in doc.get("entries") or ()]
    failures = fail_entries(entries, reason, message)
    counts = RunCounts(fetched=len(entries), failed=len(failures))
    return batch_result_doc(stamp.run_id, stamp.n, counts, failures, stamp.now)


async def apply_jobs(
    jobs: AsyncCollection[Doc], stamp: Stamp, entries: Sequence[StagedEntry]
) -> Doc:
    """Upsert the batch's jobs and count them (staged failures count as failed). Returns the
    batch result document to record."""
    distinct: dict[str, Job] = {}
    sightings: dict[str, SeenItem] = {}
    failures: list[ItemFailure] = []
    for entry in entries:
        if isinstance(entry, ItemFailure):
            failures.append(entry)
        elif entry.id in distinct or entry.id in sightings:
            failures.append(duplicate_in_feed(entry))  # caught before; never count it twice
        elif isinstance(entry, SeenItem):
            sightings[entry.id] = entry
        else:
            distinct[entry.id] = entry
    upserted = await upsert_jobs(jobs, list(distinct.values()), stamp)
    failures.extend(upserted.failures)
    outcomes = Counter(upserted.outcomes.values())
    stored: set[str] = set()
    if sightings:
        stored = await sight_jobs(jobs, list(sightings.values()), stamp)
        failures += [lost_sighting(s) for job_id, s in sightings.items() if job_id not in stored]
    counts = RunCounts(
        fetched=len(entries),
        new=outcomes["new"],
        updated=outcomes["updated"],
        unchanged=outcomes["unchanged"] + len(stored),
        failed=len(failures),
    )
    warnings = count_warnings(entries)
    return batch_result_doc(stamp.run_id, stamp.n, counts, failures, stamp.now, warnings)


async def record_result(results: AsyncCollection[Doc], doc: Doc) -> tuple[Doc, bool]:
    """Insert the result once. Returns the result that stands and whether it is this one."""
    try:
        await results.insert_one(doc)
    except DuplicateKeyError:  # a concurrent delivery recorded it first: its result stands
        stored = await results.find_one({"run_id": doc["run_id"], "n": doc["n"]})
        if stored is None:
            raise StoreError(f"batch {doc['n']} of run {doc['run_id']} vanished") from None
        return stored, False
    return doc, True


async def add_to_run(runs: AsyncCollection[Doc], result: Doc, now: datetime, expiry: Expiry) -> Doc:
    """Add a recorded batch result to its run once, then close the run if that was its last
    batch. Returns the run document after both."""
    n = result["n"]
    inc = {f"counts.{k}": v for k, v in (result.get("counts") or {}).items()}
    inc["batches_done"] = 1
    inc.update(reason_increments("failure_counts", result.get("failure_counts")))
    inc.update(reason_increments("warnings", result.get("warnings")))
    update: Doc = {"$inc": inc, "$addToSet": {"applied_batches": n}, "$set": {"updated_at": now}}
    if result.get("failures"):
        kept = {"$each": result["failures"], "$slice": MAX_STORED_FAILURES}
        update["$push"] = {"failures": kept}
    # A run cancelled meanwhile keeps its counts as they stood (nothing more applies to it).
    where = {"_id": result["run_id"], "in_flight": True, "applied_batches": {"$ne": n}}
    doc = await runs.find_one_and_update(where, update, return_document=AFTER)
    if doc is None:  # added by an earlier delivery, or the run was cancelled
        doc = await run_doc(runs, result["run_id"])
    return await close_if_done(runs, doc, now, expiry)
