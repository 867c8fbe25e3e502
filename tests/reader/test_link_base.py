"""What relative links resolve against, fetched from a real server: the nearest `xml:base`,
else the response's `Content-Location`, else the final URL after redirects; the job's source
stays the feed URL's (its identity does not move with a redirect)."""

from __future__ import annotations

from collections.abc import Callable

from jobimport.models import Job
from jobimport.reader.document import DocumentReader
from jobimport.reader.fetch import make_client_session, open_feed
from jobimport.settings import Settings
from tests.feedserver import FeedServer

DOC = b"""<rss version="2.0"><channel>
<item><title>Relative</title><link>jobs/1</link><guid>1</guid>
  <description>&lt;a href="apply"&gt;Apply&lt;/a&gt;</description>
  <enclosure url="files/1.pdf" type="application/pdf"/></item>
</channel></rss>"""
BASED = DOC.replace(b"<channel>", b'<channel xml:base="https://base.example.test/x/">')


async def read(url: str, settings: Settings) -> Job:
    async with (
        make_client_session(settings) as session,
        open_feed(session, url, settings) as response,
    ):
        reader = DocumentReader(url, charset=response.charset, base_url=response.base_url)
        entries = [e async for chunk in response.chunks() for e in reader.feed(chunk)]
    (job,) = entries + reader.close()
    assert isinstance(job, Job)
    return job


async def test_links_resolve_against_the_final_url_after_a_redirect(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    feeds.put("/moved/feed.xml", DOC)
    url = feeds.put("/feed", b"", status=302, headers={"Location": "/moved/feed.xml"})
    job = await read(url, make_settings())
    assert job.url == feeds.url("/moved/jobs/1")
    assert job.enclosures[0].url == feeds.url("/moved/files/1.pdf")
    # Links in the description resolve against the item's own page, itself from the new base.
    assert f'href="{feeds.url("/moved/jobs/apply")}"' in job.description_html
    assert job.source == "127.0.0.1"  # the feed URL's host


async def test_content_location_outranks_the_url_and_xml_base_outranks_both(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    located = feeds.put("/feed", DOC, headers={"Content-Location": "/elsewhere/feed.xml"})
    job = await read(located, make_settings())
    assert job.url == feeds.url("/elsewhere/jobs/1")
    assert job.enclosures[0].url == feeds.url("/elsewhere/files/1.pdf")
    based = feeds.put("/based", BASED, headers={"Content-Location": "/elsewhere/feed.xml"})
    job = await read(based, make_settings())
    assert job.url == "https://base.example.test/x/jobs/1"
    assert job.enclosures[0].url == "https://base.example.test/x/files/1.pdf"


async def test_a_content_location_that_is_not_http_is_ignored(
    feeds: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    url = feeds.put("/feed", DOC, headers={"Content-Location": "ftp://files.example.test/f/"})
    job = await read(url, make_settings())
    assert job.url == feeds.url("/jobs/1")
