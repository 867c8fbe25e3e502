"""The MongoDB side of the per-hour rollups (store/rollups.py): `run_hours`, one document per hour
of creation: `{_id: "2026-12-02T14:00Z" (the hour as sortable text), runs: {status: n},
with_failures: {status: n}, counts: {field: n}}`.

Without multi-document transactions, a run enters its hour exactly once by two-phase bookkeeping:

1. the update that makes the run final also sets `rollup: "pending"` on it (one winner);
2. `$inc` on the hour document, only if its `pending` list lacks the run id, which it `$push`es
   (a repeat finds the id there and changes nothing);
3. the run's `rollup` is removed, only if still `pending`;
4. the id leaves the hour's `pending` list, only when step 3 matched.

Until step 3 readers count the run live, like the runs in flight, so totals stay exact. A closer
that died in between leaves `rollup: "pending"`: `heal` (run by every prune) claims such runs
(`pending` → `healing`, one winner) once they closed more than HEAL_AFTER ago and repeats
steps 2–4. Pruning takes runs out the same way, with a token per chunk instead of a run id. The
one case this cannot tell apart: a closer stalled for longer than HEAL_AFTER between steps 1 and 2
while a healer runs would count its run twice.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jobimport.models import RunCounts, RunStatus
from jobimport.store import codec
from jobimport.store.base import HourTotals, RunQuery
from jobimport.store.mongo.docs import COUNT_FIELDS, Doc, counts_from_doc
from jobimport.store.mongo.queries import IndexSpec, run_filter
from jobimport.store.rollups import FINAL, add_totals, ceil_hour, floor_hour, plan_total

Collection = AsyncCollection[Doc]

HEAL_AFTER = timedelta(minutes=10)
ROLLUP_INDEXES = [
    # The runs whose rollup is not written yet (steps 1–3): read live, healed by prune.
    IndexSpec(
        "import_logs",
        [("rollup", 1), ("finished_at", 1)],
        "rollup_pending",
        {"partialFilterExpression": {"rollup": {"$exists": True}}},
    ),
    # Pruning chunks whose runs are marked but not yet deleted.
    IndexSpec(
        "import_logs",
        [("prune", 1)],
        "prune_marked",
        {"partialFilterExpression": {"prune": {"$exists": True}}},
    ),
]
LIVE: Doc = {"$or": [{"in_flight": True}, {"rollup": {"$exists": True}}]}
"""Runs the rollups do not hold (yet): in flight, or final with their rollup step under way."""
_PROJECTION = {"created_at": 1, "status": 1, "counts": 1, "error": 1}
_FINAL = [s.value for s in FINAL]
_KEY = "%Y-%m-%dT%H:00Z"


def _hour(doc: Doc) -> str:
    when = codec.aware(doc["created_at"])
    assert when is not None
    return hour_key(when)


def hour_key(when: datetime) -> str:
    """The `_id` of the hour of `when`: text, so it sorts and compares the same everywhere."""
    return floor_hour(when).strftime(_KEY)


def _key_hour(key: str) -> datetime:
    return datetime.strptime(key, _KEY).replace(tzinfo=UTC)


def _increments(docs: Iterable[Doc], sign: int) -> dict[str, dict[str, int]]:
    """The `$inc` of each hour for these (final) runs, times `sign`."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for doc in docs:
        inc, status, counts = out[_hour(doc)], doc["status"], doc.get("counts") or {}
        inc[f"runs.{status}"] += sign
        if int(counts.get("failed") or 0) > 0 or doc.get("error") is not None:
            inc[f"with_failures.{status}"] += sign
        for name in COUNT_FIELDS:
            inc[f"counts.{name}"] += sign * int(counts.get(name) or 0)
    return out


async def add_run(hours: Collection, runs: Collection, doc: Doc, *, state: str = "pending") -> None:
    """Steps 2–4 for a run just made final with `rollup: state`."""
    run_id = doc["_id"]
    ((hour, inc),) = _increments([doc], 1).items()
    with contextlib.suppress(DuplicateKeyError):  # the hour already holds the run: a repeat
        await hours.update_one(
            {"_id": hour, "pending": {"$ne": run_id}},
            {"$inc": inc, "$push": {"pending": run_id}},
            upsert=True,
        )
    done = await runs.update_one({"_id": run_id, "rollup": state}, {"$unset": {"rollup": ""}})
    if done.modified_count:
        await hours.update_one({"_id": hour}, {"$pull": {"pending": run_id}})


async def heal(
    hours: Collection, runs: Collection, now: datetime, children: list[Collection]
) -> int:
    """Finish the rollup steps of runs whose closer or pruner stopped half-way (HEAL_AFTER
    ago); `children`: the collections whose rows go with a pruned run. Returns the number of
    runs such a prune deleted now."""
    stale = {"rollup": "pending", "finished_at": {"$lt": now - HEAL_AFTER}}
    async for found in runs.find(stale, {"_id": 1}):
        claimed = await runs.find_one_and_update(
            {"_id": found["_id"], "rollup": "pending"}, {"$set": {"rollup": "healing"}}
        )
        if claimed is not None:
            await add_run(hours, runs, claimed, state="healing")
    marked = {"prune": {"$exists": True}, "prune_at": {"$lt": now - HEAL_AFTER}}
    deleted = 0
    for token in {d["prune"] async for d in runs.find(marked, {"prune": 1})}:
        deleted += await finish_prune(hours, runs, token, children)
    return deleted


async def mark_prune(runs: Collection, where: Doc, ids: list[str], now: datetime) -> str:
    """Mark a chunk of runs to prune with a fresh token (runs another pruner marked are left)."""
    token = uuid.uuid4().hex
    await runs.update_many(
        {"_id": {"$in": ids}, **where, "prune": {"$exists": False}, "rollup": {"$exists": False}},
        {"$set": {"prune": token, "prune_at": now}},
    )
    return token


async def finish_prune(
    hours: Collection, runs: Collection, token: str, children: list[Collection]
) -> int:
    """Take the runs marked with `token` out of their hours (once per hour, guarded by the
    token), delete them with their `children` rows, then forget the token."""
    docs = [d async for d in runs.find({"prune": token}, _PROJECTION)]
    for hour, inc in _increments(docs, -1).items():
        await hours.update_one(
            {"_id": hour, "pruned": {"$ne": token}}, {"$inc": inc, "$push": {"pruned": token}}
        )
    ids = [d["_id"] for d in docs]
    for child in children:
        await child.delete_many({"run_id": {"$in": ids}})
    deleted = (await runs.delete_many({"prune": token})).deleted_count
    await hours.update_many({"pruned": token}, {"$pull": {"pruned": token}})
    empty = {f"runs.{s}": {"$in": [0, None]} for s in _FINAL}
    await hours.delete_many({"_id": {"$in": [_hour(d) for d in docs]}, **empty})
    return int(deleted)


async def rebuild(hours: Collection, runs: Collection) -> None:
    """Schema v8: the rollups of every final run already stored, recomputed from scratch (each
    hour's groups set whole), so running it again gives the same documents."""
    final = {"in_flight": {"$exists": False}, "status": {"$in": _FINAL}}
    docs = [d async for d in runs.find(final, _PROJECTION)]
    for hour, inc in _increments(docs, 1).items():
        body: dict[str, Any] = {"runs": {}, "with_failures": {}, "counts": {}}
        for key, value in inc.items():
            group, name = key.split(".", 1)
            body[group][name] = value
        await hours.update_one({"_id": hour}, {"$set": body}, upsert=True)


# --- readers --------------------------------------------------------------------------------


def _sum_status(docs: Iterable[Doc], group: str, statuses: Iterable[str]) -> int:
    wanted = list(statuses)
    return sum(int((d.get(group) or {}).get(s) or 0) for d in docs for s in wanted)


async def hourly(
    hours: Collection, runs: Collection, since: datetime, until: datetime
) -> list[HourTotals]:
    """Store.hourly_totals."""
    start = floor_hour(since)
    totals: dict[datetime, HourTotals] = {}
    async for doc in hours.find({"_id": {"$gte": hour_key(start), "$lt": _until_key(until)}}):
        count = _sum_status([doc], "runs", _FINAL)
        if count:
            add_totals(totals, _key_hour(doc["_id"]), count, _counts(doc))
    live = {"$and": [LIVE, {"created_at": {"$gte": start, "$lt": until}}]}
    async for doc in runs.find(live, _PROJECTION):
        add_totals(totals, _key_hour(_hour(doc)), 1, counts_from_doc(doc.get("counts")))
    return [totals[hour] for hour in sorted(totals)]


def _until_key(until: datetime) -> str:
    """The first hour key at or after `until` (the keys before it are the hours before it)."""
    return hour_key(ceil_hour(until))


def _counts(doc: Doc) -> RunCounts:
    return counts_from_doc(doc.get("counts"))


async def by_status(hours: Collection, runs: Collection) -> dict[str, int]:
    """Store.count_runs_by_status."""
    found: dict[str, int] = defaultdict(int)
    async for doc in hours.find({}, {"runs": 1}):
        for status, n in (doc.get("runs") or {}).items():
            found[status] += int(n or 0)
    async for doc in runs.find(LIVE, {"status": 1}):
        found[doc["status"]] += 1
    return {status: n for status, n in found.items() if n}


async def sums(hours: Collection, runs: Collection) -> RunCounts:
    """Store.sum_run_counts."""
    total = RunCounts()
    async for doc in hours.find({}, {"counts": 1}):
        total += _counts(doc)
    async for doc in runs.find(LIVE, {"counts": 1}):
        total += _counts(doc)
    return total


async def total(hours: Collection, runs: Collection, query: RunQuery) -> int:
    """Page.total of a run listing (see rollups.plan_total)."""
    plan = plan_total(query)
    if plan is None:  # a feed filter: the runs_by_feed index holds one feed's runs
        return int(await runs.count_documents(run_filter(query)))
    count = 0
    if plan.in_flight is not None:
        count += await runs.count_documents(
            {"$and": [run_filter(plan.in_flight), {"in_flight": True}]}
        )
    if plan.rollup is not None:
        statuses, start, end = plan.rollup
        window: Doc = {}
        if start is not None:
            window["$gte"] = hour_key(start)
        if end is not None:
            window["$lt"] = hour_key(end)
        group = "with_failures" if query.only_with_failures else "runs"
        docs = [d async for d in hours.find({"_id": window} if window else {}, {group: 1})]
        count += _sum_status(docs, group, (RunStatus(s).value for s in statuses))
        pending = replace(query, statuses=statuses, created_after=start, created_before=end)
        where = {"$and": [run_filter(pending), {"rollup": {"$exists": True}}]}
        count += await runs.count_documents(where)
    for edge in plan.edges:  # at most two hours of runs, on the runs_by_created index
        count += await runs.count_documents(run_filter(edge))
    return int(count)
