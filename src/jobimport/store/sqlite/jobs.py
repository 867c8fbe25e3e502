"""Jobs in the SQLite store: upserting one job with its classification (new, updated,
unchanged) and loading jobs with their feeds. Runs inside the caller's transaction."""

from __future__ import annotations

import json
import sqlite3

from jobimport.models import Job
from jobimport.store.base import JobRecord
from jobimport.store.sqlite import expiry
from jobimport.store.sqlite import queries as q

Conn = sqlite3.Connection


def job_records(conn: Conn, rows: list[sqlite3.Row]) -> list[JobRecord]:
    """Job records with their feeds (in the order first listed), fetched in one query."""
    links = q.rows_by_parent(conn, "job_feeds", "job_id", [row["id"] for row in rows], "rowid")
    return [
        q.job_record_from_row(row, [link["feed_url"] for link in links[row["id"]]]) for row in rows
    ]


def upsert_job(conn: Conn, job: Job, run_id: str, feed_url: str, now: str) -> str:
    """Write one job and classify it (DESIGN §3). A job this run first stored, or last changed,
    keeps that classification, so a replayed batch counts as its first attempt did."""
    row = conn.execute(
        "SELECT content_hash, first_seen_run_id, last_changed_run_id FROM jobs"
        " WHERE source = ? AND external_id = ?",
        (job.source, job.external_id),
    ).fetchone()
    content = q.job_content_params(job)
    if row is None:
        columns = ", ".join(q.JOB_CONTENT_COLUMNS)
        conn.execute(
            f"INSERT INTO jobs (id, source, external_id, {columns}, first_seen_at, last_seen_at,"
            " last_changed_at, first_seen_run_id, last_seen_run_id, last_changed_run_id)"
            f" VALUES ({', '.join('?' * (len(content) + 9))})",
            (job.id, job.source, job.external_id, *content, now, now, now, run_id, run_id, run_id),
        )
        kind = "new"
    else:
        changed = row["content_hash"] != job.content_hash
        if row["first_seen_run_id"] == run_id:
            kind = "new"
        elif changed or row["last_changed_run_id"] == run_id:
            kind = "updated"
        else:
            kind = "unchanged"
        if changed:
            assignments = ", ".join(f"{c} = ?" for c in q.JOB_CONTENT_COLUMNS)
            conn.execute(
                f"UPDATE jobs SET {assignments}, last_changed_at = ?, last_changed_run_id = ?,"
                " last_seen_at = ?, last_seen_run_id = ? WHERE id = ?",
                (*content, now, run_id, now, run_id, job.id),
            )
        else:
            conn.execute(
                "UPDATE jobs SET last_seen_at = ?, last_seen_run_id = ? WHERE id = ?",
                (now, run_id, job.id),
            )
    expiry.listed(conn, job.id, feed_url, run_id, job.fingerprint)
    return kind


def link_fingerprints(conn: Conn, feed_url: str, job_ids: list[str]) -> dict[str, str]:
    """Store.link_fingerprints: the (job_id, feed_url) index answers it."""
    rows = conn.execute(
        "SELECT job_id, fingerprint FROM job_feeds WHERE feed_url = ? AND fingerprint IS NOT NULL"
        " AND job_id IN (SELECT value FROM json_each(?))",
        (feed_url, json.dumps(job_ids)),
    )
    return {row[0]: row[1] for row in rows}
