"""Screenshots of every admin page, desktop (1280×800) and phone (390×844), into docs/screenshots.

Starts `jobimport demo` (bundled sample feeds served on loopback, a fresh store in a temp dir),
waits until its imports are done, starts a second round so the history has more than one import
per feed, then captures each page in Debian's Chromium. Run it with `make screenshots`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("JOBIMPORT_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORTS = {
    "desktop": ViewportSize(width=1280, height=800),
    "phone": ViewportSize(width=390, height=844),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def wait_for(what: str, check: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def settled(base: str, runs: int) -> list[dict[str, Any]]:
    def check() -> list[dict[str, Any]] | None:
        page = get_json(f"{base}/api/imports?limit=100")
        busy = [r for r in page["items"] if r["status"] in ("queued", "running")]
        return page["items"] if page["total"] >= runs and not busy else None

    items: list[dict[str, Any]] = wait_for(f"{runs} finished imports", check)
    return items


def capture(page: Page, base: str, path: str, name: str, viewport: str) -> None:
    page.goto(base + path, wait_until="load")
    if page.locator("#live").is_visible():  # a live page: wait for its event stream
        page.locator('#live[data-state="live"]').wait_for()
    page.evaluate("document.fonts.ready")
    target = OUT / f"{name}-{viewport}.png"
    page.screenshot(path=str(target), full_page=True)
    print(f"  {target.relative_to(ROOT)}")


@contextmanager
def demo_server(port: int) -> Iterator[str]:
    """`jobimport demo` on `port` with a fresh store; its base URL while it runs."""
    with tempfile.TemporaryDirectory() as tmp, Path(tmp, "demo.log").open("wb") as log:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
        env.update(JOBIMPORT_DATABASE_URL=f"sqlite:///{tmp}/demo.db", JOBIMPORT_LOG_FORMAT="json")
        demo = subprocess.Popen(
            [sys.executable, "-m", "jobimport", "demo", "--port", str(port)],
            env=env, cwd=tmp, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            demo.terminate()
            demo.wait(timeout=15)


def pages_to_capture(base: str) -> dict[str, str]:
    """Wait for the demo's imports, run a second round, and pick a run and a job to show."""
    wait_for("the demo to answer", lambda: get_json(f"{base}/healthz"))
    first = settled(base, 6)
    request = urllib.request.Request(f"{base}/api/imports", method="POST")
    urllib.request.urlopen(request, timeout=5).close()
    runs = settled(base, len(first) * 2)
    with_failures = next(r for r in runs if r["failedJobs"] and r["status"] == "partial")
    # A job with a longer description makes a better picture than the newest one.
    jobs = get_json(f"{base}/api/jobs?limit=1&q=python")["items"]
    job = (jobs or get_json(f"{base}/api/jobs?limit=1")["items"])[0]
    return {
        "history": "/",
        "run": f"/imports/{with_failures['id']}",
        "feeds": "/feeds",
        "jobs": "/jobs",
        "job": f"/jobs/{job['id']}",
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with demo_server(free_port()) as base:
        pages = pages_to_capture(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for viewport, size in VIEWPORTS.items():
                context = browser.new_context(viewport=size)
                page = context.new_page()
                for name, path in pages.items():
                    capture(page, base, path, name, viewport)
                context.close()
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
