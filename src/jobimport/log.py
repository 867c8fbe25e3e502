"""structlog set-up: one line per event on stderr, console on a terminal and JSON otherwise.

Context (run_id, feed, job_try) travels in contextvars, so every line of an import carries it.
Identical warnings and errors are rate-limited (`RepeatLimiter`): a storm of one failure (say, a
flood of refused connections) writes one line, then one line with its count per window, instead
of filling the disk.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Hashable, MutableMapping
from typing import Any, TextIO

import structlog

from jobimport.settings import Settings


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging (aiohttp, arq) to `stream` (default stderr)."""
    out = stream or sys.stderr
    use_console = settings.log_format == "console" or (
        settings.log_format == "auto" and out.isatty()
    )
    level = logging.getLevelNamesMapping()[settings.log_level]
    global _limiter
    _limiter.close()
    _limiter = limiter = RepeatLimiter(settings.log_repeat_window_s, _emit_summary)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if use_console
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            *shared[:2],
            limiter,  # stdlib records meet it as a handler filter instead
            *shared[2:],
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Third-party libraries log through stdlib; render them the same way.
    handler = logging.StreamHandler(out)
    handler.addFilter(limiter.filter_record)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# Levels the limiter collapses; info and debug lines are never held back.
_LIMITED_LEVELS = frozenset({"warning", "error", "critical"})
_NOT_IDENTITY = frozenset({"timestamp", "exc_info"})


class RepeatLimiter:
    """Collapses identical warning and error events within `window_s`: the first is written at
    once, the rest are counted, and when the window ends one more line carries the same event
    with `repeated=N`. Identical means the same level, event and fields (not the timestamp);
    for an exception, the same type and message. A structlog processor, and a filter for the
    stdlib records (aiohttp, asyncio, arq). Thread-safe: parsing threads log too."""

    def __init__(self, window_s: float, emit: Callable[[dict[str, Any]], None]) -> None:
        self.window_s = window_s
        self._emit = emit
        self._lock = threading.Lock()
        # identity → (window start, events held back, the first event, its timer)
        self._seen: dict[Hashable, _Window] = {}

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if not self.admit(event_dict):
            raise structlog.DropEvent
        return event_dict

    def filter_record(self, record: logging.LogRecord) -> bool:
        """logging.Filter for stdlib records: False drops a repeat."""
        event: dict[str, Any] = {
            "event": record.getMessage(),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.exc_info and record.exc_info[1] is not None:
            event["error"] = repr(record.exc_info[1])
        return self.admit(event)

    def admit(self, event_dict: MutableMapping[str, Any]) -> bool:
        """True to write this event now; False when it repeats one seen within the window."""
        level = event_dict.get("level")
        if self.window_s <= 0 or level not in _LIMITED_LEVELS or "repeated" in event_dict:
            return True
        key = _identity(event_dict)
        now = time.monotonic()
        with self._lock:
            window = self._seen.get(key)
            if window is None or (now - window.start >= self.window_s and not window.held):
                if len(self._seen) > 1000:
                    self._forget_quiet(now)
                first = {k: v for k, v in event_dict.items() if k not in _NOT_IDENTITY}
                self._seen[key] = _Window(now, first)
                return True
            window.held += 1
            if window.timer is None:
                window.timer = threading.Timer(
                    max(0.0, window.start + self.window_s - now), self._close_window, (key,)
                )
                window.timer.daemon = True
                window.timer.start()
            return False

    def flush(self) -> None:
        """Write the counts held back now (shutdown, tests)."""
        with self._lock:
            keys = [k for k, w in self._seen.items() if w.held]
        for key in keys:
            self._close_window(key)

    def close(self) -> None:
        """Stop the timers without writing (the logging set-up is being replaced)."""
        with self._lock:
            for window in self._seen.values():
                if window.timer is not None:
                    window.timer.cancel()
            self._seen.clear()

    def _close_window(self, key: Hashable) -> None:
        with self._lock:
            window = self._seen.pop(key, None)
        if window is None:
            return
        if window.timer is not None:
            window.timer.cancel()
        if window.held:
            self._emit({**window.first, "repeated": window.held, "window_s": self.window_s})

    def _forget_quiet(self, now: float) -> None:
        for key, window in list(self._seen.items()):
            if not window.held and now - window.start >= self.window_s:
                del self._seen[key]


class _Window:
    __slots__ = ("first", "held", "start", "timer")

    def __init__(self, start: float, first: dict[str, Any]) -> None:
        self.start = start
        self.first = first
        self.held = 0
        self.timer: threading.Timer | None = None


def _identity(event_dict: MutableMapping[str, Any]) -> Hashable:
    parts = []
    for name, value in sorted(event_dict.items()):
        if name == "timestamp":
            continue
        if name == "exc_info" and value is True:
            value = sys.exc_info()[1]
        parts.append((name, repr(value)[:500]))
    return tuple(parts)


def _emit_summary(event_dict: dict[str, Any]) -> None:
    event = dict(event_dict)
    level = logging.getLevelNamesMapping()[str(event.pop("level", "warning")).upper()]
    message = str(event.pop("event", ""))
    structlog.get_logger().log(level, message, **event)


_limiter = RepeatLimiter(0, _emit_summary)


def flush_repeats() -> None:
    """Write the repeat counts the limiter holds now (at shutdown)."""
    _limiter.flush()
