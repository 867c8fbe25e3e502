"""Command line: serve, worker, demo, import, healthcheck, backup, config; one function a command.

Exit codes: 0 every run succeeded or was not modified, or a service stopped on SIGTERM/SIGINT;
1 a run failed or ended partial, or a valid setting names something that cannot be used (a
database that cannot be opened, a Redis that refuses or does not answer, a port in use: one line
on stderr, no traceback); 2 usage or settings error (a setting invalid as written).
`healthcheck` is the exception: Docker reserves 2 for health checks, so anything unhealthy, bad
settings included, is 1.

Only the commands that listen (serve, demo) import the web package (and with it aiohttp_jinja2,
aiohttp_sse and jinja2): `import`, `worker`, `healthcheck` and `config` start without it
(tests/test_cli_imports.py checks it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

import aiohttp

from jobimport import __version__
from jobimport.errors import ResourceUnavailable, SettingsError, StoreError
from jobimport.events.types import RunEvent, RunFinished, RunProgress, RunStarted
from jobimport.log import configure_logging, flush_repeats
from jobimport.models import ImportRun, RunStatus
from jobimport.queue.arq_producer import worker_alive
from jobimport.runtime import open_runtime
from jobimport.settings import Settings, load_settings
from jobimport.store import backup_database
from jobimport.store.base import Store
from jobimport.wire import ImportLog

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CLEAN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.NOT_MODIFIED)
ROLES = ("all", "web", "worker")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobimport",
        description="Import job postings from RSS feeds with an honest history of every import.",
    )
    parser.add_argument("--version", action="version", version=f"jobimport {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    srv = commands.add_parser(
        "serve",
        help="run the HTTP API (and, with --role all, the worker and scheduler)",
        description="Serve the API, SSE and metrics until SIGTERM or SIGINT.",
    )
    srv.add_argument(
        "--role",
        choices=ROLES,
        help="all: everything in one process; web: HTTP only; worker: tasks, no port "
        "(default: JOBIMPORT_ROLE, all)",
    )
    _add_listen_args(srv)
    srv.set_defaults(handler=cmd_serve)

    demo = commands.add_parser(
        "demo",
        help="serve on bundled sample feeds and import them at once (no internet needed)",
        description="Start the service with a local server for the bundled sample feeds.",
    )
    _add_listen_args(demo)
    demo.set_defaults(handler=cmd_demo)

    imp = commands.add_parser(
        "import",
        help="import feeds now, in this process",
        description="Import the given feeds (default: every registered feed that is not paused)"
        " now, in-process. A URL given here is imported once, not registered.",
    )
    imp.add_argument(
        "urls",
        nargs="*",
        metavar="URL",
        help="feed URLs (default: the registered feeds: JOBIMPORT_FEEDS and those added later)",
    )
    imp.add_argument(
        "--json", action="store_true", help="print only a JSON array of import logs on stdout"
    )
    imp.add_argument(
        "--enqueue",
        action="store_true",
        help="put the runs on the Redis queue for the workers instead of running them here",
    )
    imp.set_defaults(handler=cmd_import)

    wrk = commands.add_parser(
        "worker",
        help="run the queue worker and the scheduler (no HTTP port)",
        description="Run the arq worker and the scheduler tick until SIGTERM or SIGINT.",
    )
    wrk.set_defaults(handler=cmd_worker)

    health = commands.add_parser(
        "healthcheck",
        help="exit 0 if this role is healthy (web: /readyz; worker: its health key in Redis)",
        description="Check the local service: GET /readyz on its port for the all and web "
        "roles, arq's health-check key in Redis for a worker. The role and port are those of "
        "the jobimport service this container runs (PID 1, or a child of an init), whatever its "
        "command; else JOBIMPORT_ROLE and JOBIMPORT_PORT. Exit 0 healthy, 1 anything else: "
        "bad settings are 1 here too, not 2 (Docker reserves 2 for health checks).",
    )
    health.add_argument(
        "--role", choices=ROLES, help="default: the running service's, else JOBIMPORT_ROLE"
    )
    health.add_argument(
        "--port", type=int, help="default: the running service's, else JOBIMPORT_PORT"
    )
    health.set_defaults(handler=cmd_healthcheck)

    bak = commands.add_parser(
        "backup",
        help="copy the SQLite store to PATH while the service runs (online backup)",
        description="Copy the SQLite database to PATH with SQLite's online backup API: a "
        "consistent copy, taken while the service keeps serving. MongoDB: use mongodump.",
    )
    bak.add_argument("path", type=Path, metavar="PATH", help="the backup file to write")
    bak.add_argument("--force", action="store_true", help="replace PATH if it exists")
    bak.set_defaults(handler=cmd_backup)

    cfg = commands.add_parser(
        "config",
        help="print the effective settings (secrets masked)",
        description="Print the effective settings as JSON, secrets masked.",
    )
    cfg.set_defaults(handler=cmd_config)
    return parser


def _add_listen_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: JOBIMPORT_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: JOBIMPORT_PORT)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    health = argv[:1] == ["healthcheck"]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # Docker reserves 2 for health checks: a wrong one is unhealthy
        if health and exc.code == EXIT_USAGE:
            return EXIT_FAILED
        raise
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"jobimport: {exc}", file=sys.stderr)
        return EXIT_FAILED if health else EXIT_USAGE
    configure_logging(settings)
    try:
        code: int = args.handler(args, settings, parser)
    # e.g. a damaged SQLite file, an unwritable directory, a Redis that refuses, at start-up
    except (StoreError, ResourceUnavailable) as exc:
        print(f"jobimport: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAILED
    return code


def cmd_config(args: argparse.Namespace, settings: Settings, _: argparse.ArgumentParser) -> int:
    json.dump(settings.masked(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


NO_FEEDS = "no feeds: pass URLs, set JOBIMPORT_FEEDS or add feeds (POST /api/feeds)"


def cmd_import(
    args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser
) -> int:
    urls: list[str] = list(dict.fromkeys(args.urls))
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        parser.error(f"not an http(s) URL: {bad[0]}")
    if args.enqueue and not settings.redis_url:
        parser.error("--enqueue needs a queue: set JOBIMPORT_REDIS_URL")
    progress = _Progress(sys.stderr) if sys.stderr.isatty() and not args.json else None
    if args.enqueue:
        queued = asyncio.run(enqueue_feeds(settings, urls))
        if not queued:
            parser.error(NO_FEEDS)
        _print_runs(queued, args.json)
        return EXIT_OK
    runs = asyncio.run(import_feeds(settings, urls, progress))
    if not runs:
        parser.error(NO_FEEDS)
    _print_runs(runs, args.json)
    return EXIT_OK if all(run.status in CLEAN_STATUSES for run in runs) else EXIT_FAILED


def _print_runs(runs: Sequence[ImportRun], as_json: bool) -> None:
    if as_json:
        json.dump([ImportLog.of(run).model_dump(mode="json") for run in runs], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(runs, sys.stdout)


async def import_feeds(
    settings: Settings, urls: Sequence[str], progress: _Progress | None = None
) -> list[ImportRun]:
    """Import each feed now on an in-process queue (same tasks, concurrency and retries as the
    workers); returns the runs in order once the queue is idle. A feed whose run is already in
    flight elsewhere is returned as it stands."""
    extra = progress.publish if progress else None
    async with open_runtime(settings, "inline", extra_publish=extra) as runtime:
        urls = urls or await active_feeds(runtime.store)
        started = await runtime.scheduler.start_runs(urls, trigger="cli")
        assert runtime.local_queue is not None
        await runtime.local_queue.join()
        return [await runtime.store.get_run(run.id) or run for run in started]


async def enqueue_feeds(settings: Settings, urls: Sequence[str]) -> list[ImportRun]:
    """Create queued runs and put their fetch tasks on the Redis queue; returns at once."""
    async with open_runtime(settings, "web") as runtime:
        urls = urls or await active_feeds(runtime.store)
        return await runtime.scheduler.start_runs(urls, trigger="cli")


async def active_feeds(store: Store) -> list[str]:
    """The registered feeds that are not paused: what `import` without URLs imports."""
    return [feed.url for feed in await store.list_feeds() if not feed.paused]


def cmd_worker(
    args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser
) -> int:
    if not settings.redis_url:
        parser.error("the worker needs a queue: set JOBIMPORT_REDIS_URL")
    asyncio.run(run_worker(settings))
    return EXIT_OK


async def run_worker(settings: Settings) -> None:
    """Run the worker role until SIGTERM or SIGINT. A signal during start-up (waiting for
    Redis, say) cancels it: what was opened is closed, and the worker exits 0."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    started = False

    def on_signal() -> None:
        stop.set()
        if not started and main is not None:
            main.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    try:
        async with open_runtime(settings, "worker"):
            started = True
            await stop.wait()
    except asyncio.CancelledError:
        if not stop.is_set():
            raise


def _listen_address(
    args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser
) -> tuple[str, int]:
    from jobimport.web.server import is_loopback

    host: str = args.host or settings.host
    port: int = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        parser.error(f"--port {port} is not a port number")
    if settings.admin_token is None and not is_loopback(host):
        parser.error(
            f"refusing to listen on {host} without a token: anyone who reaches it could start "
            "imports. Set JOBIMPORT_ADMIN_TOKEN (e.g. export JOBIMPORT_ADMIN_TOKEN=$(python -c "
            "'import secrets; print(secrets.token_urlsafe(32))')), or listen on 127.0.0.1"
        )
    return host, port


def cmd_serve(args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser) -> int:
    role = args.role or settings.role
    if role in ("web", "worker") and not settings.redis_url:
        parser.error(f"--role {role} shares work through Redis: set JOBIMPORT_REDIS_URL")
    if role == "worker":  # no port: the same as `jobimport worker`
        return cmd_worker(args, settings, parser)
    from jobimport.web.app import create_app
    from jobimport.web.server import serve_until

    host, port = _listen_address(args, settings, parser)

    async def serve(stop: asyncio.Event) -> None:
        try:
            await serve_until(create_app(settings, role), host, port, stop)
        finally:
            flush_repeats()  # the counts of errors still held back

    return _run_until_signal(serve)


def cmd_demo(args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser) -> int:
    from jobimport.web.demo import run_demo

    host, port = _listen_address(args, settings, parser)

    async def demo(stop: asyncio.Event) -> None:
        await run_demo(settings, host, port, stop)

    return _run_until_signal(demo)


def _run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run `main(stop)`; SIGTERM or SIGINT sets `stop`. A port in use is exit 1."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        asyncio.run(run())
    except OSError as exc:  # e.g. the address is in use
        print(f"jobimport: cannot listen: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_healthcheck(
    args: argparse.Namespace, settings: Settings, _: argparse.ArgumentParser
) -> int:
    running_role, running_port = running_service() or (None, None)
    role = args.role or running_role or settings.role
    if role == "worker":
        if not settings.redis_url:
            print("jobimport: a worker's healthcheck needs JOBIMPORT_REDIS_URL", file=sys.stderr)
            return EXIT_FAILED
        healthy = asyncio.run(worker_alive(settings))
        print("worker alive" if healthy else "no live worker", file=sys.stderr)
    else:
        port = args.port if args.port is not None else running_port or settings.port
        healthy, detail = asyncio.run(service_ready(port))
        print(detail, file=sys.stderr)
    return EXIT_OK if healthy else EXIT_FAILED


def running_service(proc: Path = Path("/proc")) -> tuple[str | None, int | None] | None:
    """(role, port) of the jobimport service this container runs, read from its command line with
    this parser: PID 1, or under an init (`--init`, tini) a child of PID 1. None in either place
    where the command leaves it to the settings; None when no such process runs (outside a
    container, PID 1 is the machine's init)."""
    children = []
    for entry in proc.iterdir():
        with contextlib.suppress(OSError, IndexError):  # the process may end meanwhile
            if (
                entry.name.isdigit()
                and (entry / "stat").read_text().rsplit(")")[-1].split()[1] == "1"
            ):
                children.append(int(entry.name))
    for pid in [1, *sorted(children)]:
        try:
            argv = (proc / str(pid) / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        args = argv.split("\0")
        start = next((i for i, a in enumerate(args) if Path(a).name == "jobimport"), None)
        if start is None:
            continue
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                parsed = build_parser().parse_args([a for a in args[start + 1 :] if a])
        except SystemExit:
            continue
        role = "all" if parsed.command == "demo" else getattr(parsed, "role", None)
        if parsed.command == "worker" or role == "worker":
            return "worker", None
        if parsed.command in ("serve", "demo"):
            return role, parsed.port
    return None


def cmd_backup(args: argparse.Namespace, settings: Settings, _: argparse.ArgumentParser) -> int:
    size = backup_database(settings.database_url, args.path, force=args.force)
    print(f"backed up the store to {args.path} ({size} bytes)")
    return EXIT_OK


async def service_ready(port: int) -> tuple[bool, str]:
    """GET /readyz of the service on this machine (a container checks itself on loopback)."""
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            body = await resp.text()
            return resp.status == 200, f"{url}: {resp.status} {body[:200]}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return False, f"{url}: {exc!r}"


class _Progress:
    """One line per step on a terminal: which feed, how many batches done, running counts."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    async def publish(self, event: RunEvent) -> None:
        run = event.run
        if isinstance(event, RunStarted):
            line = f"started   {run.feed_url}"
        elif isinstance(event, RunProgress):
            c = run.counts
            line = (
                f"batch {run.batches_done}/{run.batches_total}  {run.feed_url}  "
                f"new {c.new} updated {c.updated} unchanged {c.unchanged} failed {c.failed}"
            )
        elif isinstance(event, RunFinished):
            line = f"{run.status.value:<9} {run.feed_url}"
        else:
            return
        print(line, file=self._out, flush=True)


def _print_table(runs: Sequence[ImportRun], out: TextIO) -> None:
    header = f"{'status':<13}{'fetched':>8}{'new':>6}{'updated':>8}{'same':>6}{'failed':>7}  feed"
    print(header, file=out)
    for run in runs:
        c = run.counts
        reason = f"  ({run.error.reason}: {run.error.message})" if run.error else ""
        print(
            f"{run.status.value:<13}{c.fetched:>8}{c.new:>6}{c.updated:>8}{c.unchanged:>6}"
            f"{c.failed:>7}  {run.feed_url}{reason}",
            file=out,
        )
