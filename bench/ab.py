"""Before/after of the parse + normalize stage: this tree's `src` against another commit's.

`python -m bench.ab REF [--size 10000] [--rounds 7]` extracts `src/` of git REF into a
temporary folder and runs the same worker alternately on both (a fresh process each time, the
other tree first on PYTHONPATH). Each worker reports the stage's items/s (DocumentReader, 64 KiB
chunks, best of 3 after a warm-up), normalize alone in µs per item (best of 3), and a digest
over every normalized entry (all Job fields, content hash and raw JSON included), which must be
the same for both trees: the improvement may not change any output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

from bench.generate import ensure_feed
from bench.parsers import FEED_URL, chunks_of
from bench.procs import ROOT


def worker(path: Path) -> dict[str, Any]:
    from jobimport.reader.document import DocumentReader
    from jobimport.reader.normalize import Normalizer
    from jobimport.reader.parse import FeedParser

    chunks = chunks_of(path.read_bytes())

    def stage() -> tuple[float, str]:
        digest = hashlib.sha256()
        started = time.perf_counter()
        reader = DocumentReader(FEED_URL)
        entries = [entry for chunk in chunks for entry in reader.feed(chunk)] + reader.close()
        seconds = time.perf_counter() - started
        for entry in entries:
            digest.update(repr(entry).encode("utf-8", "surrogatepass"))
        return len(entries) / seconds, digest.hexdigest()

    parser = FeedParser()
    raws = [raw for chunk in chunks for raw in parser.feed(chunk)] + parser.close()

    def normalize() -> float:
        normalizer = Normalizer(FEED_URL)
        started = time.perf_counter()
        for raw in raws:
            normalizer(raw)
        return (time.perf_counter() - started) * 1e6 / len(raws)

    _, digest = stage()  # warm-up
    normalize()
    return {
        "stage_items_per_s": max(stage()[0] for _ in range(3)),
        "normalize_us": min(normalize() for _ in range(3)),
        "digest": digest,
        "module": sys.modules["jobimport"].__file__,
    }


def _extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "src/jobimport"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(src: Path, feed: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{ROOT}")
    done = subprocess.run(
        [sys.executable, "-m", "bench.ab", "--worker", str(feed)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["module"].startswith(str(src)):
        raise RuntimeError(f"worker imported {result['module']}, not the tree under {src}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", help="git commit of the 'before' tree")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker)))
        return 0
    if not args.ref:
        parser.error("give the git commit to compare with")
    feed = ensure_feed(args.size)
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        trees = {"before": _extract(args.ref, Path(tmp)), "after": ROOT / "src"}
        for n in range(args.rounds):
            for name in ("before", "after") if n % 2 == 0 else ("after", "before"):
                runs[name].append(_run(trees[name], feed))
            print(f"round {n + 1}: " + ", ".join(
                f"{k} {v[-1]['stage_items_per_s']:.0f} items/s {v[-1]['normalize_us']:.1f} µs"
                for k, v in runs.items()), flush=True)  # fmt: skip
    summary: dict[str, Any] = {"ref": args.ref, "feed": feed.name, "rounds": args.rounds}
    for name, results in runs.items():
        summary[name] = {
            "stage_items_per_s_median": round(
                statistics.median(r["stage_items_per_s"] for r in results)
            ),
            "normalize_us_median": round(statistics.median(r["normalize_us"] for r in results), 1),
            "digests": sorted({r["digest"] for r in results}),
        }
    summary["same_output"] = summary["before"]["digests"] == summary["after"]["digests"]
    print(json.dumps(summary, indent=2))
    return 0 if summary["same_output"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
