"""The feed-outcome policy: what a closed run means for its feed. When the feed runs next (its
schedule, an interval or a cron expression, pushed back by the failure backoff and Retry-After),
its failure streak, its validators for the next conditional GET, and whether to raise an alert.
Pure functions of their arguments: the pipeline reads the feed, calls `feed_outcome`, and writes
and announces what it returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from croniter import CroniterError, croniter

from jobimport.models import FeedState, ImportRun, RunStatus

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


MIN_INTERVAL = timedelta(minutes=1)
MAX_GAP = timedelta(days=366)
"""The longest wait a schedule may have: an interval up to 366 days; a cron expression must fire
within 366 days of any moment (so at least once a year, on a date every year has)."""
_CRON_CHECK_FROM = datetime(2001, 1, 1, tzinfo=UTC)
_CRON_CHECK_YEARS = 28  # the weekday calendar repeats every 28 years (1901 to 2099)


def parse_schedule(text: str) -> Schedule:
    """`1h`-style interval (1 minute to 366 days) or a five-field cron expression that fires within
    every 366 days; raises ValueError with a readable message. Used by the settings, the API and
    the start-up check of stored feeds, so a schedule that can never fire is never run."""
    match = _INTERVAL.match(text)
    if match:
        count, unit = match.group(1), match.group(2).lower()
        # A huge count overflows timedelta: compare as integers first.
        seconds = int(count) if len(count) <= 20 else 10**20
        seconds *= _UNIT_SECONDS[unit]
        if seconds < MIN_INTERVAL.total_seconds():
            raise ValueError(f"interval {text!r} is shorter than the one-minute tick")
        if seconds > MAX_GAP.total_seconds():
            raise ValueError(f"interval {text!r} is longer than {MAX_GAP.days} days")
        return Schedule(text=text.strip(), interval=timedelta(seconds=seconds))
    if len(text.split()) == 5 and croniter.is_valid(text):
        if gap := _cron_gap(text.strip()):
            raise ValueError(f"cron expression {text!r} {gap}")
        return Schedule(text=text.strip())
    raise ValueError(
        f"{text!r} is neither an interval like '1h' or '30m' nor a five-field cron expression"
    )


def _cron_gap(text: str) -> str | None:
    """Why the cron expression does not fire within every MAX_GAP (None: it does). Walks a whole
    weekday cycle from a fixed date (so the answer never depends on today), jumping each time to
    the last firing within MAX_GAP of the previous one: about one step per year."""
    end = _CRON_CHECK_FROM.replace(year=_CRON_CHECK_FROM.year + _CRON_CHECK_YEARS)
    try:
        fired: datetime = croniter(text, _CRON_CHECK_FROM).get_next(datetime)
        if fired - _CRON_CHECK_FROM > MAX_GAP:
            return f"does not fire within {MAX_GAP.days} days"
        while fired < end:
            # get_prev is strictly before its start: a second past the limit includes the limit.
            limit = fired + MAX_GAP + timedelta(seconds=1)
            last: datetime = croniter(text, limit).get_prev(datetime)
            if last <= fired:
                return f"does not fire within {MAX_GAP.days} days after {fired:%Y-%m-%d %H:%M}"
            fired = last
    except CroniterError:  # croniter gives up after decades without a match
        return "never fires"
    return None


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


AlertKind = Literal["failing", "recovered"]

SUCCESSFUL = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.NOT_MODIFIED)
"""Runs that end a failure streak: the feed answered and something (or nothing new) was read."""


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """The feed's run state after a run, and the alert that run raises (None: none)."""

    state: FeedState
    alert: AlertKind | None


def feed_outcome(
    before: FeedState, run: ImportRun, *, default_schedule: str, alert_after_failures: int
) -> FeedOutcome:
    """What closed `run` means for its feed, as it stood `before`.

    - A cancelled run (a person stopped it) is neither a success nor a failure: the streak stays
      and no alert is raised. Succeeded, partial and not_modified reset the streak; others add 1.
    - `failing` when the streak reaches `alert_after_failures` and the feed is not yet alerted
      (`alerted_at` is set, so it fires once per streak); `recovered` at the first success of an
      alerted feed (`alerted_at` cleared).
    - The next run: the feed's schedule (else `default_schedule`) after the run, with the
      failure backoff and the run's Retry-After.
    - Validators (ETag, Last-Modified) are kept only from a run that read the whole document: a
      304 must never hide items that a broken-off run missed. Item failures do not count: the
      same bytes fail the same way."""
    ok = run.status in SUCCESSFUL
    finished = run.finished_at or run.created_at
    cancelled = run.status is RunStatus.CANCELLED
    if cancelled:
        failures = before.consecutive_failures
    else:
        failures = 0 if ok else before.consecutive_failures + 1
    alert = _alert(before, ok, failures, alert_after_failures, cancelled=cancelled)
    alerted_at = before.alerted_at
    if alert == "failing":
        alerted_at = finished
    elif alert == "recovered":
        alerted_at = None
    state = replace(
        before,
        last_run_id=run.id,
        last_run_at=finished,
        last_status=run.status.value,
        last_success_at=finished if ok else before.last_success_at,
        consecutive_failures=failures,
        alerted_at=alerted_at,
        next_run_at=next_run_at(
            _usable_schedule(before.schedule, default_schedule),
            finished,
            consecutive_failures=failures,
            retry_after_s=run.error.retry_after_s if run.error else None,
        ),
    )
    whole_read = run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL) and run.error is None
    if whole_read and run.fetch is not None:
        state = replace(state, etag=run.fetch.etag, last_modified=run.fetch.last_modified)
    return FeedOutcome(state, alert)


def _usable_schedule(own: str | None, default: str) -> Schedule:
    """The feed's schedule, else the default; also the default for one stored before today's
    checks (its run was in flight at start): closing the run must not fail on it."""
    if own:
        try:
            return parse_schedule(own)
        except ValueError:
            pass
    return parse_schedule(default)


def _alert(
    before: FeedState, ok: bool, failures: int, alert_after: int, *, cancelled: bool
) -> AlertKind | None:
    if cancelled:
        return None
    if ok and before.alerted_at is not None:
        return "recovered"
    if not ok and before.alerted_at is None and failures >= alert_after:
        return "failing"
    return None
