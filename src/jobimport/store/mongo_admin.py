"""What people do to runs, on MongoDB: cancel one in flight, prune old ones (retention)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from jobimport.models import RunStatus
from jobimport.store.mongo_docs import Doc, duration_ms, ms_ceil
from jobimport.store.mongo_queries import IndexSpec

Collection = AsyncCollection[Doc]
AFTER = ReturnDocument.AFTER

ADMIN_INDEXES = [
    # prune_runs: final runs by the time they finished.
    IndexSpec("import_logs", [("finished_at", 1)], "runs_by_finished"),
]

IN_FLIGHT = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
FINAL = [status.value for status in RunStatus if status.is_final]
PRUNE_CHUNK = 500


async def cancel(runs: Collection, staged: Collection, run_id: str, now: datetime) -> Doc | None:
    """Store.cancel_run: one conditional update of a queued or running run that no one is
    closing; then its staged batches go. None when the run is unknown, final or closing."""
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
                },
                "$unset": {"in_flight": ""},
            },
            return_document=AFTER,
        )
        if closed is not None:
            await staged.delete_many({"run_id": run_id})
            return closed
    return None


async def prune(
    runs: Collection, results: Collection, staged: Collection, finished_before: datetime
) -> int:
    """Store.prune_runs, a chunk of runs at a time: their batch results and staged batches
    first, the runs last, so an interrupted prune leaves runs to be pruned next time."""
    bound = ms_ceil(finished_before)
    where: Doc = {
        "in_flight": {"$exists": False},
        "status": {"$in": FINAL},
        "$or": [
            {"finished_at": {"$lt": bound}},
            {"finished_at": None, "created_at": {"$lt": bound}},
        ],
    }
    pruned = 0
    while True:
        ids = [d["_id"] async for d in runs.find(where, {"_id": 1}).limit(PRUNE_CHUNK)]
        if not ids:
            return pruned
        await results.delete_many({"run_id": {"$in": ids}})
        await staged.delete_many({"run_id": {"$in": ids}})
        deleted = (await runs.delete_many({"_id": {"$in": ids}, **where})).deleted_count
        pruned += deleted
        if not deleted:  # another process prunes the same runs: it finishes the job
            return pruned
