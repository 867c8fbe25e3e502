"""What the CLI loads: `jobimport import` runs a whole import without the web package (nor
aiohttp_jinja2, aiohttp_sse, jinja2); only the commands that listen import it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.feedgen import items, rss
from tests.feedserver import FeedServer

# `jobimport.cli.main(argv)` in a fresh interpreter, then the modules it loaded, into a file.
LOADED = """
import json, sys
from jobimport import cli
code = cli.main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""
WEB_ONLY = ("aiohttp_jinja2", "aiohttp_sse", "jinja2")


async def loaded_by(argv: list[str], tmp_path: Path) -> tuple[int, list[str], str]:
    """Run the CLI with `argv` in a new interpreter; its exit code, modules and stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBIMPORT_")}
    env.update(
        JOBIMPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        JOBIMPORT_ALLOW_PRIVATE_ADDRESSES="true",
        JOBIMPORT_LOG_FORMAT="json",
    )
    report = tmp_path / "modules.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOADED, str(report), *argv,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    loaded = json.loads(report.read_text())
    return loaded["code"], loaded["modules"], out.decode()


@pytest.mark.slow  # starts a jobimport process
async def test_import_loads_no_web_module(feeds: FeedServer, tmp_path: Path) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))

    code, modules, out = await loaded_by(["import", url, "--json"], tmp_path)

    assert code == 0
    (log,) = json.loads(out)
    assert (log["status"], log["newJobs"]) == ("succeeded", 3)  # the whole import ran
    assert "jobimport.runtime" in modules
    assert [m for m in modules if m == "jobimport.web" or m.startswith("jobimport.web.")] == []
    assert [m for m in modules if m.split(".")[0] in WEB_ONLY] == []
