"""The container image's build steps (docker/build.sh), run here without a Docker engine: build the
wheels from this checkout, install them offline into a fresh virtualenv, and start the result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow  # builds wheels and a virtualenv
def test_build_script_installs_a_working_jobimport(tmp_path: Path) -> None:
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    # The script calls `python3`: make it this interpreter (3.11), as in the python:3.11 image.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env = {k: v for k, v in env.items() if not k.startswith("JOBIMPORT_")}

    built = run("sh", "docker/build.sh", "wheels", ROOT, wheels, env=env)
    assert built.returncode == 0, built.stderr
    assert list(wheels.glob("jobimport-*.whl"))

    installed = run("sh", "docker/build.sh", "install", wheels, venv, env=env)
    assert installed.returncode == 0, installed.stderr
    assert "jobimport 0.1.0" in installed.stdout

    # The installed package carries its templates, static files and sample feeds.
    check = run(
        venv / "bin" / "python",
        "-c",
        "import importlib.resources as r; f = r.files('jobimport');"
        "print(sorted(p.name for p in f.joinpath('web').iterdir()))",
        env=env,
    )
    assert check.returncode == 0, check.stderr
    assert "templates" in check.stdout

    config = run(venv / "bin" / "jobimport", "config", env=env)
    assert config.returncode == 0, config.stderr
    assert "JOBIMPORT_DATABASE_URL" in config.stdout


def test_dockerfile_runs_the_build_script_and_the_documented_contract() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "jobimport-build wheels" in dockerfile
    assert "jobimport-build install" in dockerfile
    for needle in ("USER jobimport", "STOPSIGNAL SIGTERM", "HEALTHCHECK", "healthcheck"):
        assert needle in dockerfile
