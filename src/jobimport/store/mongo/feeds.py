"""Feeds on MongoDB: settings written by people (`add_feed`, `update_feed`), run state written by
the pipeline (`save_feed_run_state`), and the origin that says which feeds are listed.

A feed document's `_id` is its URL; `feed_id` (models.feed_id of the URL) is stored beside it for
the API's lookups. Headers are stored as a list of {name, value} pairs, not as a subdocument,
since header names may hold dots, which MongoDB reads as paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jobimport.errors import StoreError
from jobimport.models import FEED_RUN_STATE, FeedOrigin, FeedState, feed_id
from jobimport.store import codec
from jobimport.store.base import DueCursor
from jobimport.store.mongo.docs import Doc, to_ms
from jobimport.store.mongo.expiry import Expiry, retire_links
from jobimport.store.mongo.queries import IndexSpec

Collection = AsyncCollection[Doc]

FEED_INDEXES = [
    # get_feed_by_id, update_feed, delete_feed. Partial: a feed written by a release before
    # schema v3 lacks feed_id until open() migrates it, and must not collide as null.
    IndexSpec(
        "feeds",
        [("feed_id", 1)],
        "feed_id_unique",
        {"unique": True, "partialFilterExpression": {"feed_id": {"$exists": True}}},
    ),
    # list_due_feeds: keyset pages of due feeds by (next_run_at, url).
    IndexSpec("feeds", [("next_run_at", 1), ("_id", 1)], "feeds_due"),
]

_CONFIG, _API = FeedOrigin.CONFIG.value, FeedOrigin.API.value
_REGISTERED = {"origin": {"$in": [_CONFIG, _API]}}
_ATTEMPTS = 3
AFTER = ReturnDocument.AFTER


def _dt(value: datetime | None) -> datetime | None:
    return None if value is None else to_ms(value)


def run_state_fields(state: FeedState) -> Doc:
    """What `save_feed_run_state` writes: the pipeline's view of a feed (FEED_RUN_STATE)."""
    fields = {name: getattr(state, name) for name in FEED_RUN_STATE}
    return {name: _dt(v) if isinstance(v, datetime) else v for name, v in fields.items()}


def headers_to_doc(headers: Mapping[str, str] | None) -> list[Doc]:
    return [{"name": str(k), "value": str(v)} for k, v in (headers or {}).items()]


def setting_fields(state: FeedState) -> Doc:
    """What people set (`next_run_at` is both: see FEED_SETTINGS), without the origin."""
    return {
        "name": state.name,
        "schedule": state.schedule,
        "paused": state.paused,
        "headers": headers_to_doc(state.headers),
        "created_at": _dt(state.created_at),
        "pause_note": state.pause_note,
    }


def feed_doc(state: FeedState) -> Doc:
    return {
        "_id": state.url,
        "feed_id": state.id,
        "origin": FeedOrigin(state.origin).value,
        **setting_fields(state),
        **run_state_fields(state),
    }


def feed_from_doc(doc: Doc) -> FeedState:
    # A feed written before schema v3 has no origin and no settings: an ADHOC feed, until
    # seed_feeds (configured) or add_feed registers it.
    return FeedState(
        url=doc["_id"],
        etag=doc.get("etag"),
        last_modified=doc.get("last_modified"),
        last_run_id=doc.get("last_run_id"),
        last_run_at=codec.aware(doc.get("last_run_at")),
        last_status=doc.get("last_status"),
        last_success_at=codec.aware(doc.get("last_success_at")),
        consecutive_failures=int(doc.get("consecutive_failures") or 0),
        next_run_at=codec.aware(doc.get("next_run_at")),
        name=doc.get("name"),
        schedule=doc.get("schedule"),
        paused=bool(doc.get("paused")),
        origin=FeedOrigin(doc.get("origin") or FeedOrigin.ADHOC.value),
        headers={h["name"]: h["value"] for h in doc.get("headers") or ()},
        created_at=codec.aware(doc.get("created_at")),
        alerted_at=codec.aware(doc.get("alerted_at")),
        pause_note=doc.get("pause_note"),
    )


async def get(feeds: Collection, where: Doc) -> FeedState | None:
    doc = await feeds.find_one(where)
    return None if doc is None else feed_from_doc(doc)


async def registered(feeds: Collection) -> list[FeedState]:
    """Store.list_feeds: CONFIG and API feeds, oldest first (a feed without created_at, from
    before schema v3, sorts first, as a null does on SQLite)."""
    docs = await feeds.find(_REGISTERED).sort([("created_at", 1), ("_id", 1)]).to_list(None)
    return [feed_from_doc(doc) for doc in docs]


async def due(
    feeds: Collection, now: datetime, after: DueCursor | None, limit: int
) -> list[FeedState]:
    """Store.list_due_feeds: first the never-run feeds (no next_run_at) by url, then the due ones
    by (next_run_at, url); both are ranges of the index feeds_due."""
    wanted = {**_REGISTERED, "paused": {"$ne": True}}
    order = [("next_run_at", 1), ("_id", 1)]
    docs: list[Doc] = []
    if after is None or after[0] is None:
        never = {**wanted, "next_run_at": None, "_id": {"$gt": after[1] if after else ""}}
        docs = await feeds.find(never).sort(order).limit(limit).to_list(None)
        keyset: Doc = {}
    else:
        at = _dt(after[0])
        keyset = {
            "$or": [{"next_run_at": {"$gt": at}}, {"next_run_at": at, "_id": {"$gt": after[1]}}]
        }
    if len(docs) < limit:
        # $lte on a date never matches a missing or null next_run_at (those came first).
        ready = {**wanted, "next_run_at": {"$lte": _dt(now)}, **keyset}
        docs += await feeds.find(ready).sort(order).limit(limit - len(docs)).to_list(None)
    return [feed_from_doc(doc) for doc in docs]


async def _upsert(feeds: Collection, url: str, update: Doc) -> None:
    try:
        await feeds.update_one({"_id": url}, update, upsert=True)
    except DuplicateKeyError:  # a racing insert of the same feed: update what it created
        await feeds.update_one({"_id": url}, update)


async def seed(feeds: Collection, urls: Sequence[str], now: datetime) -> None:
    """Store.seed_feeds. feed_id is derived from the URL, so it is always (re)written: that also
    heals a feed that a release before v3 wrote. A feed registered now gets created_at = now
    plus its index in `urls` in milliseconds, so new configured feeds list in configuration
    order, as on SQLite."""
    urls = list(dict.fromkeys(urls))
    for i, url in enumerate(urls):
        created = now + timedelta(milliseconds=i)
        new = feed_doc(FeedState(url="", origin=FeedOrigin.CONFIG, created_at=created))
        for key in ("_id", "feed_id", "origin"):
            del new[key]
        update = {"$set": {"origin": _CONFIG, "feed_id": feed_id(url)}, "$setOnInsert": new}
        await _upsert(feeds, url, update)
        # Registered before schema v3 (no created_at): registered now.
        await feeds.update_one({"_id": url, "created_at": None}, {"$set": {"created_at": created}})
    # No longer configured: it stays registered, and may now be deleted.
    await feeds.update_many({"origin": _CONFIG, "_id": {"$nin": urls}}, {"$set": {"origin": _API}})


async def add(feeds: Collection, state: FeedState, now: datetime) -> FeedState | None:
    """Store.add_feed. An ADHOC feed of that URL keeps its run state apart from `next_run_at`,
    which is a setting too (FEED_SETTINGS) and comes from `state`."""
    doc = feed_doc(state)
    doc.update(origin=_API, created_at=now)
    promote = {
        "$set": {
            "origin": _API,
            "feed_id": state.id,
            **setting_fields(state),
            "created_at": now,
            "next_run_at": _dt(state.next_run_at),
        }
    }
    for _ in range(_ATTEMPTS):
        try:
            await feeds.insert_one(doc)
            return feed_from_doc(doc)
        except DuplicateKeyError:
            pass
        adhoc = {"_id": state.url, "origin": {"$nin": [_CONFIG, _API]}}
        promoted = await feeds.find_one_and_update(adhoc, promote, return_document=AFTER)
        if promoted is not None:
            return feed_from_doc(promoted)
        if await feeds.find_one({"_id": state.url}, {"_id": 1}) is not None:
            return None  # registered already: nothing changes
        # Deleted between our insert and our update: insert again.
    raise StoreError(f"could not add the feed {state.url}")


def _setting_value(key: str, value: Any) -> Any:
    if key == "paused":
        return bool(value)
    if key == "headers":
        return headers_to_doc(value)
    if key == "next_run_at":
        return _dt(value)
    return value


async def update(feeds: Collection, id_: str, changes: Mapping[str, Any]) -> FeedState | None:
    """Store.update_feed (keys checked by the caller)."""
    if not changes:
        return await get(feeds, {"feed_id": id_})
    fields = {key: _setting_value(key, value) for key, value in changes.items()}
    doc = await feeds.find_one_and_update({"feed_id": id_}, {"$set": fields}, return_document=AFTER)
    return None if doc is None else feed_from_doc(doc)


async def delete(feeds: Collection, id_: str, expiry: Expiry) -> bool:
    """Store.delete_feed: jobs, runs and job links name feeds by URL and stay; the feed's links
    stop holding back the expiry of jobs other feeds list (`retire_links`)."""
    doc = await feeds.find_one_and_delete({"feed_id": id_, "origin": {"$ne": _CONFIG}})
    if doc is None:
        return False
    await retire_links(expiry, str(doc["_id"]))
    return True


async def save(feeds: Collection, state: FeedState) -> None:
    """Store.save_feed_run_state: the run state only; a missing feed comes back unregistered
    (ADHOC), never with settings or headers."""
    inserted = feed_doc(state.run_state_only())
    for key in ("_id", "feed_id", *run_state_fields(state)):
        del inserted[key]
    update = {
        "$set": {**run_state_fields(state), "feed_id": state.id},
        "$setOnInsert": inserted,
    }
    await _upsert(feeds, state.url, update)


async def migrate_v2_feeds(feeds: Collection) -> int:
    """Give every feed written before schema v3 its feed_id. Origin and settings stay absent:
    such a feed reads as ADHOC until seed_feeds or add_feed registers it."""
    where: Doc = {"feed_id": {"$exists": False}}
    done = 0
    async for doc in feeds.find(where, {"_id": 1}):
        result = await feeds.update_one(
            {"_id": doc["_id"], **where}, {"$set": {"feed_id": feed_id(doc["_id"])}}
        )
        done += result.modified_count
    return done
