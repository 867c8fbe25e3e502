"""Profiles: where an end-to-end import spends its time, and inside the parse + normalize stage.

- py-spy samples every thread of an end-to-end import (bench/importer.py, first import only);
  the active samples (idle waits left out) are put in stages by the frames on their stack.
- The parse + normalize stage, two views, because a sampling profiler alone misleads there:
- the split, timed without any profiler: per chunk, the time in `FeedParser.feed` (lxml in C
  plus our event loop) and the time in `Normalizer` (all Python around nh3), in µs per item;
- pyinstrument's flat self-time of the normalize step (over items parsed beforehand), top
  entries. Profiling the whole stage instead over-weights the parser: lxml's C work has no
  frames of its own and the profiler's per-call overhead lands on the many small Python calls.
The full call tree goes to the logs folder.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.feedserver import feed_url
from bench.parsers import FEED_URL, chunks_of
from bench.procs import ROOT, child_env, feed_server
from bench.stats import BenchError

TOP = 15
_ENTRY = re.compile(r"^\s*([0-9.]+)%\s+(.+?)\s*$")


def stage_split(chunks: list[bytes], runs: int) -> dict[str, float]:
    """Best of `runs`: µs per item in parsing and in normalizing."""
    from jobimport.reader.normalize import Normalizer
    from jobimport.reader.parse import FeedParser

    results: list[dict[str, float]] = []
    for _ in range(runs + 1):  # the first run warms up
        parser, normalize = FeedParser(), Normalizer(FEED_URL)
        parse_s = normalize_s = 0.0
        items = 0
        for chunk in chunks:
            started = time.perf_counter()
            raws = parser.feed(chunk)
            parsed = time.perf_counter()
            for raw in raws:
                normalize(raw)
            normalize_s += time.perf_counter() - parsed
            parse_s += parsed - started
            items += len(raws)
        raws = parser.close()
        for raw in raws:
            normalize(raw)
        items += len(raws)
        if items == 0:
            raise BenchError("the profile feed has no items")
        results.append(
            {"parse_us": parse_s * 1e6 / items, "normalize_us": normalize_s * 1e6 / items}
        )
    best = {key: min(run[key] for run in results[1:]) for key in results[0]}
    return {k: round(v, 1) for k, v in best.items()}


def normalize_profile(chunks: list[bytes], logs: Path) -> list[dict[str, Any]]:
    try:
        from pyinstrument import Profiler
    except ImportError as exc:
        raise BenchError("pyinstrument is not installed: run `make bench`") from exc
    from jobimport.reader.normalize import Normalizer
    from jobimport.reader.parse import FeedParser

    parser = FeedParser()
    raws = [raw for chunk in chunks for raw in parser.feed(chunk)] + parser.close()
    normalize = Normalizer(FEED_URL)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for raw in raws:
        normalize(raw)
    profiler.stop()
    (logs / "profile-normalize.txt").write_text(profiler.output_text(show_all=False))
    flat = profiler.output_text(flat=True, time="percent_of_total")
    entries: list[dict[str, Any]] = []
    for line in flat.splitlines():
        match = _ENTRY.match(line)
        if match and "bench/" not in match[2]:  # the harness's own loop is not the stage
            entries.append({"percent": float(match[1]), "function": match[2]})
    return entries[:TOP]


# Frames that mean "waiting" (a thread parked on its work queue, the loop in select, a lock).
_IDLE = ("_worker (concurrent/futures/thread.py:81)", "select (selectors.py", "wait (threading.py")
# Stage of a sample: the first of these found on its stack, from the top of the list.
STAGES: tuple[tuple[str, str], ...] = (
    ("process start-up (imports)", "<frozen importlib"),
    ("parse (lxml + FeedParser)", "FeedParser."),
    ("normalize", "Normalizer.__call__"),
    ("store: stage batches (encode, insert)", "stage_batch"),
    ("store: load staged batches", "load_staged_batch"),
    ("store: apply batches (upsert, results)", "apply_batch"),
    ("store: other", "jobimport/store/"),
    ("queue, pipeline, event loop, HTTP, other", ""),
)


def classify(raw: Path) -> dict[str, Any]:
    """Active samples of a py-spy `--format raw --threads` file, by thread and by stage."""
    threads: collections.Counter[str] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or len(frames) < 2:
            continue
        if any(marker in frames[-1] for marker in _IDLE):
            idle += int(count)
            continue
        thread = re.sub(r"^thread \(\d+\)(: )?", "", frames[0]).rstrip("_0123456789")
        threads[thread or "(unnamed)"] += int(count)
        for stage, marker in STAGES:
            if any(marker in frame for frame in frames[1:]):
                stages[stage] += int(count)
                break
    active = sum(threads.values()) or 1
    return {
        "active_samples": active,
        "idle_samples": idle,
        "threads": {k: round(100 * v / active, 1) for k, v in threads.most_common()},
        "stages": {k: round(100 * stages[k] / active, 1) for k, _ in STAGES if stages[k]},
    }


def import_profile(path: Path, logs: Path) -> dict[str, Any]:
    """py-spy over one end-to-end import of `path` (its own process, fresh store)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise BenchError("py-spy is not installed: run `make bench`")
    raw, db = logs / "profile-import.raw.txt", logs / "profile-import.db"
    db.unlink(missing_ok=True)
    with feed_server(logs) as base, (logs / "profile-import.log").open("wb") as log:
        done = subprocess.run(
            [spy, "record", "--format", "raw", "--output", str(raw), "--rate", "200",
             "--threads", "--gil", "--nonblocking", "--", sys.executable, "-m", "bench.importer",
             "--db", str(db), "--url", feed_url(base, path), "--repeat", "1"],
            stdout=subprocess.DEVNULL, stderr=log, env=child_env(), cwd=ROOT, timeout=900,
            check=False,
        )  # fmt: skip
    if done.returncode != 0 or not raw.exists():
        raise BenchError(f"py-spy could not profile the import (see {log.name})")
    return {"feed": path.name, **classify(raw)}


def profile(path: Path, logs: Path, runs: int) -> dict[str, Any]:
    chunks = chunks_of(path.read_bytes())
    split = stage_split(chunks, runs)
    top = normalize_profile(chunks, logs)
    return {"feed": path.name, "split_us_per_item": split, "normalize_self_time_top": top}
