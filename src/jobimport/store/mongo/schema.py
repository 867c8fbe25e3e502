"""The MongoDB schema at `MongoStore.open()`: the indexes (each declared beside the queries that
need it) and the migration of documents that older releases wrote.

Schema v3 (feeds as data, expiry): feeds gain `feed_id` (settings and origin stay absent and read
as an ADHOC feed's defaults); jobs gain their expiry links (expiry.py), and `status` (absent
reads as active). Runs need nothing: `counts.expired` and `retry_of` read as 0 and None.

Schema v8 (rollups.py): `run_hours` is built once from the final runs already stored.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from jobimport.errors import StoreError
from jobimport.store.base import SCHEMA_VERSION
from jobimport.store.mongo.docs import Doc
from jobimport.store.mongo.expiry import migrate_v2_jobs, rebuild_presence
from jobimport.store.mongo.feeds import FEED_INDEXES, migrate_v2_feeds
from jobimport.store.mongo.jobs import JOB_INDEXES
from jobimport.store.mongo.queries import JOB_LIST_INDEXES, RUN_LIST_INDEXES
from jobimport.store.mongo.rollups import ROLLUP_INDEXES, rebuild
from jobimport.store.mongo.runs import RUN_INDEXES

INDEXES = [
    *JOB_INDEXES,
    *JOB_LIST_INDEXES,
    *RUN_INDEXES,
    *RUN_LIST_INDEXES,
    *FEED_INDEXES,
    *ROLLUP_INDEXES,
]


async def stored_version(db: AsyncDatabase[Doc]) -> int:
    meta = await db["meta"].find_one({"_id": "schema"})
    return int(meta["version"]) if meta else 0


async def migrate(db: AsyncDatabase[Doc], expire_after_runs: int, now: datetime) -> None:
    """Bring the database to SCHEMA_VERSION. Every step can run again (several processes may
    open the same database at once); the version is recorded last."""
    meta = await db["meta"].find_one({"_id": "schema"}) or {}
    stored = int(meta.get("version") or 0)
    if stored > SCHEMA_VERSION:
        raise StoreError(
            f"database schema v{stored} is newer than this jobimport (v{SCHEMA_VERSION})"
        )
    if stored < 3:  # v2's updated_at and requeues needed no rewrite (see run_from_doc)
        await migrate_v2_feeds(db["feeds"])
        await migrate_v2_jobs(db["jobs"])
    if stored < 8:  # the per-hour rollups of the runs already stored
        await rebuild(db["run_hours"], db["import_logs"])
    for spec in INDEXES:
        await db[spec.collection].create_index(spec.keys, name=spec.name, **spec.options)
    # `present_in` depends on EXPIRE_AFTER_RUNS: recompute it when the setting changed.
    previous = meta.get("expire_after_runs")
    if previous is not None and int(previous) != expire_after_runs:
        await rebuild_presence(db["jobs"], expire_after_runs)
    await db["meta"].update_one(
        {"_id": "schema"},
        {
            "$max": {"version": SCHEMA_VERSION},
            "$set": {"expire_after_runs": expire_after_runs},
            "$setOnInsert": {"created_at": now},
        },
        upsert=True,
    )
