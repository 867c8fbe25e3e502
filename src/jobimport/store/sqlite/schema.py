"""The SQLite schema of the embedded store and its forward migrations.

`MIGRATIONS[i]` moves the schema from version i to i + 1: SQL statements, or Python steps for what
SQL cannot compute. A migration is never edited once released: a change to the stored shape
appends a new one and bumps `base.SCHEMA_VERSION`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from jobimport.errors import StoreError
from jobimport.models import feed_id
from jobimport.store.base import SCHEMA_VERSION

_IN_FLIGHT = "('queued', 'running')"

_V1 = (
    """
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        last_run_id TEXT,
        last_run_at TEXT,
        last_status TEXT,
        last_success_at TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_run_at TEXT
    )
    """,
    """
    CREATE TABLE import_logs (
        id TEXT PRIMARY KEY,
        feed_url TEXT NOT NULL,
        status TEXT NOT NULL,
        trigger TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        duration_ms INTEGER,
        fetched INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        failure_counts TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        fetch TEXT,
        batches_total INTEGER,
        batches_done INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0
    )
    """,
    # At most one run in flight per feed, whichever process tries to start one.
    f"""
    CREATE UNIQUE INDEX import_logs_in_flight ON import_logs (feed_url)
    WHERE status IN {_IN_FLIGHT}
    """,
    "CREATE INDEX import_logs_feed_created ON import_logs (feed_url, created_at, id)",
    # One index per sortable column of the history page (list_runs); `id` breaks ties.
    "CREATE INDEX import_logs_created ON import_logs (created_at, id)",
    "CREATE INDEX import_logs_started ON import_logs (started_at, id)",
    "CREATE INDEX import_logs_duration ON import_logs (duration_ms, id)",
    "CREATE INDEX import_logs_status ON import_logs (status, id)",
    "CREATE INDEX import_logs_fetched ON import_logs (fetched, id)",
    "CREATE INDEX import_logs_new ON import_logs (new, id)",
    "CREATE INDEX import_logs_updated ON import_logs (updated, id)",
    "CREATE INDEX import_logs_unchanged ON import_logs (unchanged, id)",
    "CREATE INDEX import_logs_failed ON import_logs (failed, id)",
    """
    CREATE TABLE run_failures (
        run_id TEXT NOT NULL REFERENCES import_logs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        reason TEXT NOT NULL,
        message TEXT NOT NULL,
        position INTEGER,
        identity TEXT,
        url TEXT,
        title TEXT,
        PRIMARY KEY (run_id, seq)
    )
    """,
    """
    CREATE TABLE batch_results (
        run_id TEXT NOT NULL REFERENCES import_logs (id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        fetched INTEGER NOT NULL,
        new INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        failures TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, n)
    )
    """,
    """
    CREATE TABLE staged_batches (
        run_id TEXT NOT NULL REFERENCES import_logs (id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        entries TEXT NOT NULL,
        staged_at TEXT NOT NULL,
        PRIMARY KEY (run_id, n)
    )
    """,
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        title TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        company TEXT,
        location TEXT,
        job_type TEXT,
        categories TEXT NOT NULL DEFAULT '[]',
        summary TEXT,
        description_html TEXT NOT NULL DEFAULT '',
        description_text TEXT NOT NULL DEFAULT '',
        url TEXT,
        logo_url TEXT,
        published_at TEXT,
        raw TEXT NOT NULL DEFAULT '{}',
        position INTEGER NOT NULL DEFAULT 0,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        last_changed_at TEXT NOT NULL,
        first_seen_run_id TEXT NOT NULL,
        last_seen_run_id TEXT NOT NULL,
        last_changed_run_id TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX jobs_identity ON jobs (source, external_id)",
    "CREATE INDEX jobs_changed ON jobs (last_changed_at DESC, position, id)",
    "CREATE INDEX jobs_source_changed ON jobs (source, last_changed_at DESC)",
    "CREATE INDEX jobs_company ON jobs (company)",
    # The feeds that listed a job; rowid keeps the order in which they were first seen.
    """
    CREATE TABLE job_feeds (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        feed_url TEXT NOT NULL,
        UNIQUE (job_id, feed_url)
    )
    """,
    "CREATE INDEX job_feeds_feed ON job_feeds (feed_url, job_id)",
)

# v2: the reconciler's bookkeeping. `updated_at` is the last time anything about a run changed
# (every write to the run sets it); runs written before it get their latest known time.
# `requeues` counts the reconciler's re-enqueues of the run's work.
_V2 = (
    "ALTER TABLE import_logs ADD COLUMN updated_at TEXT",
    "ALTER TABLE import_logs ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0",
    "UPDATE import_logs SET updated_at = coalesce(finished_at, started_at, created_at)",
    # list_stale_runs: in-flight runs idle the longest; the partial index holds only those.
    f"""
    CREATE INDEX import_logs_stale ON import_logs (updated_at, id)
    WHERE status IN {_IN_FLIGHT}
    """,
    # list_runs sorted by updated_at, like the other sortable columns.
    "CREATE INDEX import_logs_updated_at ON import_logs (updated_at, id)",
)


Step = str | Callable[[sqlite3.Connection], None]
"""One step of a migration: a SQL statement, or a Python step on the connection."""


def _fill_feed_ids(conn: sqlite3.Connection) -> None:
    """feeds.id = models.feed_id(url), a hash SQLite has no function for."""
    urls = [row[0] for row in conn.execute("SELECT url FROM feeds")]
    conn.executemany("UPDATE feeds SET id = ? WHERE url = ?", [(feed_id(u), u) for u in urls])


# v3: feeds as data (settings, origin, public id, alert), cancel/retry/retention of runs, and job
# expiry. Feeds stored before are ADHOC until `seed_feeds` marks the configured ones CONFIG. Each
# (job, feed) link remembers the run that last listed the job and the whole-document runs of that
# feed that missed it since (store.base, expiry rule).
_V3: tuple[Step, ...] = (
    "ALTER TABLE feeds ADD COLUMN id TEXT",
    "ALTER TABLE feeds ADD COLUMN name TEXT",
    "ALTER TABLE feeds ADD COLUMN schedule TEXT",
    "ALTER TABLE feeds ADD COLUMN paused INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE feeds ADD COLUMN origin TEXT NOT NULL DEFAULT 'adhoc'",
    "ALTER TABLE feeds ADD COLUMN headers TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE feeds ADD COLUMN created_at TEXT",
    "ALTER TABLE feeds ADD COLUMN alerted_at TEXT",
    _fill_feed_ids,
    "CREATE UNIQUE INDEX feeds_id ON feeds (id)",
    # list_feeds: the registered feeds, oldest first.
    "CREATE INDEX feeds_origin_created ON feeds (origin, created_at, url)",
    "ALTER TABLE import_logs ADD COLUMN retry_of TEXT",
    "ALTER TABLE import_logs ADD COLUMN expired INTEGER NOT NULL DEFAULT 0",
    # prune_runs: final runs by finish time (and creation time for those that never finished).
    "CREATE INDEX import_logs_finished ON import_logs (finished_at, id)",
    "ALTER TABLE jobs ADD COLUMN status TEXT NOT NULL DEFAULT 'active'",
    "ALTER TABLE jobs ADD COLUMN expired_at TEXT",
    # list_jobs filtered by status, in its default order.
    "CREATE INDEX jobs_status_changed ON jobs (status, last_changed_at DESC, position, id)",
    "ALTER TABLE job_feeds ADD COLUMN last_seen_run_id TEXT",
    "ALTER TABLE job_feeds ADD COLUMN missed INTEGER NOT NULL DEFAULT 0",
    # Any earlier run id will do: the next run of the feed either lists the job or misses it.
    """
    UPDATE job_feeds SET last_seen_run_id =
        (SELECT jobs.last_seen_run_id FROM jobs WHERE jobs.id = job_feeds.job_id)
    """,
)

# v4: leniencies by reason (WarningReason) on runs and on batch results.
_V4: tuple[Step, ...] = (
    "ALTER TABLE import_logs ADD COLUMN warnings TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE batch_results ADD COLUMN warnings TEXT NOT NULL DEFAULT '{}'",
)

# v5: the job's author and enclosures (a JSON list of {url, type, length}). The content hash
# covers them only when set (reader.identity.HASHED_WHEN_SET), so the stored hashes stay right.
_V5: tuple[Step, ...] = (
    "ALTER TABLE jobs ADD COLUMN author TEXT",
    "ALTER TABLE jobs ADD COLUMN enclosures TEXT NOT NULL DEFAULT '[]'",
)

# v6: why jobimport paused a feed at start (a stored header value or schedule now refused).
_V6: tuple[Step, ...] = ("ALTER TABLE feeds ADD COLUMN pause_note TEXT",)

# v7: what the feed said of a job when it last listed it (models.SeenItem), per link.
_V7: tuple[Step, ...] = ("ALTER TABLE job_feeds ADD COLUMN fingerprint TEXT",)

# v8: per-hour rollups of final runs (store/rollups.py), so the history chart, the counters and
# the listings' totals never count 20 million runs. Built here from the final runs already stored;
# from then on close_run adds a run to its hour and prune_runs takes it out (sqlite/rollups.py).
_V8: tuple[Step, ...] = (
    """
    CREATE TABLE run_hours (
        hour TEXT NOT NULL,
        status TEXT NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        with_failures INTEGER NOT NULL DEFAULT 0,
        fetched INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, status)
    ) WITHOUT ROWID
    """,
    # created_at is fixed-width ISO text: its first 13 characters are the hour.
    f"""
    INSERT INTO run_hours (hour, status, runs, with_failures, fetched, new, updated, unchanged,
        failed, expired)
    SELECT substr(created_at, 1, 13) || ':00:00.000000+00:00', status, count(*),
        sum(failed > 0 OR error IS NOT NULL), sum(fetched), sum(new), sum(updated),
        sum(unchanged), sum(failed), sum(expired)
    FROM import_logs WHERE status NOT IN {_IN_FLIGHT}
    GROUP BY 1, 2
    """,
)

# v9: list_due_feeds, the tick's keyset pages of due feeds by (next_run_at, url).
_V9: tuple[Step, ...] = ("CREATE INDEX feeds_due ON feeds (next_run_at, url)",)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9)

if len(MIGRATIONS) != SCHEMA_VERSION:  # pragma: no cover - caught by any test run
    raise RuntimeError("schema.MIGRATIONS does not match base.SCHEMA_VERSION")


def current_version(conn: sqlite3.Connection) -> int:
    """The highest applied migration, 0 for a fresh file."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, applied_at: str) -> int:
    """Bring the schema to SCHEMA_VERSION in one IMMEDIATE transaction, so two processes starting
    together apply each migration once. Refuses a file written by a newer release."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this release "
                f"({SCHEMA_VERSION}); upgrade jobimport"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for step in MIGRATIONS[target - 1]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (target, applied_at),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
