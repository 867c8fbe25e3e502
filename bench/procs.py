"""Child processes of the benchmarks: started with a clean JOBIMPORT_* environment, bounded in
time, always stopped (SIGTERM, then SIGKILL) by the process that started them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.stats import BenchError

ROOT = Path(__file__).resolve().parent.parent


def child_env(**settings: str) -> dict[str, str]:
    """This environment without any JOBIMPORT_* variable of the caller, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
    env.update({f"JOBIMPORT_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def feed_server(log_dir: Path) -> Iterator[str]:
    """The bench feed server (bench/feedserver.py) in its own process; yields its base URL."""
    log = (log_dir / "feedserver.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.feedserver", "--port", "0"],
        stdout=subprocess.PIPE, stderr=log, env=child_env(), cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            raise BenchError(f"the feed server did not start (see {log.name})")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        stop(proc)
        log.close()


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until `url` answers 200 (the process must stay alive meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"the process serving {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout_s} s")


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft open-files limit towards `wanted` (children inherit it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft
