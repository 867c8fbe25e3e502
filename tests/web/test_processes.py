"""The service as operators run it: real processes. A `web` process and a `worker` process on the
same Redis and SQLite file (the web one's SSE shows the worker's runs); `serve` refusing an
exposed address without a token; SIGTERM ending `serve` quickly with a stream open."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import REDIS_URL, free_port, wait_until
from tests.web.conftest import TOKEN
from tests.web.support import Proc, SseReader, finished, wait_http_ok

pytestmark = pytest.mark.slow


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "JOBIMPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "JOBIMPORT_ALLOW_PRIVATE_ADDRESSES": "true",
        "JOBIMPORT_RETRY_BASE_DELAY_S": "0.1",
        **extra,
    }


async def test_web_process_streams_the_worker_process_runs(
    feeds: FeedServer, tmp_path: Path, queue_name: str
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 26))))
    port = free_port()
    env = env_for(
        tmp_path,
        JOBIMPORT_REDIS_URL=REDIS_URL,
        JOBIMPORT_QUEUE_NAME=queue_name,
        JOBIMPORT_FEEDS=json.dumps([url]),
        JOBIMPORT_BATCH_SIZE="5",
        JOBIMPORT_TICK_INTERVAL_S="1",  # the worker's first tick comes within a second
    )
    base = f"http://127.0.0.1:{port}"
    web = await Proc.start(["serve", "--role", "web", "--port", str(port)], env, tmp_path / "w.log")
    worker: Proc | None = None
    try:
        await wait_http_ok(f"{base}/healthz", within=30, proc=web)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 503  # no worker on this queue yet
            assert await healthcheck(["--role", "web", "--port", str(port)], env) == 1
            async with http.get(f"{base}/api/events") as stream:
                reader = SseReader(stream)
                await reader.connected()
                # The worker's first tick starts the configured feed (never imported: due now).
                worker = await Proc.start(["worker"], env, tmp_path / "k.log")
                events = await reader.until(lambda e: e.event == "run.finished", within=30)
            kinds = [e.event for e in events]
            assert kinds == ["run.queued", "run.started", *["run.progress"] * 5, "run.finished"]
            run = events[-1].data["run"]
            assert (run["status"], run["newJobs"], run["trigger"]) == ("succeeded", 25, "cron")
            assert all(e.id and "-" in e.id for e in events)  # ids of the Redis stream
            async with http.get(f"{base}/api/imports/{run['id']}") as resp:
                assert (await resp.json())["status"] == "succeeded"  # the shared store

            # A run started through the web process is done by the worker, and streamed back.
            async with http.get(f"{base}/api/events") as stream:
                reader = SseReader(stream)
                await reader.connected()
                async with http.post(f"{base}/api/imports", json={"feeds": [url]}) as resp:
                    assert resp.status == 202
                    run_id = (await resp.json())["runs"][0]["id"]
                done = await reader.until(finished(run_id), within=30)
            assert done[-1].data["run"]["status"] == "not_modified"

            async def ready() -> bool:
                async with http.get(f"{base}/readyz") as resp:
                    return resp.status == 200

            await wait_until(ready, within=15, what="readiness with a live worker")
        # The image's HEALTHCHECK: /readyz for a web role, the arq health key for a worker.
        assert await healthcheck(["--role", "web", "--port", str(port)], env) == 0
        assert await healthcheck(["--role", "worker"], env) == 0
        assert worker is not None
        assert (await worker.terminate(within=15))[0] == 0
        assert (await web.terminate(within=15))[0] == 0
    finally:
        await web.stop()
        if worker is not None:
            await worker.stop()


async def healthcheck(args: list[str], env: dict[str, str]) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jobimport",
        "healthcheck",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), timeout=30)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
async def test_serve_refuses_an_exposed_address_without_a_token(tmp_path: Path, host: str) -> None:
    proc = await Proc.start(["serve", "--host", host], env_for(tmp_path), tmp_path / "s.log")
    try:
        code = await asyncio.wait_for(proc.proc.wait(), 30)
    finally:
        await proc.stop()
    assert code == 2
    assert "JOBIMPORT_ADMIN_TOKEN" in proc.log()
    assert "refusing to listen" in proc.log()


@pytest.mark.parametrize("args", [["serve", "--role", "web"], ["serve", "--role", "worker"]])
async def test_split_roles_need_redis(tmp_path: Path, args: list[str]) -> None:
    proc = await Proc.start(args, env_for(tmp_path), tmp_path / "r.log")
    try:
        code = await asyncio.wait_for(proc.proc.wait(), 30)
    finally:
        await proc.stop()
    assert code == 2
    assert "JOBIMPORT_REDIS_URL" in proc.log()


async def test_sigterm_exits_quickly_with_a_stream_open_and_an_import_in_flight(
    feeds: FeedServer, tmp_path: Path
) -> None:
    url = feeds.put("/held", rss(items(range(1, 6))))
    gate = feeds.gate("/held")  # the import's fetch stays in flight until after SIGTERM
    port = free_port()
    env = env_for(tmp_path, JOBIMPORT_FEEDS=json.dumps([url]), JOBIMPORT_ADMIN_TOKEN=TOKEN)
    # A token set: an exposed address is allowed (the refusal above is about having none).
    args = ["serve", "--host", "0.0.0.0", "--port", str(port)]
    proc = await Proc.start(args, env, tmp_path / "t.log")
    try:
        await wait_http_ok(f"http://127.0.0.1:{port}/healthz", within=30, proc=proc)
        await wait_until(
            lambda: _value(feeds.waiting.get("/held")), within=15, what="the fetch in flight"
        )
        events_url = f"http://127.0.0.1:{port}/api/events"
        async with aiohttp.ClientSession() as http, http.get(events_url) as stream:
            reader = SseReader(stream)
            await reader.connected()
            code, took = await proc.terminate(within=15)
            assert await reader.next(within=5) is None  # the server closed the stream
        assert code == 0, proc.log()
        print(f"SIGTERM to exit: {took:.2f} s")
        assert took < 10, f"took {took:.1f} s"
    finally:
        gate.set()
        await proc.stop()
    # Its run was left in flight in the store: the next start's reconciler picks it up.
    assert "shutting down" in proc.log()


async def _value(value: Any) -> Any:
    return value
