"""`python -m bench.run [--quick]`: every benchmark, then results.json, REPORT.md and the README
table. Exits 1 when a benchmark could not run (the others still run and are reported); a
number that misses its target fails nothing.

Full mode takes ~8 minutes on 2 quiet cores; `--quick` (small sizes, one run) about one.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import e2e, history, parsers, scale, service, sse
from bench.feedserver import feed_url
from bench.generate import DATA_DIR, ensure_feed
from bench.machine import load_average, machine_info
from bench.procs import feed_server, raise_fd_limit
from bench.profile import import_profile, profile
from bench.stats import BenchError, Figure, percentile


@dataclass(frozen=True)
class Config:
    mode: str
    sizes: tuple[int, ...]
    parse_main: int  # the feed every parser runs on
    parse_runs: int
    parse_extra: tuple[int, ...]  # jobimport and lxml only
    e2e_runs: dict[int, int]
    api_logs: int
    api_clients: int
    api_windows: int
    api_window_s: float
    import_feed: int  # imported while the API is under load
    import_window_max_s: float
    sse_clients: int
    sse_feed: int
    sse_runs: int
    profile_feed: int
    history_runs: int = 1_000_000
    history_requests: int = 100
    history_windows: int = 3
    scale_runs: int = 3
    max_requests: int = 200_000


FULL = Config(
    mode="full", sizes=(1_000, 10_000, 100_000), parse_main=10_000, parse_runs=5,
    parse_extra=(1_000, 100_000), e2e_runs={1_000: 5, 10_000: 3, 100_000: 2},
    api_logs=100_000, api_clients=4, api_windows=3, api_window_s=8.0, import_feed=100_000,
    import_window_max_s=300.0, sse_clients=1_000, sse_feed=10_000, sse_runs=2,
    profile_feed=10_000,
)  # fmt: skip
QUICK = Config(
    mode="quick", sizes=(1_000, 10_000), parse_main=1_000, parse_runs=1, parse_extra=(),
    e2e_runs={1_000: 1, 10_000: 1}, api_logs=100_000, api_clients=4, api_windows=1,
    api_window_s=3.0, import_feed=10_000, import_window_max_s=60.0, sse_clients=100,
    sse_feed=1_000, sse_runs=1, profile_feed=10_000, history_runs=100_000, history_requests=50,
    history_windows=1, scale_runs=1,
)  # fmt: skip


@dataclass
class Run:
    config: Config
    logs: Path
    figures: list[Figure] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str, body: Callable[[], None]) -> None:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            body()
        except (BenchError, OSError, ValueError, KeyError, TimeoutError) as exc:
            traceback.print_exc()
            self.errors.append({"section": name, "error": f"{type(exc).__name__}: {exc}"})
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)


def bench_parse(run: Run, paths: dict[int, Path]) -> None:
    cfg = run.config
    main = parsers.measure(paths[cfg.parse_main], cfg.parse_main, cfg.parse_runs, others=True)
    extra = [
        parsers.measure(paths[size], size, 1 if size >= 100_000 else cfg.parse_runs, others=False)
        for size in cfg.parse_extra
    ]
    if main.failures:
        run.caveats.append(f"{main.failures} items of the parse feed failed to normalize")
    run.figures += parsers.figures(main, extra)
    run.extra["fast_xml_parser_version"] = parsers.FXP_VERSION


def bench_e2e(run: Run, paths: dict[int, Path]) -> None:
    results = e2e.measure(paths, run.config.e2e_runs, run.logs)
    run.figures += e2e.figures(results)


def _windows(name: str, loads: list[service.Load], note: str, target: float) -> list[Figure]:
    all_ms = [ms for load in loads for ms in load.latencies_ms]
    requests = len(all_ms)
    rate = requests / sum(load.seconds for load in loads)
    extra = {"requests": requests, "requests_per_s": round(rate, 1),
             "errors": sum(load.errors for load in loads),
             "p99_all_ms": round(percentile(all_ms, 99), 2)}  # fmt: skip
    return [
        Figure(name, [load.p(99) for load in loads], "ms", target, better="lower",
               note=note, extra=extra),
        Figure(name.replace("p99", "p50"), [load.p(50) for load in loads], "ms",
               better="lower", note=note),
    ]  # fmt: skip


def _split(load: service.Load, parts: int) -> list[service.Load]:
    """One long load cut into `parts` consecutive windows of equal request count."""
    size = max(1, len(load.latencies_ms) // parts)
    chunks = [load.latencies_ms[i * size : (i + 1) * size] for i in range(parts)]
    share = load.seconds / parts
    return [service.Load(chunk, 0, share) for chunk in chunks if chunk]


def bench_service(run: Run, paths: dict[int, Path]) -> None:
    cfg = run.config
    raise_fd_limit(cfg.sse_clients * 2 + 1024)
    with feed_server(run.logs) as base:
        feeds = {size: feed_url(base, paths[size]) for size in paths}
        db = run.logs / "service.db"
        db.unlink(missing_ok=True)
        took = service.prepare_store(db, list(feeds.values()), cfg.api_logs)
        run.extra["api_store_fill_s"] = round(took, 2)
        print(f"  {cfg.api_logs} import logs inserted in {took:.1f} s", flush=True)
        with service.service(db, list(feeds.values()), run.logs) as api:
            asyncio.run(service.api_load(api, cfg.api_clients, 2.0, cfg.max_requests))  # warm
            idle = []
            for n in range(cfg.api_windows):
                load = asyncio.run(
                    service.api_load(api, cfg.api_clients, cfg.api_window_s, cfg.max_requests)
                )
                print(f"  API idle window {n + 1}: {load.summary()}", flush=True)
                idle.append(load)
            note = f"{cfg.api_clients} closed-loop clients, {cfg.api_logs} logs in the store"
            run.figures += _windows("api_p99_ms", idle, note, 50.0)
            load, state = asyncio.run(
                service.load_during_import(
                    api, feeds[cfg.import_feed], cfg.api_clients, cfg.import_window_max_s,
                    cfg.max_requests, cfg.import_feed,
                )
            )  # fmt: skip
            print(f"  API during import: {load.summary()}", flush=True)
            took = state["durationMs"] / 1000
            note = (f"same load while the service imports {cfg.import_feed} items"
                    f" ({took:.0f} s); windows = thirds of the import")  # fmt: skip
            run.figures += _windows("api_p99_ms_during_import", _split(load, 3), note, 100.0)
            fans = []
            for n in range(cfg.sse_runs):
                fan = asyncio.run(sse.fan_out(api, feeds[cfg.sse_feed], cfg.sse_clients, 600,
                                              cfg.sse_feed))  # fmt: skip
                print(f"  SSE run {n + 1}: {fan.summary()}", flush=True)
                fans.append(fan)
            _sse_figures(run, fans)


def bench_history(run: Run, paths: dict[int, Path]) -> None:
    """history_page_p99_ms: GET / with `history_runs` runs in the store (bench/history.py)."""
    cfg = run.config
    db = run.logs / "history.db"
    db.unlink(missing_ok=True)
    took = history.prepare(db, cfg.history_runs)
    run.extra["history_store_fill_s"] = round(took, 2)
    print(f"  {cfg.history_runs} runs inserted in {took:.1f} s", flush=True)
    with service.service(db, [], run.logs) as api:
        asyncio.run(history.page_load(api, 5))  # warm
        loads = []
        for n in range(cfg.history_windows):
            load = asyncio.run(history.page_load(api, cfg.history_requests))
            print(f"  history page window {n + 1}: {load.summary()}", flush=True)
            loads.append(load)
    note = f"GET / one after another, {cfg.history_runs} runs in the store (10,000 feeds, hourly)"
    run.figures += _windows("history_page_p99_ms", loads, note, 100.0)


def _sse_figures(run: Run, fans: list[sse.Fanout]) -> None:
    cfg = run.config
    if any(not fan.latencies_ms for fan in fans):
        raise BenchError("an SSE run delivered no events")
    early = sum(fan.ended_early for fan in fans)
    if early:
        run.caveats.append(f"{early} SSE streams ended before run.finished")
    kind = "a first import" if cfg.sse_runs == 1 else "a first import, then a re-import"
    note = (f"{cfg.sse_clients} clients on /api/events, {kind} of {cfg.sse_feed} items"
            f" per run; {fans[0].run_events} events per client")  # fmt: skip
    extra = {"deliveries": sum(len(f.latencies_ms) for f in fans), "ended_early": early,
             "connect_s": [round(f.connect_s, 2) for f in fans]}  # fmt: skip
    p99 = [percentile(f.latencies_ms, 99) for f in fans]
    p50 = [percentile(f.latencies_ms, 50) for f in fans]
    run.figures.append(Figure("sse_p99_ms", p99, "ms", 250.0, better="lower", note=note,
                              extra=extra))  # fmt: skip
    run.figures.append(Figure("sse_p50_ms", p50, "ms", better="lower", note=note))


def bench_profile(run: Run, paths: dict[int, Path]) -> None:
    size = run.config.profile_feed
    result = profile(paths[size], run.logs, runs=3)
    try:
        result["import"] = import_profile(paths[size], run.logs)
    except (BenchError, OSError, subprocess.SubprocessError) as exc:
        run.caveats.append(f"the py-spy profile of an import did not run: {exc}")
    run.extra["profile"] = result


def bench_scale(run: Run, paths: dict[int, Path]) -> None:
    del paths  # its own feeds and store
    run.figures += scale.figures(run.config.scale_runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="jobimport benchmarks (see bench/REPORT.md)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run (~1 min)")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    began, started_at = time.perf_counter(), datetime.now(UTC)
    logs = DATA_DIR / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    run = Run(cfg, logs)
    machine = machine_info()
    print(f"bench ({cfg.mode}): {machine['cpu_model']}, {machine['cores']} cores", flush=True)
    paths: dict[int, Path] = {}

    def generate() -> None:
        for size in cfg.sizes:
            paths[size] = ensure_feed(size)

    run.section("generate feeds", generate)
    if len(paths) == len(cfg.sizes):
        for name, body in (("parse + normalize", bench_parse), ("end-to-end import", bench_e2e),
                           ("API and SSE", bench_service), ("history page", bench_history),
                           ("profile", bench_profile),
                           ("many feeds, one host", bench_scale)):  # fmt: skip
            run.section(name, lambda body=body: body(run, paths))  # type: ignore[misc]
    results: dict[str, Any] = {
        "mode": cfg.mode,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - began, 1),
        "machine": machine,
        "load_average_at_end": load_average(),
        "feeds": {str(s): {"file": p.name, "bytes": p.stat().st_size} for s, p in paths.items()},
        "figures": {fig.name: fig.to_json() for fig in run.figures if fig.samples},
        "errors": run.errors,
        "caveats": run.caveats,
        **run.extra,
    }
    from bench.report import HERE, write_all

    # A quick run never overwrites the full run's files (those are committed).
    out = HERE if cfg is FULL else DATA_DIR / "quick"
    out.mkdir(parents=True, exist_ok=True)
    if not write_all(results, out, readme=cfg is FULL) and cfg is FULL:
        print("README.md has no bench markers: its Performance table was not updated")
    print(f"wrote {out}/results.json and REPORT.md in {results['duration_s']:.0f} s")
    for error in run.errors:
        print(f"FAILED: {error['section']}: {error['error']}", file=sys.stderr)
    return 1 if run.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
