"""End to end: real HTTP on loopback → fetch → parse → normalize → stage → apply into SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from jobimport.models import ImportRun, RunStatus
from jobimport.pipeline import Pipeline
from jobimport.reader.fetch import make_client_session
from jobimport.settings import Settings
from jobimport.store import open_store
from jobimport.store.base import JobQuery, Store
from tests.feedgen import Item, items, rss
from tests.feedserver import FeedServer
from tests.inline import import_inline


@pytest.fixture
async def pipeline(make_settings: Callable[..., Settings]) -> AsyncIterator[Pipeline]:
    settings = make_settings(batch_size=7)
    store: Store = open_store(settings.database_url)
    await store.open()
    async with make_client_session(settings) as session:
        yield Pipeline(settings, store, session)
    await store.close()


def check_invariants(run: ImportRun) -> None:
    c = run.counts
    assert c.fetched == c.imported + c.failed
    assert c.imported == c.new + c.updated + c.unchanged


async def test_overlapping_feeds_give_one_job_per_identity(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    all_jobs = feeds.put("/all", rss(items(range(1, 21))))
    category = feeds.put("/data-science", rss(items(range(11, 31))))

    first = await import_inline(pipeline, all_jobs)
    second = await import_inline(pipeline, category)

    assert (first.status, first.counts.new, first.counts.fetched) == (RunStatus.SUCCEEDED, 20, 20)
    assert (second.counts.new, second.counts.unchanged) == (10, 10)
    for run in (first, second):
        check_invariants(run)
    assert await pipeline.store.count_jobs() == 30
    shared = await pipeline.store.list_jobs(JobQuery(feed_url=category, limit=100))
    both = [r for r in shared.items if set(r.feeds) == {all_jobs, category}]
    assert len(both) == 10


async def test_reimport_unchanged_then_one_edit_then_one_new(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    feed = items(range(1, 16))
    url = feeds.put("/feed", rss(feed), validators=False)
    assert (await import_inline(pipeline, url)).counts.new == 15

    again = await import_inline(pipeline, url)
    assert (again.status, again.counts.unchanged, again.counts.new) == (RunStatus.SUCCEEDED, 15, 0)

    feed[4] = feed[4].with_(description="<p>Build other things.</p>")
    feeds.put("/feed", rss(feed), validators=False)
    edited = await import_inline(pipeline, url)
    assert (edited.counts.updated, edited.counts.unchanged, edited.counts.new) == (1, 14, 0)

    feeds.put("/feed", rss([*feed, Item(id=99)]), validators=False)
    grown = await import_inline(pipeline, url)
    assert (grown.counts.new, grown.counts.unchanged, grown.counts.updated) == (1, 15, 0)
    for run in (again, edited, grown):
        check_invariants(run)


async def test_conditional_get_gives_not_modified(feeds: FeedServer, pipeline: Pipeline) -> None:
    url = feeds.put("/feed", rss(items(range(1, 4))))
    first = await import_inline(pipeline, url)
    second = await import_inline(pipeline, url)

    assert first.status is RunStatus.SUCCEEDED
    assert second.status is RunStatus.NOT_MODIFIED
    assert second.fetch is not None
    assert (second.fetch.status, second.fetch.not_modified) == (304, True)
    assert second.counts.fetched == 0
    feed = await pipeline.store.get_feed(url)
    assert feed is not None
    assert feed.last_status == "not_modified"
    assert feed.etag is not None


async def test_bad_items_fail_alone_and_run_is_partial(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    good = items(range(1, 6))
    bad_title = "<item><link>https://jobicy.com/jobs/77-x</link><id>77</id></item>"
    duplicate = Item(id=3).xml()
    url = feeds.put("/feed", rss([*good, bad_title, duplicate]))

    run = await import_inline(pipeline, url)

    assert run.status is RunStatus.PARTIAL
    assert (run.counts.fetched, run.counts.new, run.counts.failed) == (7, 5, 2)
    reasons = sorted(f.reason for f in run.failures)
    assert reasons == ["duplicate_in_feed", "missing_title"]
    assert run.failure_counts == {"duplicate_in_feed": 1, "missing_title": 1}
    check_invariants(run)


async def test_document_broken_half_way_keeps_earlier_items(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    whole = rss(items(range(1, 11)))
    cut = whole[: whole.index(b"<item><title>Job number 9")]
    url = feeds.put("/broken", cut + b"<item><title>Job number 9</tit")

    run = await import_inline(pipeline, url)

    assert run.status is RunStatus.PARTIAL
    assert run.counts.new == 8
    assert run.error is not None
    assert run.error.reason == "malformed_xml"
    assert run.error.line is not None
    assert run.error.column is not None


async def test_break_before_first_item_fails_the_run(feeds: FeedServer, pipeline: Pipeline) -> None:
    url = feeds.put("/broken", b'<?xml version="1.0"?><rss version="2.0"><channel><item><ti')
    run = await import_inline(pipeline, url)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.reason == "malformed_xml"
    assert await pipeline.store.count_jobs() == 0


async def test_empty_channel_succeeds_with_zero_items(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    url = feeds.put("/empty", rss([]))
    run = await import_inline(pipeline, url)
    assert (run.status, run.counts.fetched, run.batches_total) == (RunStatus.SUCCEEDED, 0, 0)


INCAPSULA = (
    b'<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW"></head>'
    b'<body><iframe src="/_Incapsula_Resource?SWUDNSAI=9">Request unsuccessful. '
    b"Incapsula incident ID: 1</iframe></body></html>"
)
ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<rss version="2.0"><channel><item><title>&b;</title></item></channel></rss>'
)


@pytest.mark.parametrize(
    ("doc", "reason", "status"),
    [
        ({"body": b"gone", "status": 404, "content_type": "text/plain"}, "http_4xx", 404),
        ({"body": b"oops", "status": 500, "content_type": "text/plain"}, "http_5xx", 500),
        ({"body": INCAPSULA, "status": 200, "content_type": "text/html"}, "blocked", 200),
        ({"body": INCAPSULA, "status": 403, "content_type": "text/html"}, "blocked", 403),
        ({"body": b"<html><body>Hi</body></html>", "content_type": "text/html"}, "not_a_feed", 200),
        ({"body": ENTITY_BOMB}, "entities_forbidden", 200),
        ({"body": b"<rss><channel><item><title>x</item></rss>"}, "malformed_xml", 200),
    ],
)
async def test_feed_level_failures_are_recorded_on_the_run(
    feeds: FeedServer, pipeline: Pipeline, doc: dict[str, Any], reason: str, status: int
) -> None:
    url = feeds.put("/feed", **doc)
    run = await import_inline(pipeline, url)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.reason == reason
    assert run.fetch is not None
    assert run.fetch.status == status
    feed = await pipeline.store.get_feed(url)
    assert feed is not None
    assert feed.consecutive_failures == 1


async def test_too_large_body_fails_with_too_large(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(max_feed_bytes=64 * 1024)
    url = feeds.put("/big", rss([Item(id=1, description="x" * 200_000)]))
    store = open_store(settings.database_url)
    await store.open()
    try:
        async with make_client_session(settings) as session:
            run = await import_inline(Pipeline(settings, store, session), url)
    finally:
        await store.close()
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.reason == "too_large"


async def test_refused_private_address_is_ssrf_refused(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(allow_private_addresses=False)
    url = feeds.put("/feed", rss(items(range(1, 3))))
    store = open_store(settings.database_url)
    await store.open()
    try:
        async with make_client_session(settings) as session:
            run = await import_inline(Pipeline(settings, store, session), url)
    finally:
        await store.close()
    assert run.error is not None
    assert run.error.reason == "ssrf_refused"
    assert feeds.hits.get("/feed") is None


async def test_leniencies_import_and_are_counted_as_warnings_not_failures(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    """An HTML entity, an unreadable date and a byte that is not UTF-8: every item imports,
    the run succeeds, and its warnings say what was forgiven (items once per reason, the
    document's encoding once)."""
    listed = items(range(1, 6))
    listed[0] = listed[0].with_(title="Caf&eacute;&nbsp;lead")
    listed[1] = listed[1].with_(pub_date="next Tuesday-ish", title="Ops &mdash; &nbsp;on call")
    listed[2] = listed[2].with_(pub_date="someday")
    body = rss(listed).replace(b"Teaser of job 4", b"Teaser of job 4 \xff")
    run = await import_inline(pipeline, feeds.put("/lenient", body))
    check_invariants(run)
    assert run.status is RunStatus.SUCCEEDED
    assert (run.counts.new, run.counts.failed) == (5, 0)
    assert run.warnings == {"html_entity": 2, "date_unparsed": 2, "encoding_replaced": 1}
    page = await pipeline.store.list_jobs(JobQuery(text="lead"))
    assert [record.job.title for record in page.items] == ["Café lead"]  # a title is plain text


RDF_FEED = (
    b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b'<channel rdf:about="x"><title>RDF jobs</title></channel>'
    b'<item rdf:about="https://e.org/1"><title>One</title><link>https://e.org/1</link>'
    b"<dc:subject>Ops</dc:subject></item>"
    b'<item rdf:about="https://e.org/2"><title>Two</title><link>https://e.org/2</link></item>'
    b"</rdf:RDF>"
)


async def test_rss_1_0_feed_imports(feeds: FeedServer, pipeline: Pipeline) -> None:
    url = feeds.put("/rdf", RDF_FEED, content_type="application/rdf+xml")
    run = await import_inline(pipeline, url)

    assert (run.status, run.counts.new, run.counts.failed) == (RunStatus.SUCCEEDED, 2, 0)
    page = await pipeline.store.list_jobs(JobQuery(category="Ops"))
    assert [(r.job.title, r.job.url) for r in page.items] == [("One", "https://e.org/1")]


ATOM_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>Atom jobs</title><id>urn:jobs</id><updated>2024-05-01T00:00:00Z</updated>"
    b"<entry><id>urn:job:1</id><title>Atom one</title><link href='https://e.org/a1'/>"
    b"<updated>2024-05-01T00:00:00Z</updated><category term='ops'/>"
    b"<content type='html'>&lt;p&gt;Run &lt;b&gt;it&lt;/b&gt;&lt;/p&gt;</content></entry>"
    b"<entry><id>urn:job:2</id><title>Atom two</title><link href='https://e.org/a2'/>"
    b"<updated>2024-05-02T00:00:00Z</updated></entry></feed>"
)


async def test_atom_feed_imports(feeds: FeedServer, pipeline: Pipeline) -> None:
    url = feeds.put("/atom", ATOM_FEED, content_type="application/atom+xml")
    run = await import_inline(pipeline, url)

    assert (run.status, run.counts.new, run.counts.failed) == (RunStatus.SUCCEEDED, 2, 0)
    page = await pipeline.store.list_jobs(JobQuery(category="ops"))
    assert [(r.job.title, r.job.url, r.job.external_id) for r in page.items] == [
        ("Atom one", "https://e.org/a1", "urn:job:1")
    ]
    assert page.items[0].job.description_html == "<p>Run <b>it</b></p>"


JSON_FEED = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "JSON jobs",'
    b' "home_page_url": "https://e.org/jobs/", "items": ['
    b'{"id": 1, "url": "j1", "title": "JSON one", "tags": ["ops"],'
    b' "content_html": "<p>Run <b>it</b></p>", "date_published": "2024-05-01T00:00:00Z"},'
    b'{"id": "j2", "url": "https://e.org/j2", "title": "JSON two", "content_text": "a < b"}]}'
)


@pytest.mark.parametrize("content_type", ["application/feed+json", "application/json"])
async def test_json_feed_imports(feeds: FeedServer, pipeline: Pipeline, content_type: str) -> None:
    url = feeds.put("/json", JSON_FEED, content_type=content_type)
    run = await import_inline(pipeline, url)

    assert (run.status, run.counts.new, run.counts.failed) == (RunStatus.SUCCEEDED, 2, 0)
    page = await pipeline.store.list_jobs(JobQuery(category="ops"))
    assert [(r.job.title, r.job.url, r.job.external_id) for r in page.items] == [
        ("JSON one", "https://e.org/jobs/j1", "1")
    ]
    assert page.items[0].job.description_html == "<p>Run <b>it</b></p>"


async def test_json_that_is_not_a_json_feed_fails_as_not_a_feed(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    url = feeds.put("/other.json", b'{"jobs": []}', content_type="application/json")
    run = await import_inline(pipeline, url)

    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.reason == "not_a_feed"


BASE_FEED = (
    b'<rss version="2.0" xml:base="../jobs/"><channel><title>J</title>'
    b"<item><title>Based</title><link>7</link>"
    b"<description>&lt;a href='apply'&gt;Apply&lt;/a&gt;</description></item></channel></rss>"
)


async def test_xml_base_resolves_against_the_content_location(
    feeds: FeedServer, pipeline: Pipeline
) -> None:
    headers = {"Content-Location": "https://elsewhere.example/x/"}
    url = feeds.put("/feeds/all", BASE_FEED, headers=headers)
    run = await import_inline(pipeline, url)

    assert (run.status, run.counts.new) == (RunStatus.SUCCEEDED, 1)
    job = (await pipeline.store.list_jobs(JobQuery(feed_url=url))).items[0].job
    assert job.url == "https://elsewhere.example/jobs/7"
    assert 'href="https://elsewhere.example/jobs/apply"' in job.description_html
    assert job.source == "127.0.0.1"  # the feed URL's, wherever the document says it lives
