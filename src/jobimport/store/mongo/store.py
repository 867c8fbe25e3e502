"""The MongoDB backend of the Store protocol, on PyMongo's AsyncMongoClient.

No multi-document transactions: every step that must happen once is a single conditional write
(insert-if-absent on a unique index, or an update whose filter says "not yet"), so any step can
crash and the whole call be redelivered without counting anything twice. See `apply_batch`.
The steps live beside this module: runs, batches, jobs (upserts), feeds, staging, expiry,
queries (listings), schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from jobimport.errors import StoreError
from jobimport.models import (
    BatchResult,
    FeedErrorInfo,
    FeedState,
    FetchInfo,
    ImportRun,
    RunCounts,
    RunStatus,
    StagedEntry,
    utc_now,
)
from jobimport.store import codec
from jobimport.store.base import (
    ApplyOutcome,
    DueCursor,
    HourTotals,
    JobQuery,
    JobRecord,
    Page,
    RunQuery,
    Store,
    check_feed_changes,
)
from jobimport.store.mongo import feeds, rollups, staging
from jobimport.store.mongo.batches import MakeResult, apply_jobs, lost_result, settle_batch
from jobimport.store.mongo.docs import (
    Doc,
    batch_result_from_doc,
    database_name,
    job_record_from_doc,
    run_from_doc,
    to_ms,
)
from jobimport.store.mongo.errors import translate_errors
from jobimport.store.mongo.expiry import Expiry
from jobimport.store.mongo.jobs import Stamp, link_fingerprints
from jobimport.store.mongo.queries import (
    find_docs,
    find_page,
    job_filter,
    job_sort,
    run_filter,
    run_sort,
)
from jobimport.store.mongo.runs import (
    cancel,
    close_early,
    mark_running,
    mark_staged,
    prune,
    run_version,
    runs_version,
    stale_filter,
    start_or_get,
)
from jobimport.store.mongo.schema import migrate, stored_version

AFTER = ReturnDocument.AFTER


class MongoStore:
    """Store on MongoDB. The client is created in `open()`, inside the running loop, unless one is
    injected (then the caller owns it and `close()` leaves it open)."""

    def __init__(
        self,
        url: str,
        *,
        database: str | None = None,
        client: Any = None,
        clock: Callable[[], datetime] = utc_now,
        expire_after_runs: int = 3,
    ) -> None:
        if expire_after_runs < 1:
            raise ValueError(f"expire_after_runs must be at least 1, got {expire_after_runs}")
        self._expire_after_runs = expire_after_runs
        self._url = url
        self._database = database_name(url, database)
        self._client: Any = client
        self._owns_client = False
        self._clock = clock
        self._db: AsyncDatabase[Doc] | None = None

    # lifecycle

    @translate_errors
    async def open(self) -> None:
        if self._client is None:
            try:
                self._client = AsyncMongoClient(self._url, tz_aware=True, appname="jobimport")
            except (ValueError, PyMongoError) as exc:  # pymongo raises ValueError for some parts
                raise StoreError(f"invalid MongoDB URL: {exc}") from exc
            self._owns_client = True
        self._db = self._client[self._database]
        # An unreachable server at start-up is StoreUnavailable too (one line, exit 1 in the CLI).
        await translate_errors(migrate)(self._db, self._expire_after_runs, self._now())

    async def close(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.close()
            self._client = None
            self._owns_client = False
        self._db = None

    @translate_errors
    async def schema_version(self) -> int:
        if self._db is None:
            raise StoreError("MongoStore is not open")
        return await stored_version(self._db)

    async def check_integrity(self) -> str | None:
        return None  # `validate` reads every document: far from cheap, so not run periodically

    # feeds

    @translate_errors
    async def seed_feeds(self, urls: Sequence[str]) -> None:
        await feeds.seed(self._feeds, urls, self._now())

    @translate_errors
    async def add_feed(self, state: FeedState) -> FeedState | None:
        return await feeds.add(self._feeds, state, self._now())

    @translate_errors
    async def get_feed(self, url: str) -> FeedState | None:
        return await feeds.get(self._feeds, {"_id": url})

    @translate_errors
    async def get_feed_by_id(self, feed_id: str) -> FeedState | None:
        return await feeds.get(self._feeds, {"feed_id": feed_id})

    @translate_errors
    async def list_feeds(self) -> list[FeedState]:
        return await feeds.registered(self._feeds)

    @translate_errors
    async def list_due_feeds(
        self, now: datetime, *, after: DueCursor | None = None, limit: int = 200
    ) -> list[FeedState]:
        return await feeds.due(self._feeds, now, after, limit)

    @translate_errors
    async def update_feed(self, feed_id: str, changes: dict[str, Any]) -> FeedState | None:
        check_feed_changes(changes)
        return await feeds.update(self._feeds, feed_id, changes)

    @translate_errors
    async def delete_feed(self, feed_id: str) -> bool:
        return await feeds.delete(self._feeds, feed_id, self._expiry)

    @translate_errors
    async def save_feed_run_state(self, state: FeedState) -> None:
        await feeds.save(self._feeds, state)

    # runs

    @translate_errors
    async def start_or_get_run(
        self,
        feed_url: str,
        trigger: str,
        *,
        retry_of: str | None = None,
        unless_closed_since: datetime | None = None,
    ) -> tuple[ImportRun, bool]:
        doc, created = await start_or_get(
            self._runs, feed_url, trigger, self._now, retry_of, unless_closed_since
        )
        return run_from_doc(doc), created

    @translate_errors
    async def cancel_run(self, run_id: str) -> ImportRun | None:
        doc = await cancel(self._runs, self._staged, self._hours, run_id, self._now())
        return None if doc is None else run_from_doc(doc)

    @translate_errors
    async def get_run(self, run_id: str) -> ImportRun | None:
        doc = await self._runs.find_one({"_id": run_id})
        return None if doc is None else run_from_doc(doc)

    @translate_errors
    async def list_runs(self, query: RunQuery) -> Page[ImportRun]:
        where, order = run_filter(query), run_sort(query)
        docs = await find_docs(self._runs, where, order, query.limit, query.offset)
        total = await rollups.total(self._hours, self._runs, query)
        return Page([run_from_doc(doc) for doc in docs], total)

    @translate_errors
    async def runs_version(self) -> str:
        return await runs_version(self._runs)

    @translate_errors
    async def run_version(self, run_id: str) -> str | None:
        return await run_version(self._runs, run_id)

    @translate_errors
    async def mark_run_running(self, run_id: str) -> ImportRun | None:
        doc = await mark_running(self._runs, run_id, self._now())
        return None if doc is None else run_from_doc(doc)

    @translate_errors
    async def close_run_early(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: FeedErrorInfo | None = None,
        fetch: FetchInfo | None = None,
    ) -> ImportRun | None:
        if not status.is_final:
            raise ValueError(f"close_run_early needs a final status, got {status.value}")
        fields = {"error": codec.error_to_dict(error), "fetch": codec.fetch_to_dict(fetch)}
        closed = await close_early(
            self._runs, self._staged, run_id, status, fields, self._now(), self._expiry
        )
        return None if closed is None else run_from_doc(closed)

    @translate_errors
    async def reset_staging(self, run_id: str) -> None:
        await staging.reset(self._runs, self._staged, run_id)

    @translate_errors
    async def link_fingerprints(self, feed_url: str, job_ids: Sequence[str]) -> dict[str, str]:
        return await link_fingerprints(self._jobs, feed_url, job_ids)

    @translate_errors
    async def stage_batch(self, run_id: str, n: int, entries: Sequence[StagedEntry]) -> None:
        await staging.stage(self._runs, self._staged, run_id, n, entries, self._now())

    @translate_errors
    async def mark_run_staged(
        self,
        run_id: str,
        batches_total: int,
        *,
        fetch: FetchInfo | None = None,
        error: FeedErrorInfo | None = None,
        warnings: Mapping[str, int] | None = None,
    ) -> ImportRun:
        if batches_total < 0:
            raise ValueError(f"batches_total must not be negative, got {batches_total}")
        fields = {"fetch": codec.fetch_to_dict(fetch), "error": codec.error_to_dict(error)}
        now = self._now()
        doc = await mark_staged(
            self._runs, run_id, batches_total, fields, now, self._expiry, dict(warnings or {})
        )
        return run_from_doc(doc)

    @translate_errors
    async def load_staged_batch(self, run_id: str, n: int) -> list[StagedEntry] | None:
        return await staging.load(self._staged, run_id, n)

    @translate_errors
    async def pending_batches(self, run_id: str) -> list[int]:
        return await staging.pending(self._runs, self._results, self._staged, run_id)

    @translate_errors
    async def apply_batch(
        self, run_id: str, n: int, entries: Sequence[StagedEntry]
    ) -> ApplyOutcome:
        """See batches.settle_batch; the result comes from upserting and classifying the jobs
        (replay-safe, see jobs.py)."""
        now = self._now()

        async def make_result(run: Doc) -> Doc:
            return await apply_jobs(self._jobs, Stamp(run_id, n, run["feed_url"], now), entries)

        return await self._settle(run_id, n, now, make_result)

    @translate_errors
    async def get_batch_result(self, run_id: str, n: int) -> BatchResult | None:
        doc = await self._results.find_one({"run_id": run_id, "n": n})
        return None if doc is None else batch_result_from_doc(doc)

    # reconciliation

    @translate_errors
    async def list_stale_runs(self, idle_since: datetime) -> list[ImportRun]:
        # In flight means few documents (one per feed at most): sorted here, where a run written
        # before schema v2 sorts by its creation time, as it reads.
        docs = await self._runs.find(stale_filter(idle_since)).to_list(None)
        return sorted(map(run_from_doc, docs), key=lambda run: (run.updated_at, run.id))

    @translate_errors
    async def note_requeue(self, run_id: str) -> ImportRun | None:
        doc = await self._runs.find_one_and_update(
            {"_id": run_id, "in_flight": True},
            {"$inc": {"requeues": 1}, "$set": {"updated_at": self._now()}},
            return_document=AFTER,
        )
        return None if doc is None else run_from_doc(doc)

    @translate_errors
    async def fail_batch(self, run_id: str, n: int, reason: str, message: str) -> ApplyOutcome:
        """See batches.settle_batch; the result is the staged batch with every entry failed."""
        now = self._now()

        async def make_result(run: Doc) -> Doc:
            stamp = Stamp(run_id, n, run["feed_url"], now)
            return await lost_result(self._results, self._staged, stamp, reason, message)

        return await self._settle(run_id, n, now, make_result)

    async def _settle(self, run_id: str, n: int, now: datetime, make: MakeResult) -> ApplyOutcome:
        return await settle_batch(
            self._runs, self._results, self._staged, run_id, n, now, make, self._expiry
        )

    # retention

    @translate_errors
    async def prune_runs(self, finished_before: datetime) -> int:
        return await prune(
            self._runs, self._results, self._staged, self._hours, finished_before, self._now()
        )

    # jobs

    @translate_errors
    async def get_job(self, job_id: str) -> JobRecord | None:
        doc = await self._jobs.find_one({"_id": job_id})
        return None if doc is None else job_record_from_doc(doc)

    @translate_errors
    async def list_jobs(self, query: JobQuery) -> Page[JobRecord]:
        where, order = job_filter(query), job_sort(query)
        docs, total = await find_page(self._jobs, where, order, query.limit, query.offset)
        return Page([job_record_from_doc(doc) for doc in docs], total)

    @translate_errors
    async def count_jobs(self) -> int:
        return await self._jobs.count_documents({})

    # metrics

    @translate_errors
    async def count_runs_by_status(self) -> dict[str, int]:
        return await rollups.by_status(self._hours, self._runs)

    @translate_errors
    async def sum_run_counts(self) -> RunCounts:
        return await rollups.sums(self._hours, self._runs)

    @translate_errors
    async def hourly_totals(self, since: datetime, until: datetime) -> list[HourTotals]:
        return await rollups.hourly(self._hours, self._runs, since, until)

    # plumbing

    def _now(self) -> datetime:
        return to_ms(self._clock())

    def _coll(self, name: str) -> AsyncCollection[Doc]:
        if self._db is None:
            raise StoreError("MongoStore is not open")
        return self._db[name]

    @property
    def _expiry(self) -> Expiry:
        return Expiry(self._jobs, self._expire_after_runs, self._hours)

    @property
    def _feeds(self) -> AsyncCollection[Doc]:
        return self._coll("feeds")

    @property
    def _runs(self) -> AsyncCollection[Doc]:
        return self._coll("import_logs")

    @property
    def _jobs(self) -> AsyncCollection[Doc]:
        return self._coll("jobs")

    @property
    def _results(self) -> AsyncCollection[Doc]:
        return self._coll("batch_results")

    @property
    def _staged(self) -> AsyncCollection[Doc]:
        return self._coll("staged_batches")

    @property
    def _hours(self) -> AsyncCollection[Doc]:
        return self._coll("run_hours")


if TYPE_CHECKING:
    _protocol_check: type[Store] = MongoStore
