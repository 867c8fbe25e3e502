"""The log's repeat limiter: identical warnings and errors within the window are one line, then
one line with their count; anything else is written as it comes."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from jobimport.log import flush_repeats
from jobimport.settings import load_settings
from tests.support import captured_log

Configure = Callable[..., io.StringIO]


@pytest.fixture
def configure() -> Iterator[Configure]:
    """`configure(**settings)`: the log, as JSON, into a StringIO (restored after the test)."""
    with contextlib.ExitStack() as stack:

        def make(**overrides: Any) -> io.StringIO:
            settings = load_settings(feeds=(), log_format="json", **overrides)
            return stack.enter_context(captured_log(settings))

        yield make


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_identical_errors_are_one_line_then_a_count(configure: Configure) -> None:
    stream = configure(log_repeat_window_s=60)
    log = structlog.get_logger("t")
    for _ in range(100):
        log.error("store unavailable", backend="sqlite")
    log.error("store unavailable", backend="mongodb")  # other fields: another event
    for _ in range(3):
        log.info("listening")  # info is never held back
    assert [(r["event"], r.get("backend")) for r in records(stream)] == [
        ("store unavailable", "sqlite"),
        ("store unavailable", "mongodb"),
        ("listening", None),
        ("listening", None),
        ("listening", None),
    ]
    flush_repeats()
    last = records(stream)[-1]
    assert (last["event"], last["backend"], last["repeated"], last["level"]) == (
        "store unavailable",
        "sqlite",
        99,
        "error",
    )


def test_stdlib_records_are_limited_too(configure: Configure) -> None:
    stream = configure(log_repeat_window_s=60)
    for _ in range(50):
        logging.getLogger("asyncio").error("socket.accept() out of system resource")
    assert len(records(stream)) == 1
    flush_repeats()
    first, summary = records(stream)
    assert first["event"] == summary["event"] == "socket.accept() out of system resource"
    assert (summary["logger"], summary["repeated"]) == ("asyncio", 49)


def test_a_window_of_zero_writes_every_line(configure: Configure) -> None:
    stream = configure(log_repeat_window_s=0)
    for _ in range(5):
        structlog.get_logger().warning("same")
    assert len(records(stream)) == 5
