"""Schema 5 adds the job's author and enclosures. A file written by release 4 migrates without
touching its jobs, and the content hash it stored stays right: re-reading the same feed counts
a job `unchanged`, unless the item names an author or an enclosure it now reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from jobimport.models import Job, RunCounts
from jobimport.reader.document import DocumentReader
from jobimport.reader.identity import HASHED_FIELDS, content_hash
from jobimport.store.base import SCHEMA_VERSION
from jobimport.store.sqlite import SqliteStore
from jobimport.store.sqlite import queries as q
from jobimport.store.sqlite.schema import MIGRATIONS
from tests.store.test_contract import import_run

FEED = "https://feeds.example.test/jobs"
RUN = "a" * 24
FEED_DOC = b"""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<item><title>Plain</title><link>https://x.test/1</link><guid>1</guid></item>
<item><title>Credited</title><link>https://x.test/2</link><guid>2</guid>
  <dc:creator>Jane Roe</dc:creator>
  <enclosure url="/2.pdf" type="application/pdf" length="99"/></item>
</channel></rss>"""
V4_COLUMNS = tuple(c for c in q.JOB_CONTENT_COLUMNS if c not in ("author", "enclosures"))


def read_jobs() -> list[Job]:
    reader = DocumentReader(FEED)
    entries = reader.feed(FEED_DOC) + reader.close()
    assert all(isinstance(e, Job) for e in entries)
    return [e for e in entries if isinstance(e, Job)]


def v4_hash(job: Job) -> str:
    """The hash release 4 stored: over HASHED_FIELDS alone (it read no author or enclosure)."""
    return content_hash({name: getattr(job, name) for name in HASHED_FIELDS})


def schema_4_file(db: Path, jobs: list[Job]) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for version in range(1, 5):
            for step in MIGRATIONS[version - 1]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, '2026-01-01T00:00:00Z')", (version,)
            )
        for job in jobs:
            values = dict(zip(q.JOB_CONTENT_COLUMNS, q.job_content_params(job), strict=True))
            values["content_hash"] = v4_hash(job)
            columns = ", ".join(V4_COLUMNS)
            conn.execute(
                f"INSERT INTO jobs (id, source, external_id, {columns}, first_seen_at,"
                " last_seen_at, last_changed_at, first_seen_run_id, last_seen_run_id,"
                f" last_changed_run_id) VALUES (?, ?, ?, {', '.join('?' * len(V4_COLUMNS))},"
                " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', ?, ?, ?)",
                (
                    job.id,
                    job.source,
                    job.external_id,
                    *(values[c] for c in V4_COLUMNS),
                    RUN,
                    RUN,
                    RUN,
                ),
            )
            conn.execute("INSERT INTO job_feeds (job_id, feed_url) VALUES (?, ?)", (job.id, FEED))
    finally:
        conn.close()


async def test_a_schema_4_file_keeps_its_hashes_and_rereads_honestly(tmp_path: Path) -> None:
    plain, credited = read_jobs()
    assert plain.content_hash == v4_hash(plain)  # no author, no enclosure: the hash of release 4
    assert credited.content_hash != v4_hash(credited)
    db = tmp_path / "v4.db"
    schema_4_file(db, [plain, credited])
    store = SqliteStore(db)
    await store.open()
    try:
        assert await store.schema_version() == SCHEMA_VERSION >= 5
        before = await store.get_job(credited.id)
        assert before is not None
        assert (before.job.author, before.job.enclosures) == (None, ())
        assert before.job.content_hash == v4_hash(credited)

        run = await import_run(store, [[plain, credited]], feed=FEED)
        # The plain job is unchanged; the credited one gains what is now read, once.
        assert run.counts == RunCounts(fetched=2, updated=1, unchanged=1)
        after = await store.get_job(credited.id)
        assert after is not None
        assert after.job.author == "Jane Roe"
        assert [e.url for e in after.job.enclosures] == ["https://feeds.example.test/2.pdf"]
        again = await import_run(store, [[plain, credited]], feed=FEED)
        assert again.counts == RunCounts(fetched=2, unchanged=2)
    finally:
        await store.close()
