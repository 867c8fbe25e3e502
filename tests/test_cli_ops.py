"""`jobimport healthcheck` (the role it probes, its exit codes) and `jobimport backup`, in-process
through `cli.main` with settings from a monkeypatched environment."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from jobimport import cli

CLEAN_ENV = [k for k in os.environ if k.startswith("JOBIMPORT_")]


@pytest.fixture(autouse=True)
def no_jobimport_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """`main` points structlog and the root logger at this test's captured stderr: put them back,
    or later tests in the process would log into a closed capture."""
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    yield
    structlog.configure(**saved_structlog)
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def fake_proc(root: Path, processes: dict[int, tuple[int, list[str]]]) -> Path:
    """A /proc with `pid: (ppid, argv)` entries: `stat` and `cmdline` as Linux writes them."""
    for pid, (ppid, argv) in processes.items():
        entry = root / str(pid)
        entry.mkdir(parents=True)
        name = Path(argv[0]).name[:15]
        (entry / "stat").write_text(f"{pid} ({name}) S {ppid} {pid} {pid} 0 -1\n")
        (entry / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (root / "self").mkdir(exist_ok=True)  # not a pid: ignored
    return root


JOBIMPORT = ["/opt/jobimport/bin/python3", "/opt/jobimport/bin/jobimport"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([*JOBIMPORT, "worker"], ("worker", None)),
        ([*JOBIMPORT, "serve", "--role", "worker"], ("worker", None)),
        ([*JOBIMPORT, "serve", "--role=web", "--port", "9000"], ("web", 9000)),
        ([*JOBIMPORT, "serve"], (None, None)),  # the role is JOBIMPORT_ROLE's
        (["python3", "-m", "jobimport", "demo", "--port", "8001"], ("all", 8001)),
        ([*JOBIMPORT, "import", "https://example.org/feed"], None),  # not a service
        ([*JOBIMPORT, "serve", "--role", "nope"], None),  # would not have started
        (["/usr/sbin/nginx", "-g", "daemon off;"], None),
    ],
)
def test_the_running_service_is_read_from_pid_1(
    tmp_path: Path, argv: list[str], expected: tuple[str | None, int | None] | None
) -> None:
    proc = fake_proc(tmp_path, {1: (0, argv), 7: (1, [*JOBIMPORT, "healthcheck"])})
    assert cli.running_service(proc) == expected


def test_under_an_init_the_service_is_a_child_of_pid_1(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            1: (0, ["/run/podman-init", "--", "jobimport", "worker"]),
            2: (1, [*JOBIMPORT, "worker"]),
            30: (2, [*JOBIMPORT, "serve", "--role", "web"]),  # not a child of PID 1
        },
    )
    assert cli.running_service(proc) == ("worker", None)


def test_healthcheck_probes_the_running_role_not_jobimport_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A container started with the command `worker` while JOBIMPORT_ROLE says all: the worker's
    # probe runs (here it cannot: no Redis URL), not GET /readyz on a port nobody listens on.
    monkeypatch.setenv("JOBIMPORT_ROLE", "all")
    monkeypatch.setattr(cli, "running_service", lambda: ("worker", None))
    assert cli.main(["healthcheck"]) == 1
    assert "worker's healthcheck needs JOBIMPORT_REDIS_URL" in capsys.readouterr().err


def test_healthcheck_takes_the_running_services_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "running_service", lambda: ("web", 1))
    assert cli.main(["healthcheck"]) == 1
    assert "http://127.0.0.1:1/readyz" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "argv"),
    [
        ({"JOBIMPORT_PORT": "not-a-port"}, ["healthcheck"]),
        ({"JOBIMPORT_ROLE": "boss"}, ["healthcheck", "--role", "web"]),
        ({}, ["healthcheck", "--role", "boss"]),  # its own usage error too
        ({}, ["healthcheck", "--role", "worker"]),  # a worker without JOBIMPORT_REDIS_URL
    ],
)
def test_healthcheck_exits_1_never_2_on_bad_settings(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], argv: list[str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 1


def test_other_commands_still_exit_2_on_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBIMPORT_PORT", "not-a-port")
    assert cli.main(["config"]) == 2


def store_copy(empty_sqlite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "live.db"
    shutil.copyfile(empty_sqlite, db)
    monkeypatch.setenv("JOBIMPORT_DATABASE_URL", f"sqlite:///{db}")
    return db


def test_backup_copies_the_store_while_a_writer_holds_it(
    empty_sqlite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = store_copy(empty_sqlite, tmp_path, monkeypatch)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE probe (n INTEGER)")
    writer.execute("INSERT INTO probe VALUES (1)")
    writer.execute("BEGIN IMMEDIATE")  # a write in flight, as while the service imports
    writer.execute("INSERT INTO probe VALUES (2)")
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    try:
        assert cli.main(["backup", str(target)]) == 0
    finally:
        writer.execute("COMMIT")
        writer.close()
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT n FROM probe").fetchall() == [(1,)]  # the committed state
    tables = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"import_logs", "feeds"} <= tables
    copy.close()
    assert [p.name for p in target.parent.iterdir()] == ["copy.db"]  # no temporary file left


def test_backup_refuses_an_existing_path_unless_forced(
    empty_sqlite: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_copy(empty_sqlite, tmp_path, monkeypatch)
    target = tmp_path / "old.db"
    target.write_text("an older backup")
    assert cli.main(["backup", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{target} exists: pass --force" in err
    assert target.read_text() == "an older backup"
    assert cli.main(["backup", "--force", str(target)]) == 0
    assert target.read_bytes().startswith(b"SQLite format 3\0")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mongodb://127.0.0.1:1/jobimport", "for MongoDB use mongodump"),
        ("sqlite:///{tmp}/missing.db", "no SQLite database at"),
    ],
)
def test_backup_says_in_one_line_when_it_cannot(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    message: str,
) -> None:
    monkeypatch.setenv("JOBIMPORT_DATABASE_URL", url.format(tmp=tmp_path))
    assert cli.main(["backup", str(tmp_path / "b.db")]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "b.db").exists()
