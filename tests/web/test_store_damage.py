"""A SQLite file that cannot be used (issue 14, item 10), against the real service: real files
made by the store itself, then damaged on disk.

- start-up on a garbage header, a truncated file or a directory that cannot be written: the real
  `jobimport` process exits 1 with one line on stderr naming the file and the problem;
- corrupt pages that start-up does not touch: the search that reads them answers 503
  `store_unavailable` on a real server, and the background quick_check turns `/readyz` 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import OperationFailure

from jobimport.errors import StoreDamaged, StoreError, StoreUnavailable
from jobimport.models import Job
from jobimport.store.mongo.errors import translate_errors
from jobimport.store.sqlite import SqliteStore
from jobimport.store.sqlite.queries import translate
from jobimport.web import keys
from tests.support import free_port, wait_until
from tests.web.conftest import AppClient
from tests.web.support import ROOT

JOBS = 1500
FEED = "https://feeds.example.test/jobs"


@pytest.fixture(scope="module")
def jobs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with many jobs, written through the store's own API and closed cleanly
    (no -wal or -shm left beside it)."""
    path = tmp_path_factory.mktemp("jobs") / "jobs.db"

    async def fill() -> None:
        store = SqliteStore(path)
        await store.open()
        try:
            entries = [
                Job(
                    source="example",
                    external_id=str(n),
                    title=f"Engineer {n}",
                    content_hash=f"h{n}",
                    description_text="lorem ipsum dolor sit amet " * 40,
                )
                for n in range(JOBS)
            ]
            run, _ = await store.start_or_get_run(FEED, "test")
            await store.mark_run_running(run.id)
            await store.stage_batch(run.id, 0, entries)
            await store.mark_run_staged(run.id, 1)
            await store.apply_batch(run.id, 0, entries)
            assert await store.count_jobs() == JOBS
        finally:
            await store.close()

    asyncio.run(fill())
    return path


def damage_job_pages(path: Path) -> list[int]:
    """Overwrite some leaf pages of the `jobs` table (SQLite's own dbstat says which) with
    garbage; the schema, the feeds and the import logs stay intact, so opening still works."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [
            row[0]
            for row in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf'"
                " ORDER BY pageno"
            )
        ]
    assert len(pages) > 20, "the jobs table should span many pages"
    middle = pages[len(pages) // 2 : len(pages) // 2 + 10]
    with path.open("r+b") as file:
        for page in middle:
            file.seek((page - 1) * page_size)
            file.write(b"\xa5" * page_size)
    return middle


@pytest.fixture
def damaged_db(jobs_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "damaged.db"
    shutil.copyfile(jobs_db, path)
    damage_job_pages(path)
    return path


# --- start-up --------------------------------------------------------------------------------


@contextlib.contextmanager
def unwritable_dir(path: Path) -> Iterator[str]:
    """Make `path` a directory nobody can create files in; yields how. chmod does not stop root,
    so as root the directory gets the immutable attribute (chattr +i), which does."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield "chmod 555"
        finally:
            path.chmod(0o755)
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"running as root and chattr +i is refused here: {done.stderr!r}")
    try:
        yield "chattr +i"
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


async def run_cli(args: list[str], database: Path, within: float = 60) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
    env.update(
        JOBIMPORT_DATABASE_URL=f"sqlite:///{database}",
        JOBIMPORT_LOG_FORMAT="json",
        JOBIMPORT_FEEDS="[]",
        JOBIMPORT_ALLOW_PRIVATE_ADDRESSES="true",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jobimport", *args,
        env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(proc.communicate(), within)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, err.decode(errors="replace")


def commands() -> list[list[str]]:
    return [["serve", "--port", str(free_port())], ["import", "http://127.0.0.1:9/feed"]]


def assert_one_line(code: int, stderr: str, path: Path, *problem: str) -> None:
    assert code == 1, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("jobimport: cannot open the SQLite database "), lines[0]
    assert str(path) in lines[0]
    assert any(word in lines[0] for word in problem), lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "import"])
async def test_a_garbage_header_stops_start_up_with_one_line(
    jobs_db: Path, tmp_path: Path, command: str
) -> None:
    path = tmp_path / "garbage.db"
    shutil.copyfile(jobs_db, path)
    with path.open("r+b") as file:
        file.write(b"this is not a SQLite header at all" * 3)
    args = next(c for c in commands() if c[0] == command)
    code, stderr = await run_cli(args, path)
    assert_one_line(code, stderr, path, "file is not a database")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "import"])
async def test_a_truncated_file_stops_start_up_with_one_line(
    jobs_db: Path, tmp_path: Path, command: str
) -> None:
    path = tmp_path / "truncated.db"
    shutil.copyfile(jobs_db, path)
    os.truncate(path, path.stat().st_size // 2)
    args = next(c for c in commands() if c[0] == command)
    code, stderr = await run_cli(args, path)
    assert_one_line(code, stderr, path, "malformed")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "import"])
async def test_a_database_in_an_unwritable_directory_stops_start_up_with_one_line(
    jobs_db: Path, tmp_path: Path, command: str
) -> None:
    # The file itself is fine; SQLite in WAL mode must create -wal and -shm beside it.
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "jobs.db"
    shutil.copyfile(jobs_db, path)
    args = next(c for c in commands() if c[0] == command)
    with unwritable_dir(folder):
        assert not os.access(folder, os.W_OK) or os.geteuid() == 0
        code, stderr = await run_cli(args, path)
    assert_one_line(code, stderr, path, "unable to open")
    assert "writable" in stderr


@pytest.mark.slow
async def test_a_directory_that_cannot_be_created_stops_start_up_with_one_line(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path = blocker / "jobs.db"
    code, stderr = await run_cli(["serve", "--port", str(free_port())], path)
    assert_one_line(code, stderr, path, "cannot create its directory")


# --- corrupt pages on a running service ------------------------------------------------------


async def test_a_search_over_corrupt_pages_answers_503_store_unavailable(
    app_client: AppClient, damaged_db: Path
) -> None:
    # Checks off: /readyz's plain probe alone does not see the damage; the search does.
    client = await app_client(database_url=f"sqlite:///{damaged_db}", store_check_interval_s=0)
    resp = await client.get("/api/jobs", params={"q": "lorem", "limit": "100"})
    body = await resp.json()
    assert resp.status == 503, body
    assert body["error"]["code"] == "store_unavailable"
    assert "malformed" in body["error"]["message"]
    assert resp.headers["X-Request-ID"]
    resp = await client.get("/readyz")
    assert resp.status == 200, await resp.json()
    assert client.server.app[keys.STORE_HEALTH].checks == 0


async def test_the_background_check_marks_a_damaged_store_not_ready(
    app_client: AppClient, damaged_db: Path
) -> None:
    client = await app_client(database_url=f"sqlite:///{damaged_db}", store_check_interval_s=3600)

    async def readiness() -> dict[str, Any] | None:
        resp = await client.get("/readyz")
        body: dict[str, Any] = await resp.json()
        return body if resp.status == 503 else None

    body = await wait_until(readiness, within=30, what="/readyz to report the damaged store")
    store = body["checks"]["store"]
    assert store["ok"] is False
    assert "integrity check (quick_check)" in store["detail"]
    assert "Page" in store["detail"]  # quick_check's own finding, not a guess
    # Still answering what the damage does not touch.
    assert (await client.get("/api/imports")).status == 200


async def test_the_background_check_passes_a_healthy_store(
    app_client: AppClient, jobs_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "healthy.db"
    shutil.copyfile(jobs_db, path)
    client = await app_client(database_url=f"sqlite:///{path}", store_check_interval_s=3600)
    health = client.server.app[keys.STORE_HEALTH]

    async def checked() -> bool:
        return health.checks >= 1

    await wait_until(checked, within=30, what="the first integrity check")
    assert health.problem is None
    resp = await client.get("/readyz")
    assert resp.status == 200, await resp.json()
    resp = await client.get("/api/jobs", params={"q": "lorem"})
    assert resp.status == 200
    assert (await resp.json())["total"] == JOBS


# --- the store and its error mapping ---------------------------------------------------------


async def test_check_integrity_finds_the_damaged_pages(jobs_db: Path, damaged_db: Path) -> None:
    healthy = SqliteStore(jobs_db)
    await healthy.open()
    try:
        assert await healthy.check_integrity() is None
    finally:
        await healthy.close()
    store = SqliteStore(damaged_db)
    await store.open()
    try:
        problem = await store.check_integrity()
        assert problem is not None
        assert "Page" in problem
        assert "\n" not in problem
        assert await store.schema_version() > 0  # the store still answers elsewhere
    finally:
        await store.close()


def test_sqlite_damage_is_store_damaged_and_opening_never_waits_on_it(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"\x00garbage" * 1000)
    with contextlib.closing(sqlite3.connect(path)) as conn, pytest.raises(sqlite3.Error) as caught:
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    error = translate(caught.value)
    assert isinstance(error, StoreDamaged)
    assert isinstance(error, StoreUnavailable)


async def test_opening_a_damaged_file_fails_at_once(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"\x00garbage" * 1000)
    store = SqliteStore(path, busy_timeout_ms=30_000)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(StoreDamaged, match=r"cannot open the SQLite database .*garbage\.db"):
        await store.open()
    assert loop.time() - started < 5  # not retried like a lock until the busy timeout


@pytest.mark.parametrize(("code", "expected"), [(91, StoreUnavailable), (2, StoreError)])
async def test_mongo_server_errors_that_mean_not_now_are_store_unavailable(
    code: int, expected: Callable[..., Exception]
) -> None:
    @translate_errors
    async def query() -> None:
        raise OperationFailure("server says no", code=code)

    with pytest.raises(StoreError) as caught:
        await query()
    assert type(caught.value) is expected
