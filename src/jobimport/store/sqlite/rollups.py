"""The SQLite side of the per-hour rollups (store/rollups.py): the `run_hours` table, one row per
(hour of creation, final status). `add_run` runs in the transaction that makes a run final
(runs.close_run: close, early close, cancel) and `remove_pruned` in the one that prunes runs, so
a row always equals its runs counted by hand. The readers add the runs in flight, read through
the partial index that holds only them (`import_logs_stale`), in the same read snapshot."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from jobimport.models import RunCounts, RunStatus
from jobimport.store.base import HourTotals, RunQuery
from jobimport.store.rollups import add_totals, floor_hour, plan_total
from jobimport.store.sqlite import queries as q

Conn = sqlite3.Connection

HOUR_SQL = "substr(created_at, 1, 13) || ':00:00.000000+00:00'"
"""The hour of a run's creation, as stored text: created_at is fixed-width ISO 8601 UTC."""
WITH_FAILURES_SQL = "(failed > 0 OR error IS NOT NULL)"
"""RunQuery.only_with_failures, as queries.run_filter writes it."""
SUMS = ("fetched", "new", "updated", "unchanged", "failed", "expired")
# Written exactly as the partial index's WHERE, so INDEXED BY can use it.
IN_FLIGHT_SQL = "status IN ('queued', 'running')"
_FLYING = f"import_logs INDEXED BY import_logs_stale WHERE {IN_FLIGHT_SQL}"


def add_run(conn: Conn, run_id: str) -> None:
    """Add the (now final) run to its hour's rollup."""
    update = ", ".join(f"{c} = {c} + excluded.{c}" for c in ("runs", "with_failures", *SUMS))
    conn.execute(
        f"INSERT INTO run_hours (hour, status, runs, with_failures, {', '.join(SUMS)})"
        f" SELECT {HOUR_SQL}, status, 1, {WITH_FAILURES_SQL}, {', '.join(SUMS)}"
        f" FROM import_logs WHERE id = ? ON CONFLICT (hour, status) DO UPDATE SET {update}",
        (run_id,),
    )


def rebuild(conn: Conn) -> None:
    """Recompute every rollup from the stored runs: for rows written around the store (the
    benchmark's bulk fixture), never needed by the store itself."""
    sums = ", ".join(f"sum({c})" for c in SUMS)
    conn.execute("DELETE FROM run_hours")
    conn.execute(
        f"INSERT INTO run_hours (hour, status, runs, with_failures, {', '.join(SUMS)})"
        f" SELECT {HOUR_SQL}, status, count(*), sum({WITH_FAILURES_SQL}), {sums}"
        f" FROM import_logs WHERE NOT ({IN_FLIGHT_SQL}) GROUP BY 1, 2"
    )


def remove_pruned(conn: Conn, where: str, params: tuple[Any, ...]) -> None:
    """Take the final runs matching `where` (about to be deleted) out of their rollups."""
    sums = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
    sets = ", ".join(f"{c} = run_hours.{c} - gone.{c}" for c in ("runs", "with_failures", *SUMS))
    conn.execute(
        f"WITH gone AS (SELECT {HOUR_SQL} AS hour, status, count(*) AS runs,"
        f" sum({WITH_FAILURES_SQL}) AS with_failures, {sums} FROM import_logs WHERE {where}"
        f" GROUP BY 1, 2) UPDATE run_hours SET {sets} FROM gone"
        " WHERE run_hours.hour = gone.hour AND run_hours.status = gone.status",
        params,
    )
    conn.execute("DELETE FROM run_hours WHERE runs <= 0")


def _counts(row: sqlite3.Row) -> RunCounts:
    return RunCounts(**{c: row[c] or 0 for c in SUMS})


def hourly(conn: Conn, since: datetime, until: datetime) -> list[HourTotals]:
    """Store.hourly_totals: the hours in [floor_hour(since), until) that have runs, in order."""
    start, end = q.ts(floor_hour(since)), q.ts(until)
    totals: dict[datetime, HourTotals] = {}
    sums = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
    for row in conn.execute(
        f"SELECT hour, sum(runs) AS runs, {sums} FROM run_hours WHERE hour >= ? AND hour < ?"
        " GROUP BY hour",
        (start, end),
    ):
        add_totals(totals, q.req_ts(row["hour"]), row["runs"], _counts(row))
    for row in conn.execute(
        f"SELECT created_at, {', '.join(SUMS)} FROM {_FLYING} AND created_at >= ?"
        " AND created_at < ?",
        (start, end),
    ):
        add_totals(totals, floor_hour(q.req_ts(row["created_at"])), 1, _counts(row))
    return [totals[hour] for hour in sorted(totals)]


def by_status(conn: Conn) -> dict[str, int]:
    """Store.count_runs_by_status."""
    found: dict[str, int] = {}
    for row in conn.execute("SELECT status, sum(runs) FROM run_hours GROUP BY status"):
        if row[1]:
            found[row[0]] = row[1]
    for row in conn.execute(f"SELECT status, count(*) FROM {_FLYING} GROUP BY status"):
        found[row[0]] = row[1]
    return found


def sums(conn: Conn) -> RunCounts:
    """Store.sum_run_counts."""
    select = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in SUMS)
    stored = conn.execute(f"SELECT {select} FROM run_hours").fetchone()
    flying = conn.execute(f"SELECT {select} FROM {_FLYING}").fetchone()
    return _counts(stored) + _counts(flying)


def total(conn: Conn, query: RunQuery) -> int:
    """Page.total of a run listing: from the rollups where they can tell, else index-backed
    counts (see rollups.plan_total)."""
    plan = plan_total(query)
    if plan is None:  # a feed filter: import_logs_feed_created holds one feed's runs
        where, params, _ = q.run_filter(query)
        return int(
            conn.execute(f"SELECT count(*) FROM import_logs WHERE {where}", params).fetchone()[0]
        )
    count = 0
    if plan.in_flight is not None:
        where, params, _ = q.run_filter(plan.in_flight)
        count += conn.execute(f"SELECT count(*) FROM {_FLYING} AND {where}", params).fetchone()[0]
    if plan.rollup is not None:
        statuses, start, end = plan.rollup
        column = "with_failures" if query.only_with_failures else "runs"
        clauses = [f"status IN ({', '.join('?' * len(statuses))})"]
        values: list[Any] = [RunStatus(s).value for s in statuses]
        if start is not None:
            clauses.append("hour >= ?")
            values.append(q.ts(start))
        if end is not None:
            clauses.append("hour < ?")
            values.append(q.ts(end))
        row = conn.execute(
            f"SELECT coalesce(sum({column}), 0) FROM run_hours WHERE {' AND '.join(clauses)}",
            values,
        ).fetchone()
        count += row[0]
    for edge in plan.edges:  # both ends bounded: at most two hours of runs on the created index
        where, params, _ = q.run_filter(edge)
        count += conn.execute(
            f"SELECT count(*) FROM import_logs INDEXED BY import_logs_created WHERE {where}",
            params,
        ).fetchone()[0]
    return int(count)
