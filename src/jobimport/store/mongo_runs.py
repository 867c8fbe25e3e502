"""Steps of `MongoStore.apply_batch` and `fail_batch` and of closing a run, each one idempotent
write.

Without multi-document transactions, "once" comes from conditions: a batch result is inserted
once (unique (run_id, n)); its counts are added once (`applied_batches` must not hold n yet); a
run closes once (it must still be `in_flight`). A crash between any two steps is healed by the
redelivered call repeating them. Every write to a run sets its `updated_at`.

A run that closes having read its whole document first sweeps its feed's jobs (mongo_expiry),
then closes with the number it expired: see `close_run`.
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
    ItemFailureReason,
    Job,
    RunCounts,
    RunStatus,
    StagedEntry,
    final_status,
    reads_whole_document,
)
from jobimport.store import codec
from jobimport.store.base import ApplyOutcome
from jobimport.store.batches import fail_entries
from jobimport.store.mongo_docs import (
    Doc,
    batch_result_doc,
    batch_result_from_doc,
    counts_from_doc,
    duration_ms,
    ms_ceil,
    run_from_doc,
)
from jobimport.store.mongo_expiry import Expiry, sweep
from jobimport.store.mongo_jobs import Stamp, upsert_jobs
from jobimport.store.mongo_queries import IndexSpec

AFTER = ReturnDocument.AFTER

RUN_INDEXES = [
    # At most one run in flight per feed: start_or_get_run inserts and lets this index refuse a
    # second one. Partial indexes accept equality but not $in, so runs carry `in_flight: true`
    # while queued or running, and close_run removes it.
    IndexSpec(
        "import_logs",
        [("feed_url", 1)],
        "one_run_in_flight_per_feed",
        {"unique": True, "partialFilterExpression": {"in_flight": True}},
    ),
    # A batch result is written once (record_result); a batch is staged once per (run, n).
    IndexSpec("batch_results", [("run_id", 1), ("n", 1)], "batch_once", {"unique": True}),
    IndexSpec("staged_batches", [("run_id", 1), ("n", 1)], "staged_once", {"unique": True}),
    # list_stale_runs: in-flight runs by last change; the partial index holds only those.
    IndexSpec(
        "import_logs",
        [("in_flight", 1), ("updated_at", 1)],
        "stale_runs",
        {"partialFilterExpression": {"in_flight": True}},
    ),
]


Collection = AsyncCollection[Doc]
MakeResult = Callable[[Doc], Awaitable[Doc]]


async def mark_running(runs: Collection, run_id: str, now: datetime) -> Doc | None:
    """Store.mark_run_running: the run after, or None if it is final or unknown."""
    doc = await runs.find_one_and_update(
        {"_id": run_id, "status": RunStatus.QUEUED.value},
        {
            "$set": {"status": RunStatus.RUNNING.value, "started_at": now, "updated_at": now},
            "$inc": {"attempts": 1},
        },
        return_document=AFTER,
    )
    if doc is None:  # a redelivered fetch task: the run stays running, one more attempt
        doc = await runs.find_one_and_update(
            {"_id": run_id, "status": RunStatus.RUNNING.value},
            {"$inc": {"attempts": 1}, "$set": {"updated_at": now}},
            return_document=AFTER,
        )
    return doc


async def mark_fetched(
    runs: Collection,
    run_id: str,
    batches_total: int,
    fields: Doc,
    now: datetime,
    expiry: Expiry,
) -> Doc:
    """Store.mark_run_fetched: set batches_total (and `fields`) once, on a run in flight that
    `finish_run_early` is not closing."""
    doc = await runs.find_one_and_update(
        {
            "_id": run_id,
            "batches_total": {"$exists": False},
            "in_flight": True,
            "closing": {"$exists": False},
        },
        {"$set": {"batches_total": batches_total, **fields, "updated_at": now}},
        return_document=AFTER,
    )
    if doc is None:  # already fetched (or final): change nothing
        doc = await run_doc(runs, run_id)
    # Zero batches closes the run here; otherwise this only heals a crash after the last batch.
    return await close_if_done(runs, doc, now, expiry)


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


def stale_filter(idle_since: datetime) -> Doc:
    """In-flight runs last changed before `idle_since`. BSON dates keep milliseconds, so the bound
    is rounded up to one: for a stored (whole-millisecond) time, `< ceil` is the same as `<`.
    A run written before schema v2 has no updated_at and counts from its creation."""
    bound = ms_ceil(idle_since)
    return {
        "in_flight": True,
        "$or": [
            {"updated_at": {"$lt": bound}},
            {"updated_at": {"$exists": False}, "created_at": {"$lt": bound}},
        ],
    }


async def apply_jobs(
    jobs: AsyncCollection[Doc], stamp: Stamp, entries: Sequence[StagedEntry]
) -> Doc:
    """Upsert the batch's jobs and count them (staged failures count as failed). Returns the
    batch result document to record."""
    distinct: dict[str, Job] = {}
    failures: list[ItemFailure] = []
    for entry in entries:
        if isinstance(entry, ItemFailure):
            failures.append(entry)
        elif entry.id in distinct:  # the pipeline should have caught it; never count it twice
            failures.append(_duplicate(entry))
        else:
            distinct[entry.id] = entry
    upserted = await upsert_jobs(jobs, list(distinct.values()), stamp)
    failures.extend(upserted.failures)
    outcomes = Counter(upserted.outcomes.values())
    counts = RunCounts(
        fetched=len(entries),
        new=outcomes["new"],
        updated=outcomes["updated"],
        unchanged=outcomes["unchanged"],
        failed=len(failures),
    )
    return batch_result_doc(stamp.run_id, stamp.n, counts, failures, stamp.now)


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
    for reason, count in (result.get("failure_counts") or {}).items():
        inc[f"failure_counts.{_field_safe(reason)}"] = count
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


async def close_if_done(runs: AsyncCollection[Doc], doc: Doc, now: datetime, expiry: Expiry) -> Doc:
    """Close a fetched run whose every batch is counted, with its final status."""
    total = doc.get("batches_total")
    if not doc.get("in_flight") or total is None or int(doc.get("batches_done") or 0) < total:
        return doc
    error = codec.error_from_dict(doc.get("error"))
    status = final_status(counts_from_doc(doc.get("counts")), error)
    closed = await close_run(runs, doc, status, now, expiry, when={"batches_done": total})
    return closed if closed is not None else await run_doc(runs, doc["_id"])


async def close_run(
    runs: AsyncCollection[Doc],
    doc: Doc,
    status: RunStatus,
    now: datetime,
    expiry: Expiry,
    *,
    when: Doc,
    also: Doc | None = None,
) -> Doc | None:
    """Close an in-flight run with one conditional update: only one caller wins (None if this
    one did not). `when` adds conditions; `also` adds fields to set.

    A run that read its whole document first claims its close (`closing`, which `cancel_run`
    respects), then sweeps (idempotent), then closes with the number it expired. Sweeping while
    the run is still in flight keeps the feed's next run from starting meanwhile; the claim keeps
    a cancelled run from expiring anything. A closer that dies after its claim leaves the run in
    flight, to be closed by the next delivery that finds every batch done."""
    fields = {
        "status": status.value,
        "finished_at": now,
        "duration_ms": duration_ms(doc.get("started_at"), now),  # stored so listings sort by it
        "updated_at": now,
        **(also or {}),
    }
    where = {"_id": doc["_id"], "in_flight": True, **when}
    error = codec.error_from_dict(fields["error"] if "error" in fields else doc.get("error"))
    if reads_whole_document(status, error, doc.get("failure_counts")):
        claim = {"$set": {"closing": status.value, "updated_at": now}}
        if await runs.find_one_and_update(where, claim) is None:
            return None
        not_modified = status is RunStatus.NOT_MODIFIED
        fields["counts.expired"] = await sweep(
            expiry, doc["_id"], doc["feed_url"], not_modified=not_modified, now=now
        )
    return await runs.find_one_and_update(
        where, {"$set": fields, "$unset": {"in_flight": "", "closing": ""}}, return_document=AFTER
    )


async def finish_early(
    runs: Collection,
    staged: Collection,
    run_id: str,
    status: RunStatus,
    fields: Doc,
    now: datetime,
    expiry: Expiry,
) -> Doc | None:
    """Store.finish_run_early: close a run in flight that is not fetched, with `fields`."""
    doc = await runs.find_one({"_id": run_id})
    if doc is None or not doc.get("in_flight") or doc.get("batches_total") is not None:
        return None
    when = {"batches_total": {"$exists": False}}
    closed = await close_run(runs, doc, status, now, expiry, when=when, also=fields)
    if closed is not None:
        await staged.delete_many({"run_id": run_id})  # staged by a fetch that then broke
    return closed


async def run_doc(runs: AsyncCollection[Doc], run_id: str) -> Doc:
    doc = await runs.find_one({"_id": run_id})
    if doc is None:
        raise StoreError(f"unknown run {run_id}")
    return doc


def _duplicate(job: Job) -> ItemFailure:
    return ItemFailure(
        reason=ItemFailureReason.DUPLICATE_IN_FEED.value,
        message=f"another item of this batch has the identity {job.identity}",
        position=job.position,
        identity=job.identity,
        url=job.url,
        title=job.title,
    )


def _field_safe(key: str) -> str:
    """Reason codes become field names under failure_counts: keep them path-safe."""
    return key.replace(".", "_").replace("$", "_")
