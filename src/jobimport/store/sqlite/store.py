"""The embedded store: one SQLite file in WAL mode, shared by the processes of one host.

All database work of a store runs on its own single thread, which creates and alone uses the
connection, so the event loop never waits on disk and calls are serialized within a process.
Between processes, every write is one `BEGIN IMMEDIATE` transaction (the write lock is taken up
front, so no transaction has to be retried half-way) and `busy_timeout` waits for the lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jobimport.errors import StoreDamaged, StoreError, StoreUnavailable
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
from jobimport.store.sqlite import batches, feeds, jobs, rollups, runs, staging
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.integrity import cannot_open, quick_check, run_check
from jobimport.store.sqlite.jobs import job_records
from jobimport.store.sqlite.runs import load_run, runs_from_rows
from jobimport.store.sqlite.schema import current_version, migrate

T = TypeVar("T")
Conn = sqlite3.Connection


class SqliteStore:
    """`store.base.Store` on SQLite. `path` may be `:memory:` for a private, single-store DB."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        busy_timeout_ms: int = 5000,
        expire_after_runs: int = 3,
    ) -> None:
        if expire_after_runs < 1:
            raise ValueError("expire_after_runs must be at least 1")
        self.path = str(path)
        self._expire_after = expire_after_runs
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._executor: ThreadPoolExecutor | None = None
        self._conn: Conn | None = None

    # --- plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise StoreError("the SQLite store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _tx(self, fn: Callable[[Conn], T], *, write: bool) -> T:
        """Run `fn` in one transaction on the store thread. Reads take a snapshot (deferred
        BEGIN); writes take the write lock at once (IMMEDIATE)."""
        conn = self._conn
        if conn is None:
            raise StoreError("the SQLite store is not open")
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise q.translate(exc) from exc
        return result

    async def _read(self, fn: Callable[[Conn], T]) -> T:
        return await self._call(lambda: self._tx(fn, write=False))

    async def _write(self, fn: Callable[[Conn], T]) -> T:
        return await self._call(lambda: self._tx(fn, write=True))

    def _now(self) -> str:
        now = q.ts(self._clock())
        assert now is not None
        return now

    # --- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobimport-sqlite")
        try:
            await self._call(self._open_sync)
        except BaseException:
            await self.close()
            raise

    def _open_sync(self) -> None:
        try:
            self._connect_and_prepare()
        except StoreError as exc:
            raise cannot_open(self.path, exc) from exc

    def _connect_and_prepare(self) -> None:
        memory = self.path == ":memory:"
        if not memory:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create its directory: {exc.strerror}") from exc
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._busy_timeout_ms / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise q.translate(exc) from exc
        self._conn = conn
        conn.row_factory = sqlite3.Row
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        pause_s = 0.01
        while True:
            try:
                self._prepare(conn, wal=not memory)
                return
            except sqlite3.Error as exc:
                error = q.translate(exc)
                # Switching to WAL and the first look at the WAL index can answer "locked"
                # without waiting on the busy handler while another process opens or closes
                # the file, so the whole (idempotent) preparation is retried for a while. A
                # damaged file is not: no wait cures it.
                retry = isinstance(error, StoreUnavailable) and not isinstance(error, StoreDamaged)
                if not retry or time.monotonic() >= deadline:
                    raise error from exc
            time.sleep(pause_s)  # on the store's own thread, never the event loop
            pause_s = min(pause_s * 2, 0.2)

    def _prepare(self, conn: Conn, *, wal: bool) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        if wal and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable in WAL except for the last commits on power loss, never corrupt.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, self._now())

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, self._close_sync)
        executor.shutdown(wait=True)

    def _close_sync(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def schema_version(self) -> int:
        return await self._read(current_version)

    async def check_integrity(self) -> str | None:
        if self.path == ":memory:":  # no second connection can see it; small by nature
            return await self._read(quick_check)
        return await run_check(self.path, self._busy_timeout_ms)

    # --- feeds ----------------------------------------------------------------------------

    async def seed_feeds(self, urls: Sequence[str]) -> None:
        await self._write(lambda conn: feeds.seed(conn, list(urls), self._clock()))

    async def add_feed(self, state: FeedState) -> FeedState | None:
        return await self._write(lambda conn: feeds.add(conn, state, self._clock()))

    async def get_feed(self, url: str) -> FeedState | None:
        return await self._read(lambda conn: feeds.by_url(conn, url))

    async def get_feed_by_id(self, feed_id: str) -> FeedState | None:
        return await self._read(lambda conn: feeds.by_id(conn, feed_id))

    async def list_feeds(self) -> list[FeedState]:
        return await self._read(feeds.registered)

    async def list_due_feeds(
        self, now: datetime, *, after: DueCursor | None = None, limit: int = 200
    ) -> list[FeedState]:
        return await self._read(lambda conn: feeds.due(conn, now, after, limit))

    async def update_feed(self, feed_id: str, changes: dict[str, Any]) -> FeedState | None:
        check_feed_changes(changes)
        return await self._write(lambda conn: feeds.update(conn, feed_id, dict(changes)))

    async def delete_feed(self, feed_id: str) -> bool:
        return await self._write(lambda conn: feeds.delete(conn, feed_id, self._expire_after))

    async def save_feed_run_state(self, state: FeedState) -> None:
        await self._write(lambda conn: feeds.save(conn, state))

    # --- runs -----------------------------------------------------------------------------

    async def start_or_get_run(
        self,
        feed_url: str,
        trigger: str,
        *,
        retry_of: str | None = None,
        unless_closed_since: datetime | None = None,
    ) -> tuple[ImportRun, bool]:
        return await self._write(
            lambda conn: runs.start_or_get(
                conn, feed_url, trigger, retry_of, self._clock(), unless_closed_since
            )
        )

    async def cancel_run(self, run_id: str) -> ImportRun | None:
        return await self._write(lambda conn: runs.cancel(conn, run_id, self._clock()))

    async def get_run(self, run_id: str) -> ImportRun | None:
        return await self._read(lambda conn: load_run(conn, run_id))

    async def list_runs(self, query: RunQuery) -> Page[ImportRun]:
        where, params, order = q.run_filter(query)

        def go(conn: Conn) -> Page[ImportRun]:
            count = rollups.total(conn, query)
            rows = conn.execute(
                f"SELECT * FROM import_logs WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
            return Page(items=runs_from_rows(conn, rows), total=count)

        return await self._read(go)

    async def runs_version(self) -> str:
        return await self._read(runs.runs_version)

    async def run_version(self, run_id: str) -> str | None:
        return await self._read(lambda conn: runs.run_version(conn, run_id))

    async def mark_run_running(self, run_id: str) -> ImportRun | None:
        return await self._write(lambda conn: runs.mark_running(conn, run_id, self._clock()))

    async def close_run_early(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: FeedErrorInfo | None = None,
        fetch: FetchInfo | None = None,
    ) -> ImportRun | None:
        if not RunStatus(status).is_final:
            raise ValueError(f"close_run_early needs a final status, not {status!r}")
        return await self._write(
            lambda conn: runs.close_early(
                conn, run_id, RunStatus(status), error, fetch, self._clock(), self._expire_after
            )
        )

    # --- staging --------------------------------------------------------------------------

    async def reset_staging(self, run_id: str) -> None:
        await self._write(lambda conn: staging.reset(conn, run_id))

    async def link_fingerprints(self, feed_url: str, job_ids: Sequence[str]) -> dict[str, str]:
        ids = list(job_ids)
        return await self._read(lambda conn: jobs.link_fingerprints(conn, feed_url, ids))

    async def stage_batch(self, run_id: str, n: int, entries: Sequence[StagedEntry]) -> None:
        await self._write(lambda conn: staging.stage(conn, run_id, n, entries, self._now()))

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
            raise ValueError("batches_total must not be negative")
        staged = runs.Staged(batches_total, fetch, error, dict(warnings or {}))
        return await self._write(
            lambda conn: runs.mark_staged(conn, run_id, staged, self._clock(), self._expire_after)
        )

    async def load_staged_batch(self, run_id: str, n: int) -> list[StagedEntry] | None:
        return await self._read(lambda conn: staging.load(conn, run_id, n))

    async def pending_batches(self, run_id: str) -> list[int]:
        return await self._read(lambda conn: staging.pending(conn, run_id))

    # --- applying batches -----------------------------------------------------------------

    async def apply_batch(
        self, run_id: str, n: int, entries: Sequence[StagedEntry]
    ) -> ApplyOutcome:
        return await self._write(
            lambda conn: batches.apply_batch(
                conn, run_id, n, entries, self._clock(), self._expire_after
            )
        )

    async def get_batch_result(self, run_id: str, n: int) -> BatchResult | None:
        def go(conn: Conn) -> BatchResult | None:
            row = conn.execute(
                "SELECT * FROM batch_results WHERE run_id = ? AND n = ?", (run_id, n)
            ).fetchone()
            return None if row is None else q.batch_result_from_row(row)

        return await self._read(go)

    # --- reconciliation -------------------------------------------------------------------

    async def list_stale_runs(self, idle_since: datetime) -> list[ImportRun]:
        return await self._read(lambda conn: runs.stale_runs(conn, idle_since))

    async def note_requeue(self, run_id: str) -> ImportRun | None:
        return await self._write(lambda conn: runs.note_requeue(conn, run_id, self._clock()))

    async def fail_batch(self, run_id: str, n: int, reason: str, message: str) -> ApplyOutcome:
        return await self._write(
            lambda conn: batches.fail_batch(
                conn, run_id, n, reason, message, self._clock(), self._expire_after
            )
        )

    # --- retention ------------------------------------------------------------------------

    async def prune_runs(self, finished_before: datetime) -> int:
        return await self._write(lambda conn: runs.prune(conn, finished_before))

    # --- jobs -----------------------------------------------------------------------------

    async def get_job(self, job_id: str) -> JobRecord | None:
        def go(conn: Conn) -> JobRecord | None:
            rows = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchall()
            return job_records(conn, rows)[0] if rows else None

        return await self._read(go)

    async def list_jobs(self, query: JobQuery) -> Page[JobRecord]:
        where, params = q.job_filter(query)
        order = q.job_order(query)

        def go(conn: Conn) -> Page[JobRecord]:
            total = conn.execute(f"SELECT count(*) FROM jobs WHERE {where}", params).fetchone()
            rows = conn.execute(
                f"SELECT * FROM jobs WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
            return Page(items=job_records(conn, rows), total=total[0])

        return await self._read(go)

    async def count_jobs(self) -> int:
        return await self._read(
            lambda conn: conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
        )

    # --- metrics --------------------------------------------------------------------------

    async def count_runs_by_status(self) -> dict[str, int]:
        return await self._read(rollups.by_status)

    async def sum_run_counts(self) -> RunCounts:
        return await self._read(rollups.sums)

    async def hourly_totals(self, since: datetime, until: datetime) -> list[HourTotals]:
        return await self._read(lambda conn: rollups.hourly(conn, since, until))


if TYPE_CHECKING:
    _protocol_check: type[Store] = SqliteStore
