"""The lock files pin every dependency with hashes and were made from pyproject.toml as it is:
each records a digest of pyproject's dependency lists (scripts/lock.py), recomputed here. After
changing a dependency, run `make lock`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


@pytest.fixture
def lock(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import lock

    return lock


def entries(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) for each requirement of a lock file."""
    found: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        match = REQUIREMENT.match(line)
        if match:
            name = canonical(match[1])
            found[name] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
        elif line.strip() and not line.startswith("#"):
            pytest.fail(f"{path.name}: unexpected line {line!r}")
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    result = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        assert match, f"pyproject: {requirement!r} is not pinned with =="
        result[canonical(match[1])] = match[2]
    return result


def test_the_locks_were_made_from_pyprojects_dependency_lists(lock: ModuleType) -> None:
    for path in lock.LOCKS.values():
        assert lock.recorded_digest(path) == lock.digest(), f"{path.name} is stale: run make lock"


def test_the_digest_changes_with_a_dependency(lock: ModuleType, tmp_path: Path) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    changed = tmp_path / "pyproject.toml"
    changed.write_text(pyproject.replace('"lxml==6.1.3"', '"lxml==6.1.2"', 1))
    assert changed.read_text() != pyproject
    assert lock.digest(changed) != lock.digest()


def test_every_locked_dependency_has_hashes_and_the_direct_pins_match(lock: ModuleType) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime_pins = pins(project["dependencies"])
    dev_pins = pins(project["optional-dependencies"]["dev"])
    runtime = entries(lock.LOCKS["runtime"])
    dev = entries(lock.LOCKS["dev"])
    for locked in (runtime, dev):
        assert all(hashes > 0 for _, hashes in locked.values())
    assert {name: runtime[name][0] for name in runtime_pins} == runtime_pins
    assert {name: dev[name][0] for name in {**runtime_pins, **dev_pins}} == {
        **runtime_pins,
        **dev_pins,
    }
    # The build backend is locked too (the project installs without build isolation).
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for locked in (runtime, dev):
        assert {n: locked[n][0] for n in pins(config["build-system"]["requires"])} == pins(
            config["build-system"]["requires"]
        )
    # The runtime lock is the dev lock's runtime part: one resolution, not two that drift.
    assert {name: dev[name][0] for name in runtime} == {n: v for n, (v, _) in runtime.items()}


def test_every_install_uses_the_locks_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements/runtime.txt" in makefile
    assert "--require-hashes -r requirements/dev.txt" in makefile
    assert makefile.count("--no-deps --no-build-isolation -e .") == 2
    assert "--require-hashes" in (ROOT / "docker" / "build.sh").read_text()
