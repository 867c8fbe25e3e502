"""Measurement 4 (and the service used by 5): `GET /api/imports` latency under a bounded load.

The store is prepared first: a fresh SQLite file migrated by `SqliteStore.open()`, then 100k
finished import logs bulk-inserted with one `executemany` in one transaction straight into its
`import_logs` table (one in ten with two stored item failures in `run_failures`), shaped with
the store's own codec so the service reads them like any other. The bench feeds are saved as
feed states due in the year 2999, so the scheduler never starts them by itself: the
benchmark starts them with `POST /api/imports`.

The service is `python -m jobimport serve --port P` (role `all`: API, SSE, in-process queue
and worker, scheduler tick) in its own process. The load: `clients` closed-loop aiohttp clients
in this process, each sending `GET /api/imports` (the first page, newest first, with the total
count) as soon as its previous answer arrived, for a fixed time and at most `max_requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import ROOT, child_env, free_port, stop, wait_http
from bench.stats import BenchError, percentile

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


async def _prepare(db: Path, feeds: list[str], logs: int) -> None:
    from jobimport.models import FeedState, FetchInfo
    from jobimport.store import codec
    from jobimport.store.sqlite import SqliteStore, rollups
    from jobimport.store.sqlite import queries as q

    store = SqliteStore(db)
    await store.open()  # creates and migrates the schema
    try:
        for url in feeds:
            await store.save_feed_run_state(FeedState(url=url, next_run_at=FAR_FUTURE))
    finally:
        await store.close()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[tuple[Any, ...]] = []
    failures: list[tuple[Any, ...]] = []
    statuses = ("succeeded",) * 7 + ("partial", "failed", "not_modified")
    for i in range(logs):
        created = start + timedelta(minutes=i)
        status = statuses[i % len(statuses)]
        fetched = 0 if status in ("failed", "not_modified") else 100 + i % 400
        failed = 2 if status == "partial" else 0
        new, unchanged = (fetched - failed) // 3, fetched - failed - (fetched - failed) // 3
        fetch = FetchInfo(status=200, bytes=fetched * 2600, duration_ms=800 + i % 500)
        error = (
            {"reason": "http_5xx", "message": "503 Service Unavailable", "status": 503}
            if status == "failed"
            else None
        )
        run_id = f"{int(created.timestamp() * 1000):012x}{i:012x}"
        rows.append((
            run_id, f"https://jobicy.com/?feed=job_feed&job_categories=c{i % 9}", status,
            "cron", q.ts(created), q.ts(created + timedelta(seconds=1)),
            q.ts(created + timedelta(seconds=4)), 3000, fetched, new, 0, unchanged, failed,
            q.dumps({"invalid_date": failed} if failed else {}),
            q.dumps_opt(error), q.dumps_opt(codec.fetch_to_dict(fetch)),
            (fetched + 99) // 100, (fetched + 99) // 100, 1, q.ts(created + timedelta(seconds=4)),
        ))  # fmt: skip
        for seq in range(failed):
            failures.append((run_id, seq, "invalid_date", "date 'soon' unreadable", seq))
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO import_logs (id, feed_url, status, trigger, created_at, started_at,"
            " finished_at, duration_ms, fetched, new, updated, unchanged, failed, failure_counts,"
            " error, fetch, batches_total, batches_done, attempts, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO run_failures (run_id, seq, reason, message, position)"
            " VALUES (?, ?, ?, ?, ?)",
            failures,
        )
        rollups.rebuild(conn)  # rows written around the store: its per-hour rollups, as its steps
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def prepare_store(db: Path, feeds: list[str], logs: int) -> float:
    """Create the store with `logs` import logs; returns the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_prepare(db, feeds, logs))
    return time.perf_counter() - started


@contextlib.contextmanager
def service(db: Path, feeds: list[str], work: Path) -> Iterator[str]:
    """`jobimport serve` (role all) on a free loopback port, in its own process."""
    import json

    port = free_port()
    env = child_env(
        database_url=f"sqlite:///{db}",
        feeds=json.dumps(feeds),
        allow_private_addresses="true",
        max_feed_bytes=str(1024**3),
        fetch_timeout_s="1800",
        job_timeout_s="3600",
        retention_days="0",  # the prepared import logs are dated 2026-01: keep them all
    )
    log = (work / "service.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobimport", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=log, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", 60, proc)
        yield base
    finally:
        stop(proc, grace_s=20)
        log.close()


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def p(self, pct: float) -> float:
        return percentile(self.latencies_ms, pct)

    def summary(self) -> str:
        if not self.latencies_ms:
            return f"no answers, {self.errors} errors"
        rate = len(self.latencies_ms) / self.seconds if self.seconds else 0
        return (
            f"{len(self.latencies_ms)} requests ({rate:.0f}/s), p50 {self.p(50):.1f} ms,"
            f" p99 {self.p(99):.1f} ms, {self.errors} errors"
        )


async def timed_get(session: aiohttp.ClientSession, url: str, load: Load) -> None:
    """One GET of `url`, read whole: its latency into `load` when it answers 200, else an error."""
    started = time.perf_counter()
    try:
        async with session.get(url) as response:
            await response.read()
            ok = response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        ok = False
    if ok:
        load.latencies_ms.append((time.perf_counter() - started) * 1000)
    else:
        load.errors += 1


async def api_load(
    base: str,
    clients: int,
    duration_s: float,
    max_requests: int,
    until: asyncio.Event | None = None,
) -> Load:
    """Closed-loop GET /api/imports from `clients` clients for `duration_s` (or until `until`
    is set), at most `max_requests` in all."""
    load = Load()
    url = f"{base}/api/imports"
    sent = 0
    deadline = time.monotonic() + duration_s
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < max_requests and time.monotonic() < deadline:
            if until is not None and until.is_set():
                return
            sent += 1
            await timed_get(session, url, load)

    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    load.seconds = time.perf_counter() - began
    return load


async def start_import(session: aiohttp.ClientSession, base: str, url: str) -> str:
    async with session.post(f"{base}/api/imports", json={"feeds": [url]}) as response:
        body = await response.json()
        if response.status != 202:
            raise BenchError(f"POST /api/imports answered {response.status}: {body}")
    return str(body["runs"][0]["id"])


async def run_state(session: aiohttp.ClientSession, base: str, run_id: str) -> dict[str, Any]:
    async with session.get(f"{base}/api/imports/{run_id}") as response:
        body: dict[str, Any] = await response.json()
        return body


FINAL = ("succeeded", "partial", "failed", "not_modified", "cancelled")


async def wait_final(
    session: aiohttp.ClientSession, base: str, run_id: str, timeout_s: float, poll_s: float = 0.5
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = await run_state(session, base, run_id)
        if state["status"] in FINAL:
            return state
        await asyncio.sleep(poll_s)
    raise BenchError(f"run {run_id} did not finish within {timeout_s} s")


async def load_during_import(
    base: str, feed: str, clients: int, max_s: float, max_requests: int, expect: int
) -> tuple[Load, dict[str, Any]]:
    """The same load while the service imports `feed`: from the POST until the run is final
    (or `max_s`); then wait for the run to end."""
    finished = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        run_id = await start_import(session, base, feed)

        async def watch() -> dict[str, Any]:
            try:
                return await wait_final(session, base, run_id, timeout_s=1800, poll_s=1.0)
            finally:
                finished.set()

        watcher = asyncio.create_task(watch())
        load = await api_load(base, clients, max_s, max_requests, until=finished)
        state = await watcher
    if state["status"] != "succeeded" or state["totalFetched"] != expect:
        raise BenchError(f"the import during the load ended {state['status']}: {state}")
    return load, state
