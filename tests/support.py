"""Helpers shared by every test folder: waiting on a condition with a deadline, hypothesis example
counts, a free loopback port, the log captured, and Redis (the shared server's URL, key
clean-up, a throw-away redis-server).

Tests that touch Redis are marked `redis` (tests/conftest.py marks those that use the
`redis_url` fixture or run a parameter `arq`/`redis`); they use the real Redis at
JOBIMPORT_TEST_REDIS_URL (default redis://127.0.0.1:6379/0) under keys of their own, deleted
afterwards, or a private redis-server (`RedisProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import shutil
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import structlog
from hypothesis import settings
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobimport.log import configure_logging
from jobimport.settings import Settings as JobimportSettings

T = TypeVar("T")
REDIS_URL = os.environ.get("JOBIMPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def wait_until(
    condition: Callable[[], Awaitable[T]],
    *,
    within: float,
    what: str,
    interval: float = 0.05,
    state: Callable[[], Awaitable[object]] | None = None,
) -> T:
    """Poll `condition` until it returns something truthy; fail after `within` seconds, saying
    `what` was awaited (and, with `state`, how things stood). The pauses between polls start at
    a millisecond and double up to `interval`: what is ready soon is seen soon."""
    deadline = time.monotonic() + within
    pause = min(0.001, interval)
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"; state: {await state()}" if state else ""
            raise AssertionError(f"timed out after {within} s waiting for {what}{detail}")
        await asyncio.sleep(pause)
        pause = min(pause * 2, interval)


def examples(full: int) -> int:
    """A test's own count of hypothesis examples: `full` under the default profile (`make test`),
    a fifth of it (at least 2) under the profile `fast` (`make test-fast`, tests/conftest.py)."""
    return max(2, full * settings.default.max_examples // 100)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def captured_log(settings: JobimportSettings) -> Iterator[io.StringIO]:
    """The process's log, set up by configure_logging(settings), into a StringIO; structlog and
    the root logger are restored after, and the repeat limiter's pending counts dropped."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(settings, stream)
    try:
        yield stream
    finally:
        configure_logging(settings.model_copy(update={"log_repeat_window_s": 0}), io.StringIO())
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


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


def queue_key_patterns(queue_name: str, run_ids: Sequence[str] = ()) -> list[str]:
    """Every key a test on `queue_name` may have left: the queue, its health key, cron jobs and
    events stream, and arq's job/result/in-progress/retry keys of the test's runs."""
    return [f"{queue_name}*", f"arq:*{queue_name}*", *(f"arq:*run:{r}:*" for r in run_ids)]


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

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its port (the kernel still accepts connections) and
        answers nothing until `resume()`."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        assert self._proc is not None, "redis-server is not up"
        assert self._proc.returncode is None, "redis-server has exited"
        self._proc.send_signal(sig)

    async def stop(self, sig: signal.Signals = signal.SIGKILL) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
            proc.send_signal(signal.SIGCONT)  # a frozen server acts on the signal only then
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
