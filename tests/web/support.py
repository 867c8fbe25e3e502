"""Helpers of the web tests: an SSE reader, `python -m jobimport` subprocesses, and what the app's
in-process queue is doing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from jobimport.web import keys
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SseEvent:
    id: str | None
    event: str | None
    data: Any


@dataclass
class SseReader:
    """Reads an `text/event-stream` response line by line: events, and comments apart."""

    response: aiohttp.ClientResponse
    comments: list[str] = field(default_factory=list)
    retry: int | None = None

    async def next(self, within: float = 10.0) -> SseEvent | None:
        """The next event, or None when the stream ended."""
        fields: dict[str, list[str]] = {}
        async with asyncio.timeout(within):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    return None
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if fields.get("data"):
                        data = "\n".join(fields["data"])
                        return SseEvent(
                            id=fields.get("id", [None])[-1],
                            event=fields.get("event", [None])[-1],
                            data=json.loads(data),
                        )
                    fields = {}
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "retry":
                    self.retry = int(value)
                else:
                    fields.setdefault(name, []).append(value)

    async def until(
        self, predicate: Callable[[SseEvent], bool], within: float = 15.0
    ) -> list[SseEvent]:
        """Every event up to and including the first that matches."""
        seen: list[SseEvent] = []
        deadline = time.monotonic() + within
        while True:
            event = await self.next(within=max(0.01, deadline - time.monotonic()))
            assert event is not None, f"stream ended before the awaited event; saw {seen}"
            seen.append(event)
            if predicate(event):
                return seen

    async def wait_comment(self, text: str, count: int = 1, within: float = 5.0) -> None:
        """Read until `count` comments equal to `text` arrived (events in between must not)."""
        async with asyncio.timeout(within):
            while self.comments.count(text) < count:
                raw = await self.response.content.readline()
                assert raw, f"stream ended before comment {text!r}"
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif line.startswith("retry:"):
                    self.retry = int(line.partition(":")[2])
                else:
                    assert not line, f"unexpected line {line!r}"

    async def connected(self, within: float = 5.0) -> None:
        """Wait for the server's `: connected` comment: the subscription exists from here on."""
        await self.wait_comment("connected", within=within)


def finished(run_id: str) -> Callable[[SseEvent], bool]:
    return lambda e: e.event == "run.finished" and e.data["run"]["id"] == run_id


@dataclass
class Proc:
    """A `python -m jobimport ...` process; always `stop()` it in a finally."""

    proc: asyncio.subprocess.Process
    log_path: Path

    @classmethod
    async def start(cls, args: Sequence[str], env: Mapping[str, str], log_path: Path) -> Proc:
        full = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
        full.update(env)
        full.setdefault("JOBIMPORT_LOG_FORMAT", "json")
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jobimport", *args,
                env=full, cwd=ROOT, stdout=log, stderr=log,
            )  # fmt: skip
        return cls(proc, log_path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def terminate(self, within: float) -> tuple[int, float]:
        """SIGTERM; returns (exit code, seconds it took to exit)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), within)
        return code, time.monotonic() - started

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def wait_http_ok(url: str, within: float, proc: Proc | None = None) -> None:
    async def ok() -> bool:
        if proc is not None and proc.proc.returncode is not None:
            raise AssertionError(f"process exited with {proc.proc.returncode}:\n{proc.log()}")
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False

    await wait_until(ok, within=within, what=f"{url} to answer 200", interval=0.1)


async def stream_lines(resp: aiohttp.ClientResponse) -> AsyncIterator[str]:
    async for raw in resp.content:
        yield raw.decode().rstrip("\r\n")


def tasks_running(client: TestClient[Any, Any]) -> int:
    """Tasks the app's in-process queue is running now (0 on Redis, where tests wait on runs)."""
    local = client.app[keys.QUEUE].local
    return local.stats().running if local is not None else 0
