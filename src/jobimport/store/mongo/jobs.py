"""The job upserts of `apply_batch` on MongoDB, without multi-document transactions.

Each job is classified against its stored document, then every job of the batch is written by one
unordered `bulk_write` whose filters restate what the classification assumed. A write that lost a
race (an insert that met a document, an E11000 from a concurrent upsert, a content update whose
condition no longer held) leaves its job pending; pending jobs are read again and reclassified.

Classification is replay-safe: a job keeps the (run, batch) that inserted it and the (run, batch)
that last changed its content, so a redelivered batch counts it exactly as its first attempt did.
Keeping the batch number, not just the run, also keeps a job seen twice in one run from counting
as new twice.

Every write also marks the job as listed by its feed (active again, that link's misses at zero:
see expiry.listed_fields), in the same update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from jobimport.errors import StoreError
from jobimport.models import ItemFailure, ItemFailureReason, Job, SeenItem, feed_id
from jobimport.store.mongo.docs import Doc, job_content
from jobimport.store.mongo.expiry import listed_fields
from jobimport.store.mongo.queries import IndexSpec

# Job identity: the upserts key on `_id = models.job_id(source, external_id)`; this index makes
# the identity itself unique too, whatever else writes the collection.
JOB_INDEXES = [
    IndexSpec("jobs", [("source", 1), ("external_id", 1)], "job_identity", {"unique": True}),
]

DUPLICATE_KEY = 11000
# Write errors the document itself causes (validation, size, field names): that job fails alone
# as `store_error`. Any other write error fails the whole call, so a transient one is retried.
ITEM_ERROR_CODES = frozenset({2, 9, 14, 52, 55, 56, 57, 121, 10334, 17280, 17419})
MAX_ROUNDS = 5
"""Write rounds before giving up; each extra round needs another writer to win a race again."""

Outcome = Literal["new", "updated", "unchanged"]
Kind = Literal["insert", "update", "touch"]


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who writes: the run, its batch, its feed, and the time of the step."""

    run_id: str
    n: int
    feed_url: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Planned:
    """One job's write and the outcome it counts once applied."""

    job: Job
    kind: Kind
    outcome: Outcome
    op: UpdateOne


@dataclass(frozen=True, slots=True)
class Upserted:
    """The classification of a batch's jobs, and the jobs the store refused."""

    outcomes: dict[str, Outcome]
    failures: list[ItemFailure]


def plan(job: Job, doc: Doc | None, stamp: Stamp) -> Planned:
    """Classify `job` against its stored document (None = absent) and build its write."""
    listed, add_to = listed_fields(stamp.feed_url, stamp.run_id, job.fingerprint)
    touch: Doc = {
        "$set": {"last_seen_at": stamp.now, "last_seen_run_id": stamp.run_id, **listed},
        "$addToSet": add_to,
    }
    if doc is None:
        first_seen = {
            **job_content(job),
            "first_seen_at": stamp.now,
            "first_seen_run_id": stamp.run_id,
            "first_seen_batch": stamp.n,
            **_changed(stamp),
        }
        op = UpdateOne({"_id": job.id}, {**touch, "$setOnInsert": first_seen}, upsert=True)
        return Planned(job, "insert", "new", op)
    simple = UpdateOne({"_id": job.id}, touch)
    if _marked(doc, "first_seen", stamp):
        return Planned(job, "touch", "new", simple)  # a replay of the batch that inserted it
    if not _same_hash(doc, job):
        # Conditional: if another writer stored this very content meanwhile, the first one counts
        # it as updated and this write must not (it is then reclassified as unchanged).
        changed = {**job_content(job), **_changed(stamp), **touch["$set"]}
        update = {"$set": changed, "$addToSet": touch["$addToSet"]}
        op = UpdateOne({"_id": job.id, "content_hash": {"$ne": job.content_hash}}, update)
        return Planned(job, "update", "updated", op)
    if _marked(doc, "last_changed", stamp):
        return Planned(job, "touch", "updated", simple)  # a replay of the batch that changed it
    return Planned(job, "touch", "unchanged", simple)


async def upsert_jobs(
    jobs: AsyncCollection[Doc],
    batch: Sequence[Job],
    stamp: Stamp,
    *,
    view: Mapping[str, Doc] | None = None,
) -> Upserted:
    """Write the batch's jobs (distinct ids) and classify each exactly once.

    `view` replaces the first read (tests pass a stale one to force a lost race)."""
    pending = {job.id: job for job in batch}
    docs = dict(view) if view is not None else await _read(jobs, pending)
    done = Upserted({}, [])
    for _ in range(MAX_ROUNDS):
        if not pending:
            return done
        plans = [plan(job, docs.get(job_id), stamp) for job_id, job in pending.items()]
        unverified = await _write(jobs, plans, pending, done)
        if not pending:
            return done
        docs = await _read(jobs, pending)
        for item in unverified:
            doc = docs.get(item.job.id)
            if doc and _marked(doc, "last_changed", stamp) and _same_hash(doc, item.job):
                done.outcomes[item.job.id] = "updated"
                del pending[item.job.id]
    if pending:
        raise StoreError(f"{len(pending)} job write(s) kept losing races after {MAX_ROUNDS} rounds")
    return done


async def _write(
    jobs: AsyncCollection[Doc], plans: list[Planned], pending: dict[str, Job], done: Upserted
) -> list[Planned]:
    """Run one bulk write; settle the jobs whose write surely applied and drop them from
    `pending`. Returns the content updates whose outcome needs a read to confirm."""
    upserted, matched, errors = await _bulk_write(jobs, [p.op for p in plans])
    inserts = sum(p.kind == "insert" for p in plans)
    others = len(plans) - inserts
    # With no error and every insert inserted, every other op matched iff the totals say so:
    # then each conditional update applied and needs no read to confirm.
    all_applied = not errors and len(upserted) == inserts and matched == others
    unverified = []
    for index, item in enumerate(plans):
        error = errors.get(index)
        if error is not None:
            if error.get("code") != DUPLICATE_KEY:
                done.failures.append(_store_failure(item.job, error))
                del pending[item.job.id]
            continue  # lost a race to a concurrent insert: read again, reclassify
        if item.kind == "insert" and index not in upserted:
            continue  # met a document inserted after our read: reclassify
        if item.kind == "update" and not all_applied:
            unverified.append(item)
            continue
        done.outcomes[item.job.id] = item.outcome
        del pending[item.job.id]
    return unverified


async def _bulk_write(
    jobs: AsyncCollection[Doc], ops: list[UpdateOne]
) -> tuple[set[int], int, dict[int, Doc]]:
    """(indexes of upserted ops, matched count, write errors by op index)."""
    try:
        result = await jobs.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        details = exc.details
        errors = {int(e["index"]): e for e in details.get("writeErrors", [])}
        codes = {e.get("code") for e in errors.values()}
        if details.get("writeConcernErrors") or not codes <= {DUPLICATE_KEY, *ITEM_ERROR_CODES}:
            raise
        upserted = {int(u["index"]) for u in details.get("upserted", [])}
        return upserted, int(details.get("nMatched", 0)), errors
    return set((result.upserted_ids or {}).keys()), result.matched_count, {}


async def _read(jobs: AsyncCollection[Doc], ids: Mapping[str, Any]) -> dict[str, Doc]:
    cursor = jobs.find({"_id": {"$in": list(ids)}})
    return {doc["_id"]: doc async for doc in cursor}


async def sight_jobs(
    jobs: AsyncCollection[Doc], items: Sequence[SeenItem], stamp: Stamp
) -> set[str]:
    """Mark jobs seen unchanged (`SeenItem`) as listed by this run, in one unordered bulk write
    that never inserts. Returns the ids of those stored (a sighting of a job that vanished
    matches nothing)."""
    listed, add_to = listed_fields(stamp.feed_url, stamp.run_id)
    update = {
        "$set": {"last_seen_at": stamp.now, "last_seen_run_id": stamp.run_id, **listed},
        "$addToSet": add_to,
    }
    ids = [item.id for item in items]
    result = await jobs.bulk_write([UpdateOne({"_id": i}, update) for i in ids], ordered=False)
    if result.matched_count == len(ids):
        return set(ids)
    return {doc["_id"] async for doc in jobs.find({"_id": {"$in": ids}}, {"_id": 1})}


async def link_fingerprints(
    jobs: AsyncCollection[Doc], feed_url: str, job_ids: Sequence[str]
) -> dict[str, str]:
    """Store.link_fingerprints: by `_id`, projecting one link."""
    fp = f"links.{feed_id(feed_url)}.fp"
    cursor = jobs.find({"_id": {"$in": list(job_ids)}, fp: {"$type": "string"}}, {fp: 1})
    found: dict[str, str] = {}
    async for doc in cursor:
        link = (doc.get("links") or {}).get(feed_id(feed_url)) or {}
        found[doc["_id"]] = link["fp"]
    return found


def _changed(stamp: Stamp) -> Doc:
    return {
        "last_changed_at": stamp.now,
        "last_changed_run_id": stamp.run_id,
        "last_changed_batch": stamp.n,
    }


def _same_hash(doc: Doc, job: Job) -> bool:
    return bool(doc.get("content_hash") == job.content_hash)


def _marked(doc: Doc, prefix: str, stamp: Stamp) -> bool:
    return bool(
        doc.get(f"{prefix}_run_id") == stamp.run_id and doc.get(f"{prefix}_batch") == stamp.n
    )


def _store_failure(job: Job, error: Doc) -> ItemFailure:
    return ItemFailure(
        reason=ItemFailureReason.STORE_ERROR.value,
        message=f"the store refused the job: {error.get('errmsg', 'write error')}"[:500],
        position=job.position,
        identity=job.identity,
        url=job.url,
        title=job.title,
    )
