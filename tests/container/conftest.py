"""The image, built once per test session from this checkout's Dockerfile with podman (the
`container_image` fixture; tests that use it are marked `container`). Where no image registry
answers, the base is the debootstrap stand-in of docker/base-image.sh (built once, cached); the
base used is reported at the end of the run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_BASE = "docker.io/library/python:3.11-slim"
REGISTRY = ("registry-1.docker.io", 443)
TAG = "localhost/jobimport:test"
LABEL = "org.jobimport.test-build=1"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Image:
    tag: str
    base: str
    why: str
    build_s: float


_built: list[Image] = []


def podman_unusable() -> str | None:
    """Why podman cannot run here (the tests are then skipped with it), or None."""
    if os.geteuid() != 0:
        return "podman runs the image test as root only (rootless podman needs subuids here)"
    if shutil.which("podman") is None:
        return "podman is not installed (.ci/run installs podman, buildah, runc and debootstrap)"
    return None


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def registry_answers() -> bool:
    try:
        socket.create_connection(REGISTRY, timeout=3).close()
    except OSError:
        return False
    return True


def choose_base() -> tuple[str, str]:
    forced = os.environ.get("JOBIMPORT_TEST_BASE_IMAGE")
    if forced:
        return forced, "JOBIMPORT_TEST_BASE_IMAGE"
    if run("podman", "image", "exists", REGISTRY_BASE).returncode == 0:
        return REGISTRY_BASE, "already pulled"
    if registry_answers() and run("podman", "pull", REGISTRY_BASE).returncode == 0:
        return REGISTRY_BASE, "pulled from the registry"
    made = run("sh", "docker/base-image.sh", timeout=900)
    assert made.returncode == 0, f"docker/base-image.sh failed:\n{made.stderr[-3000:]}"
    return made.stdout.strip(), "no image registry answers: debootstrap stand-in"


@pytest.fixture(scope="session")
def container_image() -> Image:
    reason = podman_unusable()
    if reason:
        pytest.skip(reason)
    base, why = choose_base()
    started, started_at = time.monotonic(), int(time.time())
    # --format docker keeps the HEALTHCHECK (OCI images have none); the host's CA bundle lets
    # pip inside the build reach the package registry where the base image has none of its own.
    mount = ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"] if CA_BUNDLE.is_file() else []
    built = run(
        "podman", "build", "--format", "docker", "--pull=never", "--build-arg",
        f"BASE_IMAGE={base}", "--label", LABEL, *mount, "-t", TAG, ".",
    )  # fmt: skip
    assert built.returncode == 0, (
        f"podman build failed:\n{built.stdout[-3000:]}{built.stderr[-3000:]}"
    )
    # The images of earlier test builds that no tag or build step uses any more (layers are
    # kept while this build reuses them, e.g. the dependencies' while the lock is unchanged).
    run("podman", "image", "prune", "--force", "--filter", f"label={LABEL}",
        "--filter", f"until={started_at}")  # fmt: skip
    image = Image(TAG, base, why, time.monotonic() - started)
    _built.append(image)
    return image


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for image in _built:
        terminalreporter.write_line(
            f"container: {image.tag} built in {image.build_s:.0f} s FROM {image.base} ({image.why})"
        )
