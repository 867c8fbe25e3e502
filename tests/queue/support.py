"""Helpers of the queue tests: a scriptable feed server, waiting on conditions with a deadline,
Redis key clean-up, a throw-away redis-server process, and a worker process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobimport.events.types import RunEvent, RunFinished
from jobimport.models import ImportRun, utc_now
from jobimport.pipeline import Pipeline
from jobimport.queue.arq_producer import ArqProducer, arq_job_pending, create_arq_pool
from jobimport.queue.base import Producer
from jobimport.queue.local import LocalQueue
from jobimport.queue.names import BATCH, FETCH
from jobimport.queue.tasks import Tasks
from jobimport.queue.worker import SupervisedWorker
from jobimport.reader.fetch import make_client_session
from jobimport.scheduler import Scheduler
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import Store
from tests.feedserver import Doc, FeedServer

T = TypeVar("T")
REDIS_URL = os.environ.get("JOBIMPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]


class ScriptedFeedServer(FeedServer):
    """FeedServer that can also answer a path with a scripted sequence of documents (the i-th
    request gets the i-th document, the last one repeats), e.g. a 503 then the feed."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: dict[str, list[Doc]] = {}
        self.trickles: dict[str, tuple[bytes, int, float]] = {}

    def script(self, path: str, docs: Sequence[Doc]) -> str:
        self.scripts[path] = list(docs)
        return self.base_url + path

    def trickle(self, path: str, body: bytes, *, parts: int, pause_s: float) -> str:
        """Serve `body` in `parts` pieces with a pause before each but the first: a slow feed."""
        self.trickles[path] = (body, parts, pause_s)
        return self.base_url + path

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        if path in self.trickles:
            self.hits[path] = self.hits.get(path, 0) + 1
            return await self._trickle(request, *self.trickles[path])
        script = self.scripts.get(path)
        if script is None:
            return await super()._serve(request)
        self.hits[path] = self.hits.get(path, 0) + 1
        doc = script[min(self.hits[path], len(script)) - 1]
        return web.Response(
            body=doc.body, status=doc.status, content_type=doc.content_type, headers=doc.headers
        )

    @staticmethod
    async def _trickle(
        request: web.Request, body: bytes, parts: int, pause_s: float
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        size = -(-len(body) // parts)
        for i in range(0, len(body), size):
            if i:
                await asyncio.sleep(pause_s)  # the server is slow on purpose
            await response.write(body[i : i + size])
        await response.write_eof()
        return response


async def wait_until(
    condition: Callable[[], Awaitable[T]],
    *,
    within: float,
    what: str,
    interval: float = 0.05,
    state: Callable[[], Awaitable[object]] | None = None,
) -> T:
    """Poll `condition` until it returns something truthy; fail after `within` seconds, saying
    `what` was awaited (and, with `state`, how things stood)."""
    deadline = time.monotonic() + within
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"; state: {await state()}" if state else ""
            raise AssertionError(f"timed out after {within} s waiting for {what}{detail}")
        await asyncio.sleep(interval)


async def wait_final(store: Store, run_ids: Sequence[str], *, within: float) -> list[ImportRun]:
    """Wait until every run is final; returns them in the order given."""

    async def runs() -> list[ImportRun]:
        found = [await store.get_run(run_id) for run_id in run_ids]
        return [run for run in found if run is not None]

    async def all_final() -> list[ImportRun] | None:
        current = await runs()
        if len(current) == len(run_ids) and all(r.status.is_final for r in current):
            return current
        return None

    async def state() -> object:
        return [(r.status.value, r.batches_done, r.batches_total, r.counts) for r in await runs()]

    return await wait_until(all_final, within=within, what="runs to finish", state=state)


def check_invariants(run: ImportRun) -> None:
    c = run.counts
    assert c.fetched == c.imported + c.failed, run
    assert c.imported == c.new + c.updated + c.unchanged, run


async def delete_keys(url: str, patterns: Sequence[str]) -> int:
    """Delete every Redis key matching one of the glob patterns; returns how many."""
    client: Redis = Redis.from_url(url)
    deleted = 0
    try:
        for pattern in patterns:
            keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
            if keys:
                deleted += await client.delete(*keys)
    finally:
        await client.aclose()
    return deleted


def queue_key_patterns(queue_name: str, run_ids: Sequence[str]) -> list[str]:
    """Every key a test on `queue_name` may have left: the queue, its health key and cron jobs,
    and arq's job/result/in-progress/retry keys of the test's runs."""
    return [f"{queue_name}*", f"arq:*{queue_name}*", *(f"arq:*run:{r}:*" for r in run_ids)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisProcess:
    """A private redis-server on a free loopback port, that keeps nothing on disk; it can be
    stopped and started again on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, within: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self._proc = await asyncio.create_subprocess_exec(
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(self._workdir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await wait_until(self.ping, within=within, what=f"redis-server on port {self.port}")

    async def ping(self) -> bool:
        client: Redis = Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()

    async def stop(self, sig: signal.Signals = signal.SIGKILL) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def cli_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a CLI subprocess: ours minus every JOBIMPORT_*, plus `settings_env`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
    env.update(settings_env)
    env["JOBIMPORT_LOG_FORMAT"] = "json"
    return env


@dataclass
class Cli:
    """A `python -m jobimport ...` process started by a test; always stop it in a finally."""

    proc: asyncio.subprocess.Process
    log_path: Path

    @classmethod
    async def start(cls, args: Sequence[str], env: Mapping[str, str], log_path: Path) -> Cli:
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jobimport", *args,
                env=cli_env(env), cwd=ROOT, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        return cls(proc, log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    async def wait(self, within: float) -> int:
        return await asyncio.wait_for(self.proc.wait(), within)

    async def kill(self) -> None:
        """SIGKILL (if still running) and reap."""
        self.signal(signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 10)


async def run_cli(
    args: Sequence[str], env: Mapping[str, str], within: float = 30.0
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jobimport", *args,
        env=cli_env(env), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def settings_env(values: Mapping[str, Any]) -> dict[str, str]:
    """JOBIMPORT_* variables from setting names (`batch_size=5` → JOBIMPORT_BATCH_SIZE=5)."""
    out = {}
    for name, value in values.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out["JOBIMPORT_" + name.upper()] = text
    return out


class RecordingProducer:
    """A Producer that only records what would have been enqueued."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, tuple[str | int, ...], str]] = []

    async def enqueue(self, task: str, *args: str | int, job_id: str, defer_s: float = 0.0) -> bool:
        self.enqueued.append((task, args, job_id))
        return True


@dataclass
class Harness:
    """The runtime's parts composed by hand, so a test can wrap the store: a pipeline, tasks, a
    scheduler and a running queue (in-process, or an arq worker on the test's queue)."""

    settings: Settings
    store: Store
    pipeline: Pipeline
    tasks: Tasks
    producer: Producer
    scheduler: Scheduler
    events: list[RunEvent]
    local: LocalQueue | None = None
    worker: SupervisedWorker | None = None


@contextlib.asynccontextmanager
async def harness(
    settings: Settings, wrap: Callable[[Store], Store] | None = None
) -> AsyncIterator[Harness]:
    """Run tasks of `settings`' queue (arq when `redis_url` is set) over an optionally wrapped
    store; everything is closed on exit."""
    events: list[RunEvent] = []

    async def record(event: RunEvent) -> None:
        events.append(event)

    async with contextlib.AsyncExitStack() as stack:
        inner = open_store(settings.database_url)
        await inner.open()
        stack.push_async_callback(inner.close)
        store = wrap(inner) if wrap else inner
        session = await stack.enter_async_context(make_client_session(settings))
        pipeline = Pipeline(settings, store, session, publish=record)
        local: LocalQueue | None = None
        worker: SupervisedWorker | None = None
        producer: Producer
        if settings.redis_url:
            pool = await create_arq_pool(settings)
            stack.push_async_callback(pool.aclose)
            producer = ArqProducer(pool, settings.queue_name)

            async def is_pending(job_id: str) -> bool:
                return await arq_job_pending(pool, job_id)

            tasks = Tasks(settings, pipeline, producer)
            worker = SupervisedWorker(settings, tasks, None)
            worker.start()
            stack.push_async_callback(worker.close)
        else:
            local = LocalQueue(
                concurrency=settings.max_concurrency,
                max_tries=settings.max_tries,
                job_timeout_s=settings.job_timeout_s,
            )
            producer = local
            is_pending = local.is_pending
            tasks = Tasks(settings, pipeline, producer)
            local.register(FETCH, tasks.fetch)
            local.register(BATCH, tasks.batch)
            local.start()
            stack.push_async_callback(local.close)
        scheduler = Scheduler(settings, store, pipeline, producer, is_pending, utc_now, record)
        yield Harness(settings, store, pipeline, tasks, producer, scheduler, events, local, worker)


async def wait_finished(h: Harness, run_ids: Sequence[str], *, within: float) -> list[ImportRun]:
    """Wait until each run's `run.finished` event was published (the last step of closing a run,
    after its feed state was saved); returns the runs as stored, in the order given."""

    async def announced() -> bool:
        done = {e.run.id for e in h.events if isinstance(e, RunFinished)}
        return done >= set(run_ids)

    await wait_until(announced, within=within, what="run.finished of every run")
    return await wait_final(h.store, run_ids, within=1)
