"""The container image's build steps (docker/build.sh), run here without a container engine, and
what the Dockerfile must keep. tests/container/ builds and runs the image itself with podman."""

from __future__ import annotations

import os
import re
import shutil
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


@pytest.mark.slow  # installs every locked dependency into a virtualenv
def test_build_script_makes_a_runtime_venv_from_the_lock(tmp_path: Path) -> None:
    # The Dockerfile's build context, copied: building in place would leave build/ and
    # *.egg-info in the checkout (a git worktree's included).
    src, venv = tmp_path / "src", tmp_path / "venv"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__"))
    # The script calls `python3`: make it this interpreter (3.11), as in the python:3.11 image.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    # Nothing of this checkout on sys.path (tests in a worktree run with PYTHONPATH=src): pip
    # would take it for an installed jobimport.
    env = {
        k: v
        for k, v in env.items()
        if not k.startswith("JOBIMPORT_") and k not in ("PYTHONPATH", "PYTHONHOME")
    }

    lock = ROOT / "requirements" / "runtime.txt"
    deps = run("sh", "docker/build.sh", "deps", lock, venv, env=env)
    assert deps.returncode == 0, deps.stderr
    project = run("sh", "docker/build.sh", "project", src, venv, env=env)
    assert project.returncode == 0, project.stderr
    assert "jobimport 0.1.0" in project.stdout

    # The installed package carries its templates, static files and sample feeds; pip and
    # setuptools are gone (nothing installs into the image's venv at run time).
    check = run(
        venv / "bin" / "python",
        "-c",
        "import importlib.resources as r, importlib.util as u; f = r.files('jobimport');"
        "print(sorted(p.name for p in f.joinpath('web').iterdir()));"
        "print(u.find_spec('pip'), u.find_spec('setuptools'))",
        env=env,
    )
    assert check.returncode == 0, check.stderr
    assert "templates" in check.stdout
    assert "None None" in check.stdout

    config = run(venv / "bin" / "jobimport", "config", env=env)
    assert config.returncode == 0, config.stderr
    assert "JOBIMPORT_DATABASE_URL" in config.stdout


def test_dockerfile_builds_offline_from_the_lock_and_keeps_its_contract() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    # A `# syntax=` line makes BuildKit pull a frontend image: no offline build.
    assert not re.search(r"^#\s*syntax\s*=", dockerfile, re.M | re.I)
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert froms == ["${BASE_IMAGE}", "${BASE_IMAGE}"]
    assert dockerfile.index("ARG BASE_IMAGE=") < dockerfile.index("FROM ")
    assert "jobimport-build deps /src/requirements/runtime.txt" in dockerfile
    assert "jobimport-build project" in dockerfile
    assert "COPY --from=build /opt/jobimport /opt/jobimport" in dockerfile
    assert "--create-home" not in dockerfile
    for needle in ("USER 10001:10001", "STOPSIGNAL SIGTERM", 'CMD ["jobimport", "healthcheck"]'):
        assert needle in dockerfile
    build = (ROOT / "docker" / "build.sh").read_text()
    assert "--require-hashes" in build
