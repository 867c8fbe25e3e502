"""Feeds of the SQLite store: settings written by people (`add_feed`, `update_feed`), run state
written by the pipeline (`save_feed_run_state`), and the origin that says which feeds are
listed. Each function runs inside the caller's transaction on the store thread (`BEGIN
IMMEDIATE` for writes)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from jobimport.models import FEED_RUN_STATE, FeedOrigin, FeedState, feed_id
from jobimport.store.base import DueCursor
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.expiry import retire_links

Conn = sqlite3.Connection


def feed_from_row(row: sqlite3.Row) -> FeedState:
    return FeedState(
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_run_id=row["last_run_id"],
        last_run_at=q.parse_ts(row["last_run_at"]),
        last_status=row["last_status"],
        last_success_at=q.parse_ts(row["last_success_at"]),
        consecutive_failures=row["consecutive_failures"],
        next_run_at=q.parse_ts(row["next_run_at"]),
        name=row["name"],
        schedule=row["schedule"],
        paused=bool(row["paused"]),
        origin=FeedOrigin(row["origin"]),
        headers=q.loads(row["headers"]) or {},
        created_at=q.parse_ts(row["created_at"]),
        alerted_at=q.parse_ts(row["alerted_at"]),
        pause_note=row["pause_note"],
    )


# Run-state columns are named as the FeedState fields (models.FEED_RUN_STATE), in that order.
FEED_COLUMNS = ("url", "id", *FEED_RUN_STATE, "name", "schedule", "paused", "origin", "headers",
                "created_at", "pause_note")  # fmt: skip


def feed_params(state: FeedState) -> tuple[Any, ...]:
    """Values for FEED_COLUMNS, in that order."""
    return (
        state.url,
        state.id,
        state.etag,
        state.last_modified,
        state.last_run_id,
        q.ts(state.last_run_at),
        state.last_status,
        q.ts(state.last_success_at),
        state.consecutive_failures,
        q.ts(state.next_run_at),
        q.ts(state.alerted_at),
        state.name,
        state.schedule,
        int(state.paused),
        FeedOrigin(state.origin).value,
        q.dumps(state.headers),
        q.ts(state.created_at),
        state.pause_note,
    )


def feed_setting_param(key: str, value: Any) -> Any:
    """A FEED_SETTINGS value as stored in its column."""
    if key == "paused":
        return int(bool(value))
    if key == "headers":
        return q.dumps(dict(value or {}))
    if key == "next_run_at":
        return q.ts(value)
    return value


_CONFIG, _API = FeedOrigin.CONFIG.value, FeedOrigin.API.value
_INSERT = (
    f"INSERT INTO feeds ({', '.join(FEED_COLUMNS)}) VALUES ({', '.join('?' * len(FEED_COLUMNS))})"
)


def by_url(conn: Conn, url: str) -> FeedState | None:
    row = conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
    return None if row is None else feed_from_row(row)


def by_id(conn: Conn, id_: str) -> FeedState | None:
    row = conn.execute("SELECT * FROM feeds WHERE id = ?", (id_,)).fetchone()
    return None if row is None else feed_from_row(row)


def registered(conn: Conn) -> list[FeedState]:
    """Store.list_feeds: CONFIG and API feeds, oldest first."""
    rows = conn.execute(
        "SELECT * FROM feeds WHERE origin IN (?, ?) ORDER BY created_at, url", (_CONFIG, _API)
    )
    return [feed_from_row(row) for row in rows]


# INDEXED BY: without ANALYZE statistics the planner prefers feeds_origin_created, which reads
# every registered feed and sorts them.
_DUE = "SELECT * FROM feeds INDEXED BY feeds_due WHERE origin IN (?, ?) AND paused = 0 AND "


def due(conn: Conn, now: datetime, after: DueCursor | None, limit: int) -> list[FeedState]:
    """Store.list_due_feeds: first the never-run feeds (next_run_at NULL) by url, then the due
    ones by (next_run_at, url); both are ranges of the index feeds_due (next_run_at, url)."""
    rows: list[sqlite3.Row] = []
    start: tuple[str, str]
    if after is None or after[0] is None:
        rows = conn.execute(
            _DUE + "next_run_at IS NULL AND url > ? ORDER BY next_run_at, url LIMIT ?",
            (_CONFIG, _API, after[1] if after else "", limit),
        ).fetchall()
        start = ("", "")  # every stored time sorts after the empty string
    else:
        start = (q.ts(after[0]) or "", after[1])
    if len(rows) < limit:
        rows += conn.execute(
            _DUE + "next_run_at <= ? AND (next_run_at, url) > (?, ?)"
            " ORDER BY next_run_at, url LIMIT ?",
            (_CONFIG, _API, q.ts(now), *start, limit - len(rows)),
        ).fetchall()
    return [feed_from_row(row) for row in rows]


def seed(conn: Conn, urls: Sequence[str], now: datetime) -> None:
    """Store.seed_feeds. A feed registered now gets created_at = now plus its index in `urls`
    in milliseconds, so new configured feeds list in configuration order; one already
    registered keeps its own."""
    conn.executemany(
        "INSERT INTO feeds (url, id, origin, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET origin = excluded.origin,"
        " created_at = coalesce(created_at, excluded.created_at)",
        [
            (url, feed_id(url), _CONFIG, q.ts(now + timedelta(milliseconds=i)))
            for i, url in enumerate(dict.fromkeys(urls))
        ],
    )
    # No longer configured: it stays registered, and may now be deleted.
    conn.execute(
        "UPDATE feeds SET origin = ? WHERE origin = ?"
        " AND url NOT IN (SELECT value FROM json_each(?))",
        (_API, _CONFIG, q.dumps(list(urls))),
    )


def add(conn: Conn, state: FeedState, now: datetime) -> FeedState | None:
    """Store.add_feed. An ADHOC feed of that URL keeps its run state apart from `next_run_at`,
    which is a setting too (FEED_SETTINGS) and comes from `state`."""
    existing = by_url(conn, state.url)
    if existing is None:
        registered_now = replace(state, origin=FeedOrigin.API, created_at=now)
        conn.execute(_INSERT, feed_params(registered_now))
    elif existing.origin is FeedOrigin.ADHOC:
        conn.execute(
            "UPDATE feeds SET origin = ?, created_at = ?, name = ?, schedule = ?, paused = ?,"
            " headers = ?, next_run_at = ? WHERE url = ?",
            (_API, q.ts(now), state.name, state.schedule, int(state.paused),
             q.dumps(state.headers), q.ts(state.next_run_at), state.url),
        )  # fmt: skip
    else:
        return None
    return by_url(conn, state.url)


def update(conn: Conn, id_: str, changes: dict[str, Any]) -> FeedState | None:
    """Store.update_feed (the keys are checked by the caller, before the transaction)."""
    if changes:
        # Column names come from FEED_SETTINGS only (checked), never from the caller's text.
        keys = sorted(changes)
        conn.execute(
            f"UPDATE feeds SET {', '.join(f'{k} = ?' for k in keys)} WHERE id = ?",
            [*(feed_setting_param(k, changes[k]) for k in keys), id_],
        )
    return by_id(conn, id_)


def delete(conn: Conn, id_: str, expire_after_runs: int) -> bool:
    """Store.delete_feed: jobs, runs and job links name feeds by URL and stay; the feed's links
    stop holding back the expiry of jobs other feeds list (`retire_links`)."""
    row = conn.execute(
        "DELETE FROM feeds WHERE id = ? AND origin != ? RETURNING url", (id_, _CONFIG)
    ).fetchone()
    if row is None:
        return False
    retire_links(conn, row[0], expire_after_runs)
    return True


def save(conn: Conn, state: FeedState) -> None:
    """Store.save_feed_run_state: the run state only; settings and origin are the stored ones, and a
    missing feed comes back unregistered (ADHOC), never with settings or headers."""
    assignments = ", ".join(f"{c} = excluded.{c}" for c in FEED_RUN_STATE)
    conn.execute(
        f"{_INSERT} ON CONFLICT (url) DO UPDATE SET {assignments}",
        feed_params(state.run_state_only()),
    )
