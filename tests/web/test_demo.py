"""`jobimport demo` as a new user runs it: bundled samples served on loopback, imported at once,
a filled history with successes, partial runs and failures, visible through the API."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from jobimport.web.demo import SAMPLES, sample_bytes
from tests.support import free_port, wait_until
from tests.web.support import Proc, wait_http_ok


def test_samples_are_package_data() -> None:
    for sample in SAMPLES:
        assert sample_bytes(sample.file)


def free_port_pair() -> int:
    """A free port whose next one is free too (the demo serves its feeds there)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two free neighbouring ports")


async def run_demo(
    tmp_path: Path, port: int, runs_expected: int
) -> tuple[list[dict[str, Any]], int, float]:
    """Start `jobimport demo`, wait until `runs_expected` runs are final, stop it with SIGTERM;
    returns the runs (newest first), the number of jobs, and how long the exit took."""
    env = {"JOBIMPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    proc = await Proc.start(["demo", "--port", str(port)], env, tmp_path / "demo.log")
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_http_ok(f"{base}/healthz", within=30, proc=proc)
        async with aiohttp.ClientSession() as http:

            async def all_final() -> list[dict[str, Any]] | None:
                async with http.get(f"{base}/api/imports?limit=100") as resp:
                    runs: list[dict[str, Any]] = (await resp.json())["items"]
                final = [r for r in runs if r["status"] not in ("queued", "running")]
                return runs if len(final) == len(runs) == runs_expected else None

            runs = await wait_until(all_final, within=30, what="the demo imports")
            async with http.get(f"{base}/api/jobs?limit=1") as resp:
                jobs: int = (await resp.json())["total"]
        code, took = await proc.terminate(within=15)
    finally:
        await proc.stop()
    assert code == 0
    return runs, jobs, took


@pytest.mark.slow  # a `jobimport demo` process
async def test_demo_fills_the_history_once_per_launch(tmp_path: Path) -> None:
    port = free_port_pair()
    runs, jobs, took = await run_demo(tmp_path, port, len(SAMPLES))
    outcome = {
        next(s.file for s in SAMPLES if r["fileName"].endswith(s.path)): (
            r["status"],
            r["error"]["reason"] if r["error"] else None,
        )
        for r in runs
    }
    assert outcome == {
        "jobicy-all.xml": ("succeeded", None),
        "jobicy-data-science.xml": ("succeeded", None),
        "jobicy-bad-items.xml": ("partial", None),
        "jobicy-broken.xml": ("partial", "malformed_xml"),
        "higheredjobs-category.xml": ("succeeded", None),
        "higheredjobs-articles-blocked.html": ("failed", "blocked"),
    }
    bad = next(r for r in runs if r["fileName"].endswith("/copywriting"))
    # Its item dated "the day after tomorrow" failed as `invalid_date` before; by specification an
    # unreadable date is now only a warning: that job imports, with no published date.
    assert bad["failureCounts"] == {
        "missing_title": 2,
        "invalid_url": 1,
        "duplicate_in_feed": 1,
    }
    assert all(r["trigger"] in ("demo", "cron") for r in runs)
    # 150 all-jobs + 20 only in the category feed + 26 good bad-feed items (25 and the one with an
    # unreadable date) + 18 before the break + 60 HigherEdJobs; the category feed's other 40 are
    # the all-jobs feed's.
    assert jobs == 150 + 20 + 26 + 18 + 60
    assert took < 10

    # A relaunch on the same store imports every sample once more, live (none is due yet), at
    # the same feed URLs.
    again, jobs_again, _ = await run_demo(tmp_path, port, 2 * len(SAMPLES))
    newest = again[: len(SAMPLES)]
    assert {r["trigger"] for r in newest} == {"demo"}
    assert sorted(r["fileName"] for r in newest) == sorted(r["fileName"] for r in runs)
    assert jobs_again == jobs
