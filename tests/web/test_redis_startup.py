"""`serve` with a Redis it cannot use (issue 14, item 1), as operators run it: a real process.

A refused connection, a database number the server does not have, a wrong password, and a socket
that accepts and never answers each stop start-up with exit code 1 and one line naming the
problem, within JOBIMPORT_REDIS_CONNECT_TIMEOUT_S; a SIGTERM or SIGINT while start-up waits for
Redis stops the process at once (exit 0)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import free_port, wait_until
from tests.web.support import Proc

pytestmark = pytest.mark.slow

CONNECT_TIMEOUT_S = 1.0
EXIT_WITHIN_S = 20.0
"""Bound on waiting for the process: interpreter start-up and imports, plus the timeout."""


def env_for(tmp_path: Path, redis_url: str, connect_timeout_s: float) -> dict[str, str]:
    return {
        "JOBIMPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "JOBIMPORT_FEEDS": "[]",
        "JOBIMPORT_REDIS_URL": redis_url,
        "JOBIMPORT_REDIS_CONNECT_TIMEOUT_S": str(connect_timeout_s),
    }


async def refused_start(tmp_path: Path, redis_url: str) -> tuple[int, list[str], float]:
    """Run `serve` on `redis_url` until it exits: (exit code, its output lines, seconds)."""
    env = env_for(tmp_path, redis_url, CONNECT_TIMEOUT_S)
    args = ["serve", "--port", str(free_port())]
    started = time.monotonic()
    proc = await Proc.start(args, env, tmp_path / "serve.log")
    try:
        code = await asyncio.wait_for(proc.proc.wait(), EXIT_WITHIN_S)
    finally:
        await proc.stop()
    return code, proc.log().splitlines(), time.monotonic() - started


def with_path(url: str, path: str) -> str:
    """`redis://host:port/0` with another database path."""
    return url.rsplit("/", 1)[0] + path


class SilentServer:
    """A real listening socket on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._held.append(writer)
            self.connected.set()

        self._server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        for writer in self._held:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def silent_redis() -> AsyncIterator[tuple[SilentServer, str]]:
    server = SilentServer()
    port = await server.start()
    try:
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        await server.close()


def assert_one_line(lines: list[str], *expected: str) -> None:
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("jobimport: Redis at "), line
    assert "JOBIMPORT_REDIS_URL" in line, line
    for text in expected:
        assert text in line, line


async def test_a_closed_port_fails_start_up_with_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    code, lines, _took = await refused_start(tmp_path, f"redis://127.0.0.1:{port}/0")
    assert code == 1
    assert_one_line(lines, f"127.0.0.1:{port}", "Connect call failed")


async def test_a_database_the_server_lacks_fails_start_up(tmp_path: Path, redis_url: str) -> None:
    url = with_path(redis_url, "/99")  # the server has 16
    code, lines, _took = await refused_start(tmp_path, url)
    assert code == 1
    assert_one_line(lines, "/99", "DB index is out of range")


async def test_a_wrong_password_fails_start_up_masked(tmp_path: Path, redis_url: str) -> None:
    # The shared Redis has no password: AUTH with one is refused.
    url = redis_url.replace("redis://", "redis://:not-the-password@", 1)
    code, lines, _took = await refused_start(tmp_path, url)
    assert code == 1
    assert_one_line(lines, "AUTH")
    assert "not-the-password" not in lines[0]  # the password is masked


async def test_a_redis_that_never_answers_fails_within_the_timeout(
    tmp_path: Path, silent_redis: tuple[SilentServer, str]
) -> None:
    server, url = silent_redis
    code, lines, took = await refused_start(tmp_path, url)
    assert server.connected.is_set()  # it did reach the socket, and waited for an answer
    assert code == 1
    assert_one_line(lines, f"no answer within {CONNECT_TIMEOUT_S:g} s")
    print(f"serve gave up on a silent Redis after {took:.2f} s (process start included)")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("command", [["serve"], ["worker"]], ids=["serve", "worker"])
async def test_a_signal_stops_start_up_waiting_for_redis(
    tmp_path: Path,
    silent_redis: tuple[SilentServer, str],
    sig: signal.Signals,
    command: list[str],
) -> None:
    server, url = silent_redis
    env = env_for(tmp_path, url, connect_timeout_s=60)  # it would wait a minute on its own
    args = [*command, "--port", str(free_port())] if command == ["serve"] else command
    proc = await Proc.start(args, env, tmp_path / "serve.log")
    try:
        await wait_until(
            lambda: _is_set(server.connected), within=EXIT_WITHIN_S, what="a connection to Redis"
        )
        assert proc.proc.returncode is None  # still waiting for Redis
        started = time.monotonic()
        proc.proc.send_signal(sig)
        code = await asyncio.wait_for(proc.proc.wait(), 5)
        took = time.monotonic() - started
    finally:
        await proc.stop()
    assert code == 0, proc.log()
    assert took < 5
    assert "Traceback" not in proc.log()


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()
