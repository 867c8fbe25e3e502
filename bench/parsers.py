"""Measurement 1: parse + normalize items/s of jobimport's stage against the alternatives.

- jobimport: `pipeline.DocumentReader` (hardened streaming parse + normalize: sanitizing, text
  copy, dates, identity, content hash, raw JSON) fed 64 KiB chunks, as the fetch stage feeds it.
- lxml: a bare streaming parse of the same chunks, `XMLPullParser(events=("end",), tag="item")`
  with the hardened options, each item cleared (and its finished siblings dropped) after use.
  Nothing is extracted: the practical limit of a streaming parse in Python.
- feedparser: `feedparser.parse(body)` of the whole document (it is not streaming); it also
  sanitizes HTML and parses dates.
- fast-xml-parser: a bare `XMLParser.parse(buffer)` in Node, timed inside Node after warm-up.

Every parser works on the document already in memory, so disk speed plays no part. Runs are
interleaved (jobimport, lxml, jobimport, feedparser, ...) so that a noisy neighbour hits all of
them alike; each ratio is taken per pair of neighbouring runs, and the median is reported.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from bench.stats import BenchError, Figure, ratios

CHUNK = 64 * 1024
FXP_VERSION = "5.12.1"
FEED_URL = "https://jobicy.com/?feed=job_feed"  # a Jobicy URL: the Jobicy identity rules apply
HERE = Path(__file__).resolve().parent


def chunks_of(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def run_jobimport(chunks: list[bytes]) -> tuple[int, int, float]:
    """(jobs, item failures, seconds) of DocumentReader over the chunks."""
    from jobimport.models import ItemFailure
    from jobimport.reader.document import DocumentReader

    started = time.perf_counter()
    reader = DocumentReader(FEED_URL)
    jobs = failures = 0
    for chunk in chunks:
        for entry in reader.feed(chunk):
            if isinstance(entry, ItemFailure):
                failures += 1
            else:
                jobs += 1
    for entry in reader.close():
        failures += isinstance(entry, ItemFailure)
        jobs += not isinstance(entry, ItemFailure)
    seconds = time.perf_counter() - started
    if reader.error is not None:
        raise BenchError(f"jobimport could not parse the feed: {reader.error}")
    return jobs, failures, seconds


def run_lxml(chunks: list[bytes]) -> tuple[int, float]:
    started = time.perf_counter()
    parser = etree.XMLPullParser(
        events=("end",),
        tag="item",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    items = 0
    for chunk in chunks:
        parser.feed(chunk)
        for _event, item in parser.read_events():
            element: Any = item  # end events carry elements (lxml-stubs type it more widely)
            items += 1
            element.clear(keep_tail=True)
            parent = element.getparent()
            while element.getprevious() is not None:
                del parent[0]
    parser.close()
    return items, time.perf_counter() - started


def run_feedparser(data: bytes) -> tuple[int, float]:
    try:
        import feedparser
    except ImportError as exc:
        raise BenchError("feedparser is not installed: run `make bench`") from exc
    started = time.perf_counter()
    parsed = feedparser.parse(data)
    seconds = time.perf_counter() - started
    return len(parsed.entries), seconds


@contextlib.contextmanager
def fast_xml_parser() -> Iterator[Path]:
    """fast-xml-parser installed from npm into a temporary folder, removed afterwards."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise BenchError("node and npm are needed for the fast-xml-parser comparison")
    folder = Path(tempfile.mkdtemp(prefix="jobimport-bench-fxp-"))
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(folder),
             f"fast-xml-parser@{FXP_VERSION}"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BenchError(f"npm install fast-xml-parser failed: {done.stderr[-2000:]}")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_fast_xml_parser(
    folder: Path, path: Path, runs: int, warmups: int
) -> tuple[int, list[float]]:
    script = HERE / "fxp_parse.cjs"
    done = subprocess.run(
        ["node", str(script), str(folder), str(path), str(runs), str(warmups)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"fast-xml-parser run failed: {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return int(out["items"]), [float(s) for s in out["seconds"]]


@dataclass
class ParseRuns:
    """Items/s of each parser over the runs of one feed."""

    size: int
    jobimport: list[float] = field(default_factory=list)
    lxml: list[float] = field(default_factory=list)
    feedparser: list[float] = field(default_factory=list)
    fxp: list[float] = field(default_factory=list)
    failures: int = 0


def _check(name: str, got: int, size: int) -> None:
    if got != size:
        raise BenchError(f"{name} found {got} items, expected {size}")


def measure(path: Path, size: int, runs: int, *, others: bool, log: bool = True) -> ParseRuns:
    """Interleaved runs of jobimport and lxml (and, with `others`, feedparser and
    fast-xml-parser) over one feed; one untimed warm-up each first."""
    data = path.read_bytes()
    chunks = chunks_of(data)
    result = ParseRuns(size)
    run_jobimport(chunks)  # warm-up: imports, caches
    run_lxml(chunks)
    for n in range(runs):
        jobs, failures, seconds = run_jobimport(chunks)
        _check("jobimport", jobs + failures, size)
        result.failures = failures
        result.jobimport.append(size / seconds)
        items, seconds = run_lxml(chunks)
        _check("lxml", items, size)
        result.lxml.append(size / seconds)
        if others:
            items, seconds = run_feedparser(data)
            _check("feedparser", items, size)
            result.feedparser.append(size / seconds)
        if log:
            print(f"  parse {size} run {n + 1}/{runs}: {_summary(result)}", flush=True)
    if others:
        with fast_xml_parser() as folder:
            items, seconds_list = run_fast_xml_parser(folder, path, runs, warmups=2)
        _check("fast-xml-parser", items, size)
        result.fxp = [size / s for s in seconds_list]
        if log:
            print(f"  fast-xml-parser {size}: {[round(x) for x in result.fxp]} items/s", flush=True)
    return result


def _summary(result: ParseRuns) -> str:
    parts = [f"jobimport {result.jobimport[-1]:.0f}", f"lxml {result.lxml[-1]:.0f}"]
    if result.feedparser:
        parts.append(f"feedparser {result.feedparser[-1]:.0f}")
    return ", ".join(parts) + " items/s"


def figures(main: ParseRuns, extra: list[ParseRuns]) -> list[Figure]:
    """Ratios on the main feed (where every parser ran) and raw items/s of every feed."""
    size = main.size
    out = [
        Figure("parse_vs_lxml_ratio", ratios(main.jobimport, main.lxml), "x", 0.5,
               note=f"jobimport parse+normalize vs bare lxml streaming parse, {size} items"),
        Figure("parse_vs_feedparser_ratio", ratios(main.jobimport, main.feedparser), "x", 15.0,
               note=f"jobimport vs feedparser.parse (sanitizes, parses dates), {size} items"),
        Figure("parse_vs_fast_xml_parser_ratio", ratios(main.jobimport, main.fxp), "x", 1.5,
               note=f"jobimport vs bare fast-xml-parser {FXP_VERSION} parse in Node, {size} items"),
    ]  # fmt: skip
    for runs in [main, *extra]:
        label = _label(runs.size)
        out.append(Figure(f"parse_items_per_s_jobimport_{label}", runs.jobimport, "items/s"))
        out.append(Figure(f"parse_items_per_s_lxml_{label}", runs.lxml, "items/s"))
        if runs.feedparser:
            out.append(Figure(f"parse_items_per_s_feedparser_{label}", runs.feedparser, "items/s"))
        if runs.fxp:
            out.append(Figure(f"parse_items_per_s_fast_xml_parser_{label}", runs.fxp, "items/s"))
    return out


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)
