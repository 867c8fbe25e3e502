"""The hourly steady state: an item its feed repeats as it was is staged as a sighting
(`SeenItem`), not normalized, staged whole or applied again, yet counted exactly as
`unchanged`, with `lastSeenAt`, `lastSeenRunId` and its feed link moved. Real HTTP on loopback,
real SQLite, the pipeline's own steps."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from jobimport.models import ImportRun, Job, RunCounts, SeenItem, StagedEntry
from jobimport.pipeline import Pipeline
from jobimport.reader import normalize
from jobimport.reader.fetch import make_client_session
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import JobQuery, Store
from tests.feedgen import items, rss
from tests.feedserver import FeedServer

BATCH = 4


@pytest.fixture
async def pipeline(make_settings: Callable[..., Settings]) -> AsyncIterator[Pipeline]:
    settings = make_settings(batch_size=BATCH)
    store: Store = open_store(settings.database_url)
    await store.open()
    async with make_client_session(settings) as session:
        yield Pipeline(settings, store, session)
    await store.close()


async def import_staged(pipeline: Pipeline, url: str) -> tuple[ImportRun, list[StagedEntry]]:
    """A whole run, as `tests.inline.import_inline`, also returning every staged entry."""
    run, _ = await pipeline.store.start_or_get_run(url, "cli")
    run = await pipeline.fetch_and_stage(run.id)
    staged: list[StagedEntry] = []
    for n in await pipeline.store.pending_batches(run.id):
        staged += await pipeline.store.load_staged_batch(run.id, n) or []
        run = await pipeline.apply_batch(run.id, n)
    return run, staged


def kinds(entries: list[StagedEntry]) -> list[str]:
    return [type(entry).__name__ for entry in entries]


async def test_an_unchanged_reimport_stages_sightings_and_counts_exactly(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 11))), validators=False)
    first, staged = await import_staged(pipeline, url)
    assert first.counts == RunCounts(fetched=10, new=10)
    assert set(kinds(staged)) == {"Job"}
    before = {r.id: r for r in (await pipeline.store.list_jobs(JobQuery(limit=100))).items}

    again, staged = await import_staged(pipeline, url)
    assert again.counts == RunCounts(fetched=10, unchanged=10)
    assert kinds(staged) == ["SeenItem"] * 10  # nothing normalized, staged or applied whole
    after = {r.id: r for r in (await pipeline.store.list_jobs(JobQuery(limit=100))).items}
    assert after.keys() == before.keys()
    for job_id, record in after.items():
        old = before[job_id]
        assert record.job == old.job  # content untouched
        assert (record.last_changed_run_id, record.last_changed_at) == (
            old.last_changed_run_id,
            old.last_changed_at,
        )
        assert record.last_seen_run_id == again.id
        assert record.last_seen_at > old.last_seen_at


async def test_a_changed_item_among_unchanged_ones_is_updated(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    feed = items(range(1, 10))
    url = feeds.put("/feed", rss(feed), validators=False)
    await import_staged(pipeline, url)
    feed[4] = feed[4].with_(description="<p>Build other things.</p>")
    feed[7] = feed[7].with_(location="Elsewhere")
    feeds.put("/feed", rss(feed), validators=False)

    run, staged = await import_staged(pipeline, url)
    assert run.counts == RunCounts(fetched=9, updated=2, unchanged=7)
    whole = [e for e in staged if isinstance(e, Job)]
    assert sorted(job.position for job in whole) == [4, 7]
    record = await pipeline.store.get_job(whole[0].id)
    assert record is not None
    assert "other things" in record.job.description_html


async def test_a_normalizer_version_change_reads_every_item_again_once(
    feeds: FeedServer, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 7))), validators=False)
    await import_staged(pipeline, url)
    monkeypatch.setattr(normalize, "NORMALIZER_VERSION", normalize.NORMALIZER_VERSION + 1)

    recomputed, staged = await import_staged(pipeline, url)
    assert set(kinds(staged)) == {"Job"}  # every fingerprint changed
    assert recomputed.counts == RunCounts(fetched=6, unchanged=6)  # the content did not
    settled, staged = await import_staged(pipeline, url)
    assert (settled.counts, set(kinds(staged))) == (RunCounts(fetched=6, unchanged=6), {"SeenItem"})


async def test_jobs_stored_without_a_fingerprint_get_one_on_their_next_run(
    feeds: FeedServer, pipeline: Pipeline, make_settings: Callable[..., Settings]
) -> None:
    url = feeds.put("/feed", rss(items(range(1, 6))), validators=False)
    await import_staged(pipeline, url)
    database = Path(make_settings().database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as conn:  # as schema v6 left them
        conn.execute("UPDATE job_feeds SET fingerprint = NULL")
    conn.close()

    upgraded, staged = await import_staged(pipeline, url)
    assert (upgraded.counts, set(kinds(staged))) == (RunCounts(fetched=5, unchanged=5), {"Job"})
    _, staged = await import_staged(pipeline, url)
    assert set(kinds(staged)) == {"SeenItem"}


async def test_each_feed_of_a_shared_job_skips_its_own_unchanged_items(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    """The fingerprint lives on the job's link to each feed: two feeds listing one job (with
    different bases, so different fingerprints) both skip it once they have read it."""
    a = feeds.put("/a", rss(items(range(1, 6))), validators=False)
    b = feeds.put("/b", rss(items(range(4, 9))), validators=False)
    for url in (a, b):
        await import_staged(pipeline, url)
    for url in (a, b, a):
        run, staged = await import_staged(pipeline, url)
        assert (run.counts, set(kinds(staged))) == (
            RunCounts(fetched=5, unchanged=5),
            {"SeenItem"},
        )


async def test_warnings_of_skipped_items_still_count(feeds: FeedServer, pipeline: Pipeline) -> None:
    odd = [item.with_(pub_date="next tuesday") for item in items(range(1, 4))]
    url = feeds.put("/feed", rss(odd), validators=False)
    first, _ = await import_staged(pipeline, url)
    again, staged = await import_staged(pipeline, url)
    assert set(kinds(staged)) == {"SeenItem"}
    assert first.warnings == again.warnings == {"date_unparsed": 3}
    assert all(isinstance(e, SeenItem) and e.warnings == ("date_unparsed",) for e in staged)
