"""Job expiry in the SQLite store (the rule is in `store.base`): listing a job resets its link
to the feed, closing a whole-document run counts a miss on the links it did not list and expires
the jobs that every feed has missed often enough. Both run inside the caller's transaction: the
upsert's (jobs.py) and the close's (runs.py), so expiry happens exactly once per run."""

from __future__ import annotations

import json
import sqlite3

from jobimport.models import FeedErrorInfo, ImportRun, JobStatus, RunStatus, reads_whole_document

Conn = sqlite3.Connection

_ACTIVE, _EXPIRED = JobStatus.ACTIVE.value, JobStatus.EXPIRED.value


def listed(
    conn: Conn, job_id: str, feed_url: str, run_id: str, fingerprint: str | None = None
) -> None:
    """A run of `feed_url` listed the job: the job is active and the link's misses start over;
    the link keeps what the feed said (`fingerprint`)."""
    conn.execute(
        "UPDATE jobs SET status = ?, expired_at = NULL WHERE id = ? AND status != ?",
        (_ACTIVE, job_id, _ACTIVE),
    )
    conn.execute(
        "INSERT INTO job_feeds (job_id, feed_url, last_seen_run_id, missed, fingerprint)"
        " VALUES (?, ?, ?, 0, ?) ON CONFLICT (job_id, feed_url) DO UPDATE SET"
        " last_seen_run_id = excluded.last_seen_run_id, missed = 0,"
        " fingerprint = excluded.fingerprint",
        (job_id, feed_url, run_id, fingerprint),
    )


def sighted(conn: Conn, job_ids: list[str], feed_url: str, run_id: str, stamp: str) -> set[str]:
    """A run of `feed_url` listed these jobs exactly as before (`SeenItem`): what `listed` and a
    content-less upsert do, in one statement per table. Returns the ids of the jobs stored."""
    ids = json.dumps(job_ids)
    rows = conn.execute(
        "UPDATE jobs SET last_seen_at = ?, last_seen_run_id = ?, status = ?, expired_at = NULL"
        " WHERE id IN (SELECT value FROM json_each(?)) RETURNING id",
        (stamp, run_id, _ACTIVE, ids),
    ).fetchall()
    conn.execute(
        "UPDATE job_feeds SET last_seen_run_id = ?, missed = 0"
        " WHERE feed_url = ? AND job_id IN (SELECT value FROM json_each(?))",
        (run_id, feed_url, ids),
    )
    return {row[0] for row in rows}


def on_close(
    conn: Conn,
    run: ImportRun,
    status: RunStatus,
    error: FeedErrorInfo | None,
    stamp: str,
    expire_after_runs: int,
) -> int:
    """Count the misses of a run that closes with `status` and expire the jobs they complete;
    returns how many jobs it expired (0 for a run that did not read the whole document)."""
    if not reads_whole_document(status, error, run.failure_counts):
        return 0
    if status is RunStatus.NOT_MODIFIED:
        # The document is the one the previous run read: it lists nothing new, and misses
        # again only what that one already missed.
        conn.execute(
            "UPDATE job_feeds SET missed = missed + 1"
            " WHERE feed_url = ? AND missed > 0 AND missed < ?",
            (run.feed_url, expire_after_runs),
        )
    else:
        # Links already at the threshold stay there: no rewriting the feed's whole history.
        conn.execute(
            "UPDATE job_feeds SET missed = missed + 1"
            " WHERE feed_url = ? AND last_seen_run_id IS NOT ? AND missed < ?",
            (run.feed_url, run.id, expire_after_runs),
        )
    cursor = conn.execute(
        "UPDATE jobs SET status = ?, expired_at = ? WHERE status = ?"
        " AND id IN (SELECT job_id FROM job_feeds WHERE feed_url = ? AND missed >= ?)"
        " AND NOT EXISTS (SELECT 1 FROM job_feeds AS other"
        " WHERE other.job_id = jobs.id AND other.missed < ?)",
        (_EXPIRED, stamp, _ACTIVE, run.feed_url, expire_after_runs, expire_after_runs),
    )
    return cursor.rowcount


def retire_links(conn: Conn, feed_url: str, expire_after_runs: int) -> None:
    """A deleted feed will never list its jobs again: its links count as missed enough, so a
    job it shared with other feeds expires when those miss it. A job only it listed is not
    looked at again (no run of that feed closes) and stays as it is."""
    conn.execute(
        "UPDATE job_feeds SET missed = ? WHERE feed_url = ? AND missed < ?",
        (expire_after_runs, feed_url, expire_after_runs),
    )
