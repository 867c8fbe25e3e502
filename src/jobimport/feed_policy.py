"""When a feed runs next: its schedule (an interval or a cron expression), the failure backoff and
Retry-After. Pure functions of their arguments; the scheduler and the pipeline call them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

MAX_BACKOFF = timedelta(hours=24)
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either a fixed interval (`1h`, `30m`, `90s`, `1d`) or a five-field cron expression."""

    text: str
    interval: timedelta | None = None

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        nxt: datetime = croniter(self.text, moment).get_next(datetime)
        return nxt

    def period(self, moment: datetime) -> timedelta:
        """The nominal gap between two runs around `moment`: the unit the backoff multiplies."""
        if self.interval is not None:
            return self.interval
        first = self.next_after(moment)
        return self.next_after(first) - first


def parse_schedule(text: str) -> Schedule:
    """`1h`-style interval or cron expression; raises ValueError with a readable message."""
    match = _INTERVAL.match(text)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        if seconds < 60:
            raise ValueError(f"interval {text!r} is shorter than the one-minute tick")
        return Schedule(text=text.strip(), interval=timedelta(seconds=seconds))
    if len(text.split()) == 5 and croniter.is_valid(text):
        return Schedule(text=text.strip())
    raise ValueError(
        f"{text!r} is neither an interval like '1h' or '30m' nor a five-field cron expression"
    )


def next_run_at(
    schedule: Schedule,
    finished_at: datetime,
    *,
    consecutive_failures: int = 0,
    retry_after_s: float | None = None,
) -> datetime:
    """The next due time after a run: the schedule's next slot, pushed back by the failure backoff
    (period × 2^(failures−1), capped at 24 h) and by a server's Retry-After."""
    due = schedule.next_after(finished_at)
    if consecutive_failures > 1:
        factor = 2 ** min(consecutive_failures - 1, 20)  # 2^20 periods exceed any cap anyway
        backoff = min(schedule.period(finished_at) * factor, MAX_BACKOFF)
        due = max(due, finished_at + backoff)
    if retry_after_s:
        due = max(
            due, finished_at + timedelta(seconds=min(retry_after_s, MAX_BACKOFF.total_seconds()))
        )
    return due
