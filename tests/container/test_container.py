"""The image as an operator runs it, with podman: every role starts, answers its health check,
runs as uid 10001 and stops on SIGTERM with exit 0 within 10 s; web and worker share a Redis of
the test's own; an import lands in a volume that outlives its container; a root-owned bind mount
is one line and exit 1. Containers use the host's network and listen on 127.0.0.1 only; each test
removes its containers and volumes."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.container.conftest import Image
from tests.feedgen import items, rss
from tests.feedserver import FeedServer
from tests.support import RedisProcess, free_port, wait_until

STOP_WITHIN_S = 10.0


async def podman(*args: str, within: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        "podman", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), within)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


class Pod:
    """The containers and volumes of one test, all removed at its end."""

    def __init__(self, image: Image) -> None:
        self.image = image.tag
        self.prefix = f"jobimport-test-{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []
        self.volumes: list[str] = []

    async def volume(self) -> str:
        name = f"{self.prefix}-v{len(self.volumes)}"
        code, _, err = await podman("volume", "create", name)
        assert code == 0, err
        self.volumes.append(name)
        return name

    async def start(self, env: dict[str, str], *command: str, volume: str | None = None) -> str:
        name = f"{self.prefix}-c{len(self.names)}"
        self.names.append(name)
        args = ["run", "-d", "--name", name, "--network", "host"]
        for key, value in {"JOBIMPORT_FEEDS": "[]", **env}.items():
            args += ["-e", f"{key}={value}"]
        if volume:
            args += ["-v", f"{volume}:/data"]
        code, _, err = await podman(*args, self.image, *command)
        assert code == 0, err
        return name

    async def stop_with_sigterm(self, name: str) -> tuple[int, float]:
        """SIGTERM, then the exit code and how long the container took to exit by itself."""
        started = time.monotonic()
        code, _, err = await podman("kill", "--signal", "TERM", name)
        assert code == 0, err
        code, out, err = await podman("wait", name, within=STOP_WITHIN_S + 5)
        assert code == 0, err
        return int(out.strip()), time.monotonic() - started

    async def logs(self, name: str) -> str:
        _, out, err = await podman("logs", "--tail", "30", name)
        return out + err

    async def remove(self) -> None:
        for name in self.names:
            await podman("rm", "--force", "--volumes", "--time", "0", name)
        for volume in self.volumes:
            await podman("volume", "rm", "--force", volume)


@pytest.fixture
async def pod(container_image: Image) -> AsyncIterator[Pod]:
    pod = Pod(container_image)
    try:
        yield pod
    finally:
        await pod.remove()
    _, out, _ = await podman("ps", "--all", "--format", "{{.Names}}")
    assert pod.prefix not in out, "a test container was left behind"
    _, out, _ = await podman("volume", "ls", "--format", "{{.Name}}")
    assert pod.prefix not in out, "a test volume was left behind"


def listen(port: int) -> dict[str, str]:
    return {"JOBIMPORT_HOST": "127.0.0.1", "JOBIMPORT_PORT": str(port)}


async def get(port: int, path: str) -> tuple[int, object]:
    try:
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as s,
            s.get(f"http://127.0.0.1:{port}{path}") as r,
        ):
            body = (
                await r.json(content_type=None)
                if r.content_type == "application/json"
                else await r.text()
            )
            return r.status, body
    except (aiohttp.ClientError, TimeoutError):
        return 0, None


async def wait_ready(pod: Pod, name: str, port: int) -> None:
    async def ready() -> bool:
        return (await get(port, "/readyz"))[0] == 200

    async def state() -> str:
        return await pod.logs(name)

    await wait_until(ready, within=60, what=f"{name} /readyz", interval=0.5, state=state)


async def wait_healthy(pod: Pod, name: str) -> None:
    """`podman healthcheck run`: the image's HEALTHCHECK, as the engine runs it."""

    async def healthy() -> bool:
        return (await podman("healthcheck", "run", name))[0] == 0

    async def state() -> str:
        code, out, err = await podman("healthcheck", "run", name)
        return f"exit {code}: {out} {err} | logs: {await pod.logs(name)}"

    await wait_until(healthy, within=60, what=f"{name} healthy", interval=0.5, state=state)


async def exec_in(name: str, *command: str) -> tuple[int, str, str]:
    return await podman("exec", name, *command, within=120)


async def assert_runs_as_10001(name: str) -> None:
    code, out, err = await exec_in(name, "cat", "/proc/1/status")
    assert code == 0, err
    uids = next(line for line in out.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {"10001"}, out


async def assert_stops_cleanly(pod: Pod, name: str) -> None:
    code, took = await pod.stop_with_sigterm(name)
    assert code == 0, await pod.logs(name)
    assert took < STOP_WITHIN_S, f"{name} took {took:.1f} s to stop"


@pytest.mark.slow
async def test_role_all_imports_into_a_volume_that_outlives_the_container(
    pod: Pod, feeds: FeedServer
) -> None:
    url = feeds.put("/jobs.rss", rss(items(range(1, 6))))
    volume = await pod.volume()
    port = free_port()
    env = {**listen(port), "JOBIMPORT_ALLOW_PRIVATE_ADDRESSES": "true"}
    first = await pod.start(env, volume=volume)  # the image's CMD: serve --role all
    await wait_ready(pod, first, port)
    assert (await get(port, "/healthz"))[0] == 200
    await wait_healthy(pod, first)
    await assert_runs_as_10001(first)

    code, out, err = await exec_in(first, "jobimport", "import", url, "--json")
    assert code == 0, err
    assert [log["newJobs"] for log in json.loads(out)] == [5]
    # A backup while the service serves; a second one to the same path is refused.
    code, out, err = await exec_in(first, "jobimport", "backup", "/data/backup.db")
    assert code == 0, err
    code, _, err = await exec_in(first, "jobimport", "backup", "/data/backup.db")
    assert code == 1
    assert "exists: pass --force" in err
    await assert_stops_cleanly(pod, first)

    port = free_port()
    second = await pod.start({**env, **listen(port)}, volume=volume)
    await wait_ready(pod, second, port)
    status, body = await get(port, "/api/imports")
    assert status == 200
    assert isinstance(body, dict)
    logs = [log for log in body["items"] if log["fileName"] == url]
    assert [(log["status"], log["newJobs"]) for log in logs] == [("succeeded", 5)]
    await assert_stops_cleanly(pod, second)


@pytest.mark.slow
@pytest.mark.redis  # a redis-server of its own
async def test_web_and_worker_roles_share_the_work_through_redis(
    pod: Pod, feeds: FeedServer, tmp_path: Path
) -> None:
    url = feeds.put("/jobs.rss", rss(items(range(1, 8))))
    redis = RedisProcess(tmp_path)
    await redis.start()
    try:
        volume = await pod.volume()
        port = free_port()
        env = {
            "JOBIMPORT_REDIS_URL": redis.url,
            "JOBIMPORT_ALLOW_PRIVATE_ADDRESSES": "true",
            "JOBIMPORT_FEEDS": json.dumps([url]),
        }
        # The command alone says `worker`: JOBIMPORT_ROLE stays at its default (all), and the
        # health check must still probe the worker (issue 16, defect 1).
        worker = await pod.start(env, "worker", volume=volume)
        web = await pod.start({**env, **listen(port)}, "serve", "--role", "web", volume=volume)
        await wait_ready(pod, web, port)
        await wait_healthy(pod, web)
        await wait_healthy(pod, worker)
        for name in (web, worker):
            await assert_runs_as_10001(name)

        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/api/imports", json={"feeds": [url]}) as resp,
        ):
            assert resp.status == 202, await resp.text()
            run_id = (await resp.json())["runs"][0]["id"]

        async def finished() -> object:
            status, body = await get(port, f"/api/imports/{run_id}")
            done = status == 200 and isinstance(body, dict) and body["status"] != "queued"
            return body if done and body["status"] != "running" else None

        async def state() -> str:
            return f"{await get(port, f'/api/imports/{run_id}')} | {await pod.logs(worker)}"

        log = await wait_until(
            finished, within=60, what="the worker's run", interval=0.2, state=state
        )
        assert isinstance(log, dict)
        assert (log["status"], log["newJobs"]) == ("succeeded", 7)
        for name in (web, worker):
            await assert_stops_cleanly(pod, name)
    finally:
        await redis.stop()


@pytest.mark.slow
async def test_a_root_owned_bind_mount_is_one_line_and_exit_1(pod: Pod, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # owned by root, as `mkdir` before `docker run -v` leaves it
    name = f"{pod.prefix}-bind"
    pod.names.append(name)
    code, out, err = await podman(
        "run", "--name", name, "--network", "host", "-v", f"{data}:/data",
        "-e", "JOBIMPORT_FEEDS=[]", "-e", "JOBIMPORT_HOST=127.0.0.1",
        "-e", f"JOBIMPORT_PORT={free_port()}", pod.image,
    )  # fmt: skip
    assert code == 1, out + err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("jobimport: ")]
    assert len(lines) == 1, err
    line = lines[0]
    for needle in (
        "/data/jobimport.db",
        "uid 10001",
        "/data (uid 0, gid 0, mode 0755)",
        "not writable",
    ):
        assert needle in line, line


async def test_the_image_carries_no_build_leftovers(container_image: Image) -> None:
    image = container_image.tag
    code, out, err = await podman("image", "inspect", image)
    assert code == 0, err
    config = json.loads(out)[0]
    assert config["Config"]["User"] == "10001:10001"
    # podman keeps a HEALTHCHECK only in Docker-format images (`--format docker`).
    assert config["Healthcheck"]["Test"] == ["CMD", "jobimport", "healthcheck"]
    script = (
        "id -u; id -g; ls -A /data | wc -l; stat -c %u:%g /data;"
        " ls /wheels /opt/jobimport/bin/pip 2>/dev/null | wc -l;"
        " /opt/jobimport/bin/python -c 'import pip' 2>/dev/null && echo pip || echo no-pip;"
        " /opt/jobimport/bin/python -c 'import setuptools' 2>/dev/null && echo st || echo no-st"
    )
    code, out, err = await podman(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", script
    )
    assert code == 0, err
    # uid and gid 10001; /data empty (no dotfiles from a home skeleton) and theirs; no wheels,
    # pip or setuptools in the runtime.
    assert out.split() == ["10001", "10001", "0", "10001:10001", "0", "no-pip", "no-st"]
