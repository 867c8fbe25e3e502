"""`history_page_p99_ms`: the admin history page (GET /, its counters, hourly chart and first page
of runs) with a million runs in the store, the steady state of 10,000 hourly feeds.

The fixture is written around the store, by bulk SQL: a million runs through the store's steps
would take hours on the bench machine. The rows are shaped as the store writes them (the same
columns as bench/service.py's import logs), one run per feed per hour over the last
`runs / FEEDS` hours, and the per-hour rollups are then rebuilt from them
(`store.sqlite.rollups.rebuild`) in the same transaction, so the store finds what its own steps
would have left.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.service import Load, timed_get

FEEDS = 10_000
CHUNK = 50_000


async def _open_schema(db: Path) -> None:
    from jobimport.store.sqlite import SqliteStore

    store = SqliteStore(db)
    await store.open()  # creates and migrates the schema
    await store.close()


def _rows(start: int, stop: int, now: datetime) -> list[tuple[Any, ...]]:
    from jobimport.store.sqlite import queries as q

    statuses = ("succeeded",) * 6 + ("not_modified",) * 2 + ("partial", "failed")
    rows = []
    for i in range(start, stop):
        hour, feed = divmod(i, FEEDS)
        created = now - timedelta(hours=hour, seconds=feed * 3600 / FEEDS)
        status = statuses[i % len(statuses)]
        fetched = 0 if status in ("failed", "not_modified") else 20 + i % 30
        failed = 1 if status == "partial" else 0
        new, updated = (i % 3, (i // 3) % 2) if fetched else (0, 0)
        unchanged = max(0, fetched - failed - new - updated)
        error = '{"reason":"http_5xx","message":"503"}' if status == "failed" else None
        run_id = f"{int(created.timestamp() * 1000):012x}{i:012x}"
        rows.append((
            run_id, f"https://feeds.example.test/{feed}", status, "cron", q.ts(created),
            q.ts(created), q.ts(created + timedelta(seconds=2)), 2000, fetched, new, updated,
            unchanged, failed, error, 1, 1, 1, q.ts(created + timedelta(seconds=2)),
        ))  # fmt: skip
    return rows


def prepare(db: Path, runs: int) -> float:
    """Create the store with `runs` final runs ending now; returns the seconds it took."""
    from jobimport.store.sqlite import rollups

    began = time.perf_counter()
    asyncio.run(_open_schema(db))
    now = datetime.now(UTC)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for start in range(0, runs, CHUNK):
            conn.executemany(
                "INSERT INTO import_logs (id, feed_url, status, trigger, created_at, started_at,"
                " finished_at, duration_ms, fetched, new, updated, unchanged, failed, error,"
                " batches_total, batches_done, attempts, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _rows(start, min(runs, start + CHUNK), now),
            )
        rollups.rebuild(conn)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return time.perf_counter() - began


async def page_load(base: str, requests: int) -> Load:
    """GET / `requests` times, one after another (one person reloading the page)."""
    load = Load()
    timeout = aiohttp.ClientTimeout(total=60)
    began = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(requests):
            await timed_get(session, f"{base}/", load)
    load.seconds = time.perf_counter() - began
    return load
