"""Runs on MongoDB: marking them running and staged, closing them, cancelling and pruning them,
each one idempotent write. A run closes once (it must still be `in_flight`); a crash between two
steps is healed by the redelivered call repeating them. Every write to a run sets `updated_at`.

A run that closes having read its whole document first sweeps its feed's jobs (expiry.py),
then closes with the number it expired: see `close_run`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jobimport.errors import StoreError
from jobimport.models import (
    RunStatus,
    final_status,
    new_run_id,
    reads_whole_document,
)
from jobimport.store import codec
from jobimport.store.mongo import rollups
from jobimport.store.mongo.docs import (
    Doc,
    counts_from_doc,
    duration_ms,
    ms_ceil,
    new_run_doc,
    reason_increments,
    to_ms,
)
from jobimport.store.mongo.expiry import Expiry, sweep
from jobimport.store.mongo.queries import IndexSpec

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
    # prune: final runs by the time they finished.
    IndexSpec("import_logs", [("finished_at", 1)], "runs_by_finished"),
]

IN_FLIGHT = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
FINAL = [status.value for status in RunStatus if status.is_final]


Collection = AsyncCollection[Doc]


async def start_or_get(
    runs: Collection,
    feed_url: str,
    trigger: str,
    now: Callable[[], datetime],
    retry_of: str | None,
    unless_closed_since: datetime | None,
) -> tuple[Doc, bool]:
    """Store.start_or_get_run. Insert-first: the partial unique index on in-flight runs is the
    lock. On a duplicate, return the run in flight; if it closed in between, try again."""
    if unless_closed_since is not None:
        # Most refusals end here, before a queued run that would be deleted is ever visible.
        found = await runs.find_one({"feed_url": feed_url, "in_flight": True})
        found = found or await last_closed_since(runs, feed_url, unless_closed_since)
        if found is not None:
            return found, False
    for _ in range(3):
        stamp = now()
        doc = new_run_doc(new_run_id(stamp), feed_url, trigger, stamp, retry_of)
        try:
            await runs.insert_one(doc)
        except DuplicateKeyError:
            existing = await runs.find_one({"feed_url": feed_url, "in_flight": True})
            if existing is not None:
                return existing, False
            continue
        if unless_closed_since is None:
            return doc, True
        # Checked after the insert, which holds the feed's in-flight slot: a run that closed
        # before the insert is seen here; none can close after it (the slot is ours).
        closed = await last_closed_since(runs, feed_url, unless_closed_since)
        if closed is None:
            return doc, True
        await runs.delete_one({"_id": doc["_id"], "status": RunStatus.QUEUED.value})
        return closed, False
    raise StoreError(f"could not start or find a run of {feed_url}")


async def last_closed_since(runs: Collection, feed_url: str, since: datetime) -> Doc | None:
    """The feed's latest run that closed at or after `since` (BSON keeps milliseconds, so a run
    closed within `since`'s millisecond counts too)."""
    where = {"feed_url": feed_url, "finished_at": {"$gte": to_ms(since)}}
    return await runs.find_one(where, sort=[("finished_at", DESCENDING), ("_id", DESCENDING)])


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


async def mark_staged(
    runs: Collection,
    run_id: str,
    batches_total: int,
    fields: Doc,
    now: datetime,
    expiry: Expiry,
    warnings: Doc | None = None,
) -> Doc:
    """Store.mark_run_staged: set batches_total (and `fields`) once, and add the document's
    `warnings`, on a run in flight that `close_run_early` is not closing."""
    doc = await runs.find_one_and_update(
        {
            "_id": run_id,
            "batches_total": {"$exists": False},
            "in_flight": True,
            "closing": {"$exists": False},
        },
        {
            "$set": {"batches_total": batches_total, **fields, "updated_at": now},
            # MongoDB refuses an empty $inc: a zero count changes nothing.
            "$inc": reason_increments("warnings", warnings) or {"batches_done": 0},
        },
        return_document=AFTER,
    )
    if doc is None:  # already fetched (or final): change nothing
        doc = await run_doc(runs, run_id)
    # Zero batches closes the run here; otherwise this only heals a crash after the last batch.
    return await close_if_done(runs, doc, now, expiry)


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
    flight, to be closed by the next delivery that finds every batch done.

    The closing update also marks the run for its hour's rollup, which the winner then enters
    (rollups.add_run)."""
    fields = {
        "status": status.value,
        "finished_at": now,
        "duration_ms": duration_ms(doc.get("started_at"), now),  # stored so listings sort by it
        "updated_at": now,
        "rollup": "pending",
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
    closed = await runs.find_one_and_update(
        where, {"$set": fields, "$unset": {"in_flight": "", "closing": ""}}, return_document=AFTER
    )
    if closed is not None:
        await rollups.add_run(expiry.hours, runs, closed)
    return closed


async def close_early(
    runs: Collection,
    staged: Collection,
    run_id: str,
    status: RunStatus,
    fields: Doc,
    now: datetime,
    expiry: Expiry,
) -> Doc | None:
    """Store.close_run_early: close a run in flight that is not fetched, with `fields`."""
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


PRUNE_CHUNK = 500


async def cancel(
    runs: Collection, staged: Collection, hours: Collection, run_id: str, now: datetime
) -> Doc | None:
    """Store.cancel_run: one conditional update of a queued or running run that no one is
    closing; then it enters its hour's rollup and its staged batches go. None when the run is
    unknown, final or closing."""
    for _ in range(3):  # another write (mark_run_running) may land between our read and update
        doc = await runs.find_one({"_id": run_id})
        if doc is None or not doc.get("in_flight") or doc.get("closing"):
            return None
        when = {
            "status": {"$in": IN_FLIGHT},
            "closing": {"$exists": False},
            "started_at": doc.get("started_at"),  # what duration_ms was computed from
        }
        closed = await runs.find_one_and_update(
            {"_id": run_id, "in_flight": True, **when},
            {
                "$set": {
                    "status": RunStatus.CANCELLED.value,
                    "finished_at": now,
                    "duration_ms": duration_ms(doc.get("started_at"), now),
                    "updated_at": now,
                    "rollup": "pending",
                },
                "$unset": {"in_flight": ""},
            },
            return_document=AFTER,
        )
        if closed is not None:
            await rollups.add_run(hours, runs, closed)
            await staged.delete_many({"run_id": run_id})
            return closed
    return None


async def prune(
    runs: Collection,
    results: Collection,
    staged: Collection,
    hours: Collection,
    finished_before: datetime,
    now: datetime,
) -> int:
    """Store.prune_runs, a chunk of runs at a time: marked with a token, taken out of their
    hours' rollups, deleted with their batch results and staged batches (rollups.finish_prune),
    so an interrupted prune is finished by the next one (rollups.heal). Runs whose rollup step
    is under way wait for it."""
    pruned = await rollups.heal(hours, runs, now, [results, staged])
    bound = ms_ceil(finished_before)
    where: Doc = {
        "in_flight": {"$exists": False},
        "status": {"$in": FINAL},
        "$or": [
            {"finished_at": {"$lt": bound}},
            {"finished_at": None, "created_at": {"$lt": bound}},
        ],
    }
    candidates = {**where, "prune": {"$exists": False}, "rollup": {"$exists": False}}
    while True:
        ids = [d["_id"] async for d in runs.find(candidates, {"_id": 1}).limit(PRUNE_CHUNK)]
        if not ids:
            return pruned
        token = await rollups.mark_prune(runs, where, ids, now)
        deleted = await rollups.finish_prune(hours, runs, token, [results, staged])
        pruned += deleted
        if not deleted:  # another process marked the same runs: it finishes the job
            return pruned


async def runs_version(runs: Collection) -> str:
    """Store.runs_version: the count, the newest created_at (index runs_by_created) and the runs
    in flight (partial index stale_runs), without their embedded failures. The count is the
    collection's metadata, O(1): after an unclean shutdown it may be off, but every insert and
    delete still moves it, which is all a version needs."""
    count = await runs.estimated_document_count()
    newest = await runs.find_one({}, {"created_at": 1}, sort=[("created_at", DESCENDING)])
    flying = runs.find({"in_flight": True}, {"failures": 0}).sort("_id", 1)
    docs = [doc async for doc in flying]
    return repr((count, None if newest is None else newest.get("created_at"), docs))


async def run_version(runs: Collection, run_id: str) -> str | None:
    """Store.run_version: the run's document without its failures, which grow with its counts."""
    doc = await runs.find_one({"_id": run_id}, {"failures": 0})
    return None if doc is None else repr(doc)
