"""Per-hour rollups of final runs, shared by both backends: what a rollup holds, and how a run
listing's total is split between the rollups and index-backed counts.

Why rollups: with 10,000 hourly feeds and 90 days of retention the store keeps ~20 million runs,
and the history page, the `jobimport_runs` metric and the listings' totals must not count them
one by one. Each backend keeps one rollup per (hour of creation, final status): the number of
runs, how many had failures (`RunQuery.only_with_failures`) and their item counts added up. A
run enters its hour's rollup in the step that makes it final (close or cancel) and leaves it in
the step that prunes it, so a rollup always equals counting the final runs of its hour by hand.
Runs in flight are never in a rollup: readers add them live (at most one per feed, read through
an index that holds only them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from jobimport.models import RunCounts, RunStatus
from jobimport.store.base import HourTotals, RunQuery

HOUR = timedelta(hours=1)
FINAL = tuple(s for s in RunStatus if s.is_final)
IN_FLIGHT = tuple(s for s in RunStatus if not s.is_final)


def floor_hour(when: datetime) -> datetime:
    if when.tzinfo is None:  # naive datetimes are UTC by convention in this project
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(when: datetime) -> datetime:
    start = floor_hour(when)
    return start if start == when else start + HOUR


def add_totals(
    into: dict[datetime, HourTotals], hour: datetime, runs: int, counts: RunCounts
) -> None:
    """Add `runs` and `counts` to `into[hour]`."""
    have = into.get(hour)
    if have is None:
        into[hour] = HourTotals(hour, runs, counts)
    else:
        into[hour] = HourTotals(hour, have.runs + runs, have.counts + counts)


@dataclass(frozen=True, slots=True)
class TotalPlan:
    """How to count the matches of a run listing without counting every run:

    - `in_flight`: the query restricted to runs in flight, counted live (through the index
      that holds only them; None when the query's statuses are all final);
    - `rollup`: final statuses and the hour range [start, end) (None: unbounded) whose runs the
      rollups count (None when nothing is left for them);
    - `edges`: the query restricted to final runs over the part-hours at the window's ends,
      counted on the created_at index (at most two hours of runs each).
    """

    in_flight: RunQuery | None
    rollup: tuple[tuple[RunStatus, ...], datetime | None, datetime | None] | None
    edges: tuple[RunQuery, ...]


def plan_total(query: RunQuery) -> TotalPlan | None:
    """The plan for `query`'s total, or None when the rollups cannot help (a feed filter: the
    feed index counts it, at most one feed's retention of runs)."""
    if query.feed_url is not None:
        return None
    wanted = tuple(RunStatus(s) for s in query.statuses) or tuple(RunStatus)
    final = tuple(s for s in wanted if s.is_final)
    flying = tuple(s for s in wanted if not s.is_final)
    in_flight = replace(query, statuses=flying) if flying else None
    if not final:
        return TotalPlan(in_flight, None, ())
    after, before = query.created_after, query.created_before
    start = None if after is None else ceil_hour(after)
    end = None if before is None else floor_hour(before)
    edge = replace(query, statuses=final)
    if start is not None and end is not None and start >= end:
        return TotalPlan(in_flight, None, (edge,))  # under two hours: count them all
    edges = []
    if after is not None and start is not None and start != after:
        edges.append(replace(edge, created_before=start))
    if before is not None and end is not None and end != before:
        edges.append(replace(edge, created_after=end))
    return TotalPlan(in_flight, (final, start, end), tuple(edges))
