"""Helpers of the queue tests: waiting for runs to finish, `python -m jobimport` subprocesses, and
the runtime's parts composed by hand (`harness`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobimport.events.types import RunEvent, RunFinished
from jobimport.models import ImportRun, utc_now
from jobimport.pipeline import Pipeline
from jobimport.queue.arq_producer import ArqProducer, arq_job_pending, create_arq_pool
from jobimport.queue.base import Producer
from jobimport.queue.hostslots import RedisHostSlots
from jobimport.queue.local import LocalQueue
from jobimport.queue.names import BATCH, FETCH
from jobimport.queue.tasks import Tasks
from jobimport.queue.worker import SupervisedWorker
from jobimport.reader.fetch import make_client_session
from jobimport.scheduler import Scheduler
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import Store
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]


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

            slots = RedisHostSlots(pool, settings.queue_name, settings.max_per_host, lease_ttl_s=30)
            tasks = Tasks(settings, pipeline, producer, slots)
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
