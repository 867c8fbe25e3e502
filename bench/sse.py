"""Measurement 5: SSE fan-out. `clients` connections to `/api/events` (all connected first),
then an import starts; each client reads until `run.finished` of that run.

Latency of one delivery = the client's wall clock when the `data:` line arrived minus the
event's `run.updatedAt`, which the store stamps (same host clock) in the write the event
reports, just before it is published. So it covers commit, publish, the per-client queue, the
JSON and the socket, and the client reading it. The clients share this process's event loop
and the machine's cores with the service, which inflates the figure a little, not the other way.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

from bench.service import start_import, wait_final
from bench.stats import BenchError, percentile

_UPDATED = b'"updatedAt":"'


@dataclass
class Fanout:
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    events_per_client: list[int] = field(default_factory=list)
    ended_early: int = 0
    connect_s: float = 0.0
    run_events: int = 0

    def summary(self) -> str:
        if not self.latencies_ms:
            return "no events received"
        per = sorted(self.events_per_client)
        return (
            f"{self.clients} clients, {len(self.latencies_ms)} deliveries, p50"
            f" {percentile(self.latencies_ms, 50):.0f} ms, p99"
            f" {percentile(self.latencies_ms, 99):.0f} ms, events/client {per[0]}..{per[-1]},"
            f" {self.ended_early} streams ended early"
        )


def _stamp(line: bytes) -> float | None:
    at = line.find(_UPDATED)
    if at < 0:
        return None
    start = at + len(_UPDATED)
    text = line[start : line.index(b'"', start)].decode()
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _client(
    session: aiohttp.ClientSession,
    url: str,
    connected: asyncio.Semaphore,
    go: asyncio.Event,
    run_id: list[str],
    out: list[tuple[float, bytes]],
) -> bool:
    """Read events; True when `run.finished` of the benchmark's run arrived. Reads whatever
    bytes arrived, stamps them once, and splits them into events: cheap per event, so the
    clients do not slow down what they measure."""
    async with session.get(url, headers={"Accept": "text/event-stream"}) as response:
        if response.status != 200:
            raise BenchError(f"/api/events answered {response.status}")
        pending = b""
        async for data in response.content.iter_any():
            arrived = time.time()
            pending = (pending + data).replace(b"\r\n", b"\n")  # aiohttp-sse ends lines \r\n
            if b"\n\n" not in pending:
                continue
            complete, _, pending = pending.rpartition(b"\n\n")
            for event in complete.split(b"\n\n"):
                at = event.find(b"data:")
                if at >= 0:
                    out.append((arrived, event[at:]))  # parsed after the run
                    if go.is_set() and b'"run.finished"' in event and run_id[0].encode() in event:
                        return True
                elif b": connected" in event:
                    connected.release()
    return False


async def fan_out(base: str, feed: str, clients: int, timeout_s: float, expect: int) -> Fanout:
    result = Fanout(clients)
    url = f"{base}/api/events"
    connected = asyncio.Semaphore(0)
    go = asyncio.Event()
    run_id: list[str] = [""]
    received: list[list[tuple[float, bytes]]] = [[] for _ in range(clients)]
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=timeout_s + 120, sock_read=timeout_s + 60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        tasks = []
        for i in range(clients):  # in waves, so the listen backlog never overflows
            tasks.append(asyncio.create_task(_client(session, url, connected, go, run_id,
                                                     received[i])))  # fmt: skip
            if i % 100 == 99:
                for _ in range(100):
                    await asyncio.wait_for(connected.acquire(), 60)
        for _ in range(clients % 100):
            await asyncio.wait_for(connected.acquire(), 60)
        result.connect_s = time.perf_counter() - began
        async with aiohttp.ClientSession() as control:
            run_id[0] = await start_import(control, base, feed)
            go.set()
            _, pending = await asyncio.wait(tasks, timeout=timeout_s)
            for task in pending:  # never got run.finished in time: counted as ended early
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            state = await wait_final(control, base, run_id[0], 60)
    done = [
        not task.cancelled() and task.exception() is None and bool(task.result()) for task in tasks
    ]
    if state["status"] != "succeeded" or state["totalFetched"] != expect:
        raise BenchError(f"the import during the SSE run ended {state['status']}: {state}")
    marker = run_id[0].encode()
    for got, ok in zip(received, done, strict=True):
        result.ended_early += not ok
        mine = [(at, line) for at, line in got if marker in line]
        result.events_per_client.append(len(mine))
        for at, line in mine:
            stamp = _stamp(line)
            if stamp is not None:
                result.latencies_ms.append((at - stamp) * 1000)
    result.run_events = max(result.events_per_client, default=0)
    return result
