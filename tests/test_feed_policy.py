"""The feed-outcome policy, table-driven: what one closed run does to its feed's streak, alert,
validators and next run. Pure: no store, no clock, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from jobimport.feed_policy import feed_outcome, next_run_at, parse_schedule
from jobimport.models import FeedErrorInfo, FeedState, FetchInfo, ImportRun, RunStatus

URL = "https://feeds.example.test/jobs"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EARLIER = T0 - timedelta(hours=5)
HOUR = timedelta(hours=1)
FETCH = FetchInfo(status=200, etag='"v2"', last_modified="Mon, 23 Nov 2026 09:00:00 GMT")
BROKE = FeedErrorInfo(reason="malformed_xml", message="document ended early", line=9)


def run(
    status: RunStatus, *, error: FeedErrorInfo | None = None, fetch: FetchInfo | None = FETCH
) -> ImportRun:
    return ImportRun(
        id="r2", feed_url=URL, status=status, created_at=T0 - HOUR, finished_at=T0,
        error=error, fetch=fetch,
    )  # fmt: skip


def feed(failures: int = 0, alerted: bool = False, schedule: str | None = None) -> FeedState:
    return FeedState(
        url=URL, etag='"v1"', last_modified="old", consecutive_failures=failures,
        alerted_at=EARLIER if alerted else None, schedule=schedule, last_success_at=EARLIER,
    )  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    before: FeedState
    run: ImportRun
    failures: int
    alert: str | None
    alerted_at: datetime | None
    etag: str | None
    last_success_at: datetime | None
    next_in: timedelta = HOUR
    extra: dict[str, object] = field(default_factory=dict)


FAILED = run(RunStatus.FAILED, error=FeedErrorInfo("http_5xx", "503", status=503), fetch=None)

CASES = [
    Case("success resets the streak and keeps the validators", feed(2), run(RunStatus.SUCCEEDED),
         0, None, None, '"v2"', T0),
    Case("partial with item failures only reads the whole document", feed(),
         run(RunStatus.PARTIAL), 0, None, None, '"v2"', T0),
    Case("partial that broke off keeps the old validators", feed(),
         run(RunStatus.PARTIAL, error=BROKE), 0, None, None, '"v1"', T0),
    Case("not modified is a success without new validators", feed(1),
         run(RunStatus.NOT_MODIFIED), 0, None, None, '"v1"', T0),
    Case("a first failure adds one, no backoff yet", feed(), FAILED, 1, None, None, '"v1"',
         EARLIER),
    Case("the third failure in a row raises failing (threshold 3), backoff ×4", feed(2), FAILED,
         3, "failing", T0, '"v1"', EARLIER, 4 * HOUR),
    Case("an alerted feed failing again raises nothing more", feed(3, alerted=True), FAILED,
         4, None, EARLIER, '"v1"', EARLIER, 8 * HOUR),
    Case("the first success of an alerted feed recovers it", feed(5, alerted=True),
         run(RunStatus.SUCCEEDED), 0, "recovered", None, '"v2"', T0),
    Case("a cancelled run keeps the streak and decides no alert", feed(2, alerted=False),
         run(RunStatus.CANCELLED), 2, None, None, '"v1"', EARLIER, 2 * HOUR),
    Case("a cancelled run of an alerted feed does not recover it", feed(4, alerted=True),
         run(RunStatus.CANCELLED), 4, None, EARLIER, '"v1"', EARLIER, 8 * HOUR),
    Case("the feed's own schedule wins over the default", feed(schedule="30m"),
         run(RunStatus.SUCCEEDED), 0, None, None, '"v2"', T0, timedelta(minutes=30)),
    Case("Retry-After pushes the next run back", feed(),
         run(RunStatus.FAILED, error=FeedErrorInfo("http_4xx", "429", 429, retry_after_s=7200),
             fetch=None), 1, None, None, '"v1"', EARLIER, 2 * HOUR),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_feed_outcome(case: Case) -> None:
    outcome = feed_outcome(case.before, case.run, default_schedule="1h", alert_after_failures=3)
    state = outcome.state
    assert outcome.alert == case.alert
    assert state.consecutive_failures == case.failures
    assert state.alerted_at == case.alerted_at
    assert state.etag == case.etag
    assert state.last_success_at == case.last_success_at
    assert state.next_run_at == T0 + case.next_in
    assert (state.last_run_id, state.last_run_at, state.last_status) == (
        "r2",
        T0,
        case.run.status.value,
    )
    assert state.schedule == case.before.schedule  # settings are never the policy's to change


def test_a_run_without_finished_at_counts_from_its_creation() -> None:
    unfinished = ImportRun(id="r", feed_url=URL, status=RunStatus.FAILED, created_at=T0)
    outcome = feed_outcome(feed(), unfinished, default_schedule="1h", alert_after_failures=3)
    assert outcome.state.last_run_at == T0
    assert outcome.state.next_run_at == T0 + HOUR


@pytest.mark.parametrize(
    ("schedule", "failures", "retry_after_s", "expected"),
    [
        ("1h", 0, None, HOUR),
        ("1h", 1, None, HOUR),
        ("1h", 2, None, 2 * HOUR),
        ("1h", 6, None, 24 * HOUR),  # 32 h capped at 24 h
        ("1h", 0, 90.0, HOUR),  # a shorter Retry-After changes nothing
        ("1h", 0, 10 * 86400.0, 24 * HOUR),  # Retry-After is capped too
        ("0 * * * *", 0, None, HOUR),  # cron: the next full hour after 09:00
        ("0 * * * *", 3, None, 4 * HOUR),
    ],
)
def test_next_run_at(
    schedule: str, failures: int, retry_after_s: float | None, expected: timedelta
) -> None:
    due = next_run_at(
        parse_schedule(schedule), T0, consecutive_failures=failures, retry_after_s=retry_after_s
    )
    assert due == T0 + expected


@pytest.mark.parametrize("text", ["30s", "every hour", "* * *", "61 * * * *", ""])
def test_unreadable_schedules_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match=r"interval|cron|tick"):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("3000000d", "longer than 366 days"),
        ("99999999999999999999d", "longer than 366 days"),  # overflowed timedelta before
        ("367d", "longer than 366 days"),
        ("8785h", "longer than 366 days"),
        ("59s", "one-minute tick"),
        ("* * 31 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("0 0 29 2 *", "does not fire within 366 days"),  # once in four years
        ("0 0 * 2 1#5", "does not fire within 366 days"),  # a fifth Monday in February
        ("0 0 * 2 1#4", "after 2004-02-23"),  # then 2005-02-28: 371 days later
    ],
)
def test_schedules_that_cannot_fire_within_366_days_are_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_schedule(text)


@pytest.mark.parametrize(
    "text", ["1m", "60s", "366d", "8784h", "* * * * *", "0 0 1 1 *", "0 0 31 * *", "0 0 L 2 *",
             "0 0 29 2,3 *", "0 0 * 2,3 1#4", "0 0 29 2 1"],
)  # fmt: skip
def test_schedules_that_fire_within_366_days_are_accepted(text: str) -> None:
    schedule = parse_schedule(text)
    assert schedule.next_after(T0) - T0 <= timedelta(days=366)


def test_a_stored_schedule_now_refused_does_not_break_the_close_of_a_run() -> None:
    # A run in flight at the upgrade closes on the default schedule instead of raising.
    before = feed(schedule="* * 31 2 *")
    outcome = feed_outcome(before, run(RunStatus.SUCCEEDED), default_schedule="1h",
                           alert_after_failures=3)  # fmt: skip
    assert outcome.state.next_run_at == T0 + HOUR
    assert outcome.state.schedule == "* * 31 2 *"  # the stored value is never changed here
