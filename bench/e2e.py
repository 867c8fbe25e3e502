"""Measurements 2 and 3: end-to-end imports and the memory they take.

For each size and run: a fresh SQLite file, a fresh child process (bench/importer.py) that
imports the feed from the bench feed server (its own process, 127.0.0.1) through the
in-process queue into the embedded store, then imports the unchanged feed again. The feed is
served without validators, so the second import downloads and parses it again; what it saves
is the store work (every job `unchanged`: compare hashes and touch, instead of inserting).

Before each child, a bare lxml streaming parse of the same file runs here: the ratio of each
import to the bare parse is taken against its neighbouring run. Peak RSS is the child's
VmHWM after its first import (the process that imported: parse thread, store thread,
queue and loop; not Redis, not the feed server).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.feedserver import feed_url
from bench.parsers import chunks_of, run_lxml
from bench.procs import ROOT, child_env, feed_server
from bench.stats import BenchError, Figure, ratios

IMPORT_TIMEOUT_S = 900


@dataclass
class SizeRuns:
    size: int
    first_ips: list[float] = field(default_factory=list)
    second_ips: list[float] = field(default_factory=list)
    lxml_ips: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    base_rss_mb: list[float] = field(default_factory=list)
    bytes: int = 0


def run_child(db: Path, url: str, log_path: Path) -> dict[str, Any]:
    with log_path.open("ab") as log:
        done = subprocess.run(
            [sys.executable, "-m", "bench.importer", "--db", str(db), "--url", url],
            stdout=subprocess.PIPE, stderr=log, env=child_env(), cwd=ROOT,
            timeout=IMPORT_TIMEOUT_S, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"the importer exited with {done.returncode} (see {log_path})")
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def _check(size: int, first: dict[str, Any], second: dict[str, Any]) -> None:
    if first["status"] != "succeeded" or first["new"] != size:
        raise BenchError(f"first import of {size} items: {first}")
    if second["status"] != "succeeded" or second["unchanged"] != size:
        raise BenchError(f"second import of {size} items: {second}")


def measure(paths: dict[int, Path], runs: dict[int, int], work: Path) -> list[SizeRuns]:
    results: list[SizeRuns] = []
    with feed_server(work) as base:
        for size, path in paths.items():
            chunks = chunks_of(path.read_bytes())
            sized = SizeRuns(size)
            for n in range(runs[size]):
                _items, seconds = run_lxml(chunks)
                sized.lxml_ips.append(size / seconds)
                with tempfile.TemporaryDirectory(prefix="bench-e2e-", dir=work) as tmp:
                    out = run_child(Path(tmp) / "store.db", feed_url(base, path), work / "e2e.log")
                first, second = out["imports"]
                _check(size, first, second)
                sized.first_ips.append(size / first["seconds"])
                sized.second_ips.append(size / second["seconds"])
                sized.peak_rss_mb.append(first["peak_rss_mb"])
                sized.base_rss_mb.append(first["rss_before_mb"])
                sized.bytes = first["bytes"] or 0
                print(
                    f"  e2e {size} run {n + 1}/{runs[size]}: first {sized.first_ips[-1]:.0f}"
                    f" items/s, again {sized.second_ips[-1]:.0f} items/s, peak RSS"
                    f" {first['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
            del chunks
            results.append(sized)
    return results


def figures(results: list[SizeRuns]) -> list[Figure]:
    out: list[Figure] = []
    for sized in results:
        label = f"{sized.size // 1000}k"
        mb = sized.bytes / 1e6
        out += [
            Figure(f"e2e_items_per_s_{label}", sized.first_ips, "items/s",
                   note=f"first import of {sized.size} items ({mb:.0f} MB) over loopback HTTP"),
            Figure(f"reimport_items_per_s_{label}", sized.second_ips, "items/s",
                   note="second import, unchanged feed, no validators"),
            Figure(f"e2e_vs_parse_ratio_{label}", ratios(sized.first_ips, sized.lxml_ips), "x",
                   0.25, note="first import vs bare lxml parse of the same file"),
            Figure(f"reimport_speedup_{label}", ratios(sized.second_ips, sized.first_ips), "x",
                   3.0, note="second import vs first, same process"),
            Figure(f"rss_peak_mb_{label}", sized.peak_rss_mb, "MB", better="lower",
                   note="peak RSS of the importing process after its first import"),
        ]  # fmt: skip
    largest, smallest = results[-1], results[0]
    big, small = f"{largest.size // 1000}k", f"{smallest.size // 1000}k"
    out += [
        Figure("e2e_vs_parse_ratio", ratios(largest.first_ips, largest.lxml_ips), "x", 0.25,
               note=f"{big} items: first import vs bare lxml parse"),
        Figure("reimport_speedup", ratios(largest.second_ips, largest.first_ips), "x", 3.0,
               note=f"{big} items: re-import of the unchanged feed vs first import"),
    ]  # fmt: skip
    if len(results) > 1:
        base = sorted(smallest.peak_rss_mb)[len(smallest.peak_rss_mb) // 2]
        out.append(
            Figure("rss_delta_mb_100k_vs_1k", [p - base for p in largest.peak_rss_mb], "MB",
                   50.0, better="lower",
                   note=f"peak RSS of a {big} import minus that of a {small} import"
                   + ("" if (big, small) == ("100k", "1k") else " (quick mode sizes)"))
        )  # fmt: skip
    return out
