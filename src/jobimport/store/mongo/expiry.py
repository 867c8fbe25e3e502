"""Job expiry on MongoDB (the rule is in `store.base`), without multi-document transactions.

A job document keeps one link per feed that listed it, keyed by `models.feed_id(url)`:
`links.<fid>.seen` (the run that last listed it), `.missed` (whole-document runs of that feed that
missed it since) and `.swept` (the last run whose sweep counted that miss). `present_in` holds the
feed ids whose link has fewer than `expire_after_runs` misses, so "every link missed often
enough" is `present_in: {$size: 0}`, a plain query on one document (mongomock, like old servers,
has no `$objectToArray`, and update pipelines are not needed either).

A job upsert (jobs.py) sets the link with `listed_fields`. A closing run sweeps with `sweep`
*before* its closing update, while it is still in flight: no other run of its feed can start and
touch the same links, and `cancel_run` cannot win in between (see runs.close_run). Each step
of the sweep is idempotent per run (`swept` marks a counted miss; the other two steps only move
documents towards a state), so a closer that crashed is healed by the next one repeating it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from jobimport.models import JobStatus, feed_id
from jobimport.store.mongo.docs import Doc

Collection = AsyncCollection[Doc]

_ACTIVE, _EXPIRED = JobStatus.ACTIVE.value, JobStatus.EXPIRED.value
CHUNK = 500
"""Documents per bulk write of the migrations below."""


@dataclass(frozen=True, slots=True)
class Expiry:
    """What a closing run needs beside its own document: the jobs collection and
    EXPIRE_AFTER_RUNS to sweep, and the rollups (`run_hours`) to enter."""

    jobs: Collection
    after: int
    hours: Collection


def listed_fields(feed_url: str, run_id: str, fingerprint: str | None = None) -> tuple[Doc, Doc]:
    """($set, $addToSet) of a job that a run of `feed_url` lists: the job is active again and
    that link's misses start over; with a `fingerprint`, the link keeps it (`links.<fid>.fp`)."""
    link = f"links.{feed_id(feed_url)}"
    fields: Doc = {
        "status": _ACTIVE,
        "expired_at": None,
        f"{link}.seen": run_id,
        f"{link}.missed": 0,
    }
    if fingerprint is not None:
        fields[f"{link}.fp"] = fingerprint
    return fields, {"feeds": feed_url, "present_in": feed_id(feed_url)}


async def sweep(
    expiry: Expiry, run_id: str, feed_url: str, *, not_modified: bool, now: datetime
) -> int:
    """Count this run's misses on its feed's links and expire the jobs every feed has missed
    `expiry.after` times. Returns how many jobs this run expired (all sweeps of it together).

    `feeds: feed_url` in every filter lets the jobs_by_feed index find the feed's jobs."""
    jobs, after, fid = expiry.jobs, expiry.after, feed_id(feed_url)
    link = f"links.{fid}"
    # Links at the threshold already count as missed enough: not touching them keeps a sweep
    # from rewriting every job the feed ever listed.
    missed: Doc = {"$gte": 1, "$lt": after} if not_modified else {"$lt": after}
    await jobs.update_many(
        {
            "feeds": feed_url,
            f"{link}.missed": missed,
            f"{link}.seen": {"$ne": run_id},
            f"{link}.swept": {"$ne": run_id},
        },
        {"$inc": {f"{link}.missed": 1}, "$set": {f"{link}.swept": run_id}},
    )
    enough = {"feeds": feed_url, f"{link}.missed": {"$gte": after}}
    await jobs.update_many({**enough, "present_in": fid}, {"$pull": {"present_in": fid}})
    await jobs.update_many(
        {**enough, "present_in": {"$size": 0}, "status": {"$ne": _EXPIRED}},
        {"$set": {"status": _EXPIRED, "expired_at": now, "expired_by": run_id}},
    )
    # `expired_by` stays when a job comes back, so a repeated sweep counts the same jobs.
    return await jobs.count_documents({"feeds": feed_url, "expired_by": run_id})


def links_from_v2(doc: Mapping[str, Any]) -> Doc:
    """The links of a job written before schema v3: one per feed that listed it, no misses yet
    (that release kept no history to count them from)."""
    fids = [feed_id(url) for url in doc.get("feeds") or ()]
    return {
        "links": {fid: {"seen": None, "missed": 0} for fid in fids},
        "present_in": fids,
        "status": doc.get("status") or _ACTIVE,
    }


async def migrate_v2_jobs(jobs: Collection) -> int:
    """Give every job without links (schema v2) its links. Resumable: each round takes jobs
    that still have none, and the write restates that condition. Returns jobs migrated."""
    done = 0
    where: Doc = {"links": {"$exists": False}}
    while True:
        docs = await jobs.find(where, {"feeds": 1, "status": 1}).limit(CHUNK).to_list(None)
        if not docs:
            return done
        ops = [UpdateOne({"_id": d["_id"], **where}, {"$set": links_from_v2(d)}) for d in docs]
        result = await jobs.bulk_write(ops, ordered=False)
        done += result.modified_count
        if result.modified_count == 0:  # another process migrates the same jobs
            return done


def presence(links: Mapping[str, Any], after: int) -> list[str]:
    return [fid for fid, link in links.items() if int(link.get("missed") or 0) < after]


async def rebuild_presence(jobs: Collection, after: int) -> int:
    """Recompute `present_in` for a new EXPIRE_AFTER_RUNS. A job whose links now all reach it
    expires at the next whole-document run of one of its feeds. Returns jobs rewritten."""
    done = 0
    ops: list[UpdateOne] = []
    async for doc in jobs.find({"links": {"$exists": True}}, {"links": 1, "present_in": 1}):
        wanted = presence(doc.get("links") or {}, after)
        stored = doc.get("present_in")
        if sorted(wanted) != sorted(stored or ()):
            # Only if no upsert changed it since we read it (that upsert's value stands).
            where = {"_id": doc["_id"], "present_in": stored}
            ops.append(UpdateOne(where, {"$set": {"present_in": wanted}}))
        if len(ops) >= CHUNK:
            done += (await jobs.bulk_write(ops, ordered=False)).modified_count
            ops = []
    if ops:
        done += (await jobs.bulk_write(ops, ordered=False)).modified_count
    return done


async def retire_links(expiry: Expiry, feed_url: str) -> None:
    """A deleted feed will never list its jobs again: its links count as missed enough, so a
    job it shared with other feeds expires when those miss it. A job only it listed is not
    looked at again (no run of that feed closes) and stays as it is. Idempotent."""
    jobs, after, fid = expiry.jobs, expiry.after, feed_id(feed_url)
    link = f"links.{fid}"
    await jobs.update_many(
        {"feeds": feed_url, f"{link}.missed": {"$lt": after}}, {"$set": {f"{link}.missed": after}}
    )
    await jobs.update_many({"feeds": feed_url, "present_in": fid}, {"$pull": {"present_in": fid}})
