"""Child process of the end-to-end benchmark: import one feed URL into a fresh SQLite file, then
import it again (the feed unchanged, served without validators, so it is downloaded and parsed
again and every job comes out `unchanged`). Prints one JSON object on stdout.

Each import is what `jobimport import URL` does (`cli.import_feeds`): `open_runtime(settings,
"inline")`, `scheduler.start_runs`, then wait for the in-process queue to drain. The timer runs
from start_runs to the drained queue; opening the runtime (store, migrations) is outside it.
Peak RSS is this process's VmHWM (all its threads), read after each import.

Run: `python -m bench.importer --db PATH --url URL [--repeat 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from jobimport.log import configure_logging
from jobimport.runtime import open_runtime
from jobimport.settings import Settings, load_settings
from jobimport.wire import ImportLog


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM, the high-water mark of its own address space. Not
    `ru_maxrss`: Linux carries that across exec, so a child started by a big parent (the
    bench holds a 258 MB feed in memory) would report the parent's size."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best effort


def current_rss_mb() -> float:
    return _status_mb("VmRSS") or 0.0


async def import_once(settings: Settings, url: str) -> dict[str, Any]:
    async with open_runtime(settings, "inline") as runtime:
        assert runtime.local_queue is not None
        rss_before = current_rss_mb()
        started = time.perf_counter()
        runs = await runtime.scheduler.start_runs([url], trigger="cli")
        await runtime.local_queue.join()
        seconds = time.perf_counter() - started
        run = await runtime.store.get_run(runs[0].id) or runs[0]
    log = ImportLog.of(run).model_dump(mode="json")  # the import log as the API shows it
    return {
        "seconds": seconds,
        "status": log["status"],
        "fetched": log["totalFetched"],
        "new": log["newJobs"],
        "updated": log["updatedJobs"],
        "unchanged": log["unchangedJobs"],
        "failed": log["failedJobs"],
        "error": log["error"],
        "bytes": (log["http"] or {}).get("bytes"),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


async def main(db: Path, url: str, repeat: int) -> dict[str, Any]:
    settings = load_settings(
        database_url=f"sqlite:///{db}",
        feeds=[url],
        allow_private_addresses=True,
        max_feed_bytes=1024 * 1024 * 1024,
        fetch_timeout_s=1800.0,
        job_timeout_s=3600.0,
    )
    configure_logging(settings)  # stderr, JSON lines: the CLI's logging, sent to a file
    imports = [await import_once(settings, url) for _ in range(repeat)]
    return {"imports": imports, "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    result = asyncio.run(main(args.db, args.url, args.repeat))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
