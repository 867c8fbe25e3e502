"""The CLI as a user runs it: a real subprocess, real settings from the environment."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.feedgen import items, rss
from tests.feedserver import FeedServer


async def run_cli(
    *args: str, env: dict[str, str] | None = None, tmp: Path | None = None
) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
    if tmp is not None:
        base["JOBIMPORT_DATABASE_URL"] = f"sqlite:///{tmp / 'cli.db'}"
    base.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jobimport",
        *args,
        env=base,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


pytestmark = pytest.mark.slow  # a `python -m jobimport` process per call, a second or more each

LOOPBACK = {"JOBIMPORT_ALLOW_PRIVATE_ADDRESSES": "true"}


async def test_import_json_prints_one_log_per_feed_and_exits_0(
    feeds: FeedServer, tmp_path: Path
) -> None:
    a = feeds.put("/a", rss(items(range(1, 6))))
    b = feeds.put("/b", rss(items(range(4, 9))))

    code, out, err = await run_cli("import", a, b, "--json", env=LOOPBACK, tmp=tmp_path)

    assert code == 0, err
    logs = json.loads(out)
    assert [log["fileName"] for log in logs] == [a, b]
    assert sum(log["newJobs"] for log in logs) == 8
    for log in logs:
        assert log["status"] == "succeeded"
        assert log["totalFetched"] == log["totalImported"] + log["failedJobs"]
        assert {"id", "startedAt", "finishedAt", "updatedJobs", "unchangedJobs"} <= log.keys()
    # Logs are JSON lines on stderr when it is not a terminal, each import line with run and feed.
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    import_lines = [line for line in lines if line.get("event") == "batch applied"]
    assert import_lines
    assert all(line["run_id"] and line["feed"] in (a, b) for line in import_lines)


async def test_import_exits_1_when_a_run_fails(feeds: FeedServer, tmp_path: Path) -> None:
    good = feeds.put("/good", rss(items(range(1, 3))))
    missing = feeds.base_url + "/missing"

    code, out, _ = await run_cli("import", good, missing, "--json", env=LOOPBACK, tmp=tmp_path)

    assert code == 1
    statuses = {log["fileName"]: (log["status"], log["error"]) for log in json.loads(out)}
    assert statuses[good] == ("succeeded", None)
    assert statuses[missing][0] == "failed"
    assert statuses[missing][1]["reason"] == "http_4xx"


async def test_import_prints_a_table_without_json(feeds: FeedServer, tmp_path: Path) -> None:
    url = feeds.put("/a", rss(items(range(1, 4))))
    code, out, _ = await run_cli("import", url, env=LOOPBACK, tmp=tmp_path)
    assert code == 0
    assert "succeeded" in out
    assert url in out


async def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = await run_cli("import", "ftp://example.org/feed", tmp=tmp_path)
    assert code == 2
    assert "not an http(s) URL" in err
    code, _, _ = await run_cli("no-such-command", tmp=tmp_path)
    assert code == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JOBIMPORT_BATCH_SIZE", "0"),
        ("JOBIMPORT_BATCH_SIZE", "many"),
        ("JOBIMPORT_FEEDS", "not json"),
        ("JOBIMPORT_FEEDS", '["ftp://x"]'),
        ("JOBIMPORT_LOG_LEVEL", "loud"),
        ("JOBIMPORT_DATABASE_URL", "postgres://x"),
        ("JOBIMPORT_FETCH_TIMEOUT_S", "-1"),
        # Issue 14: schedules that can never fire (the last one raised OverflowError, exit 1).
        ("JOBIMPORT_SCHEDULE", "3000000d"),
        ("JOBIMPORT_SCHEDULE", "* * 31 2 *"),
        ("JOBIMPORT_SCHEDULE", "99999999999999999999d"),
    ],
)
async def test_bad_setting_stops_startup_naming_it(name: str, value: str) -> None:
    code, out, err = await run_cli("config", env={name: value})
    assert code == 2
    assert name in err
    assert out == ""


async def test_config_prints_effective_settings_with_secrets_masked() -> None:
    env = {
        "JOBIMPORT_DATABASE_URL": "mongodb://app:hunter2@db.internal:27017/jobs",
        "JOBIMPORT_LOG_LEVEL": "debug",
        "JOBIMPORT_FEEDS": '["https://example.org/feed"]',
    }
    code, out, _ = await run_cli("config", env=env)
    assert code == 0
    shown = json.loads(out)
    assert "hunter2" not in out
    assert shown["JOBIMPORT_DATABASE_URL"] == "mongodb://app:****@db.internal:27017/jobs"
    assert shown["JOBIMPORT_LOG_LEVEL"] == "DEBUG"
    assert shown["JOBIMPORT_FEEDS"] == ["https://example.org/feed"]
