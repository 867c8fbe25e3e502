"""`author` and `enclosures`, from every format that names them."""

from __future__ import annotations

import json

import pytest

from jobimport.models import Enclosure, Job
from jobimport.reader.document import DocumentReader
from jobimport.reader.fields import MAX_ENCLOSURES
from jobimport.reader.identity import content_hash_of

FEED = "https://feeds.example.test/jobs/feed.xml"
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'


def read(body: bytes) -> list[Job]:
    reader = DocumentReader(FEED)
    entries = reader.feed(body) + reader.close()
    assert reader.error is None
    assert all(isinstance(e, Job) for e in entries), entries
    return [e for e in entries if isinstance(e, Job)]


def rss(item_xml: str) -> bytes:
    return (
        f"<rss version='2.0' {DC} {ITUNES}><channel><item><title>T</title>"
        f"<link>https://x.test/1</link>{item_xml}</item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("item_xml", "author"),
    [
        ("<author>jobs@x.test (Jane Roe)</author>", "Jane Roe"),
        ("<author>jobs@x.test</author>", "jobs@x.test"),
        ("<author>Jane Roe</author>", "Jane Roe"),
        ("<dc:creator>  Jane\n Roe </dc:creator><author>x@x.test (Other)</author>", "Jane Roe"),
        ("<itunes:author>Pod Caster</itunes:author>", "Pod Caster"),
        ("<dc:creator><![CDATA[<b>Bold</b> &amp; Co]]></dc:creator>", "Bold & Co"),
        ("<dc:creator> </dc:creator><author>Second</author>", "Second"),
        ("", None),
    ],
)
def test_rss_author(item_xml: str, author: str | None) -> None:
    (job,) = read(rss(item_xml))
    assert job.author == author


def test_atom_authors_are_their_names() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>e1</id><title>T</title>
      <author><name>Jane Roe</name><email>j@x.test</email></author>
      <author><name>Rick Moe</name></author>
      <link rel="enclosure" href="/spec.pdf" type="application/pdf" length="42"/>
      <link rel="alternate" href="https://x.test/e1"/></entry></feed>"""
    (job,) = read(body)
    assert job.author == "Jane Roe, Rick Moe"
    assert job.enclosures == (
        Enclosure("https://feeds.example.test/spec.pdf", "application/pdf", 42),
    )
    assert job.url == "https://x.test/e1"


def test_json_feed_authors_and_attachments() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "authors": [{"name": "The Feed"}],
        "items": [
            {"id": "1", "title": "A", "url": "https://x.test/1"},
            {"id": "2", "title": "B", "url": "https://x.test/2", "author": {"name": "Old <Style>"}},
            {
                "id": "3",
                "title": "C",
                "url": "https://x.test/3",
                "authors": [{"name": "Jo"}, {"url": "no-name"}, {"name": "Ann"}],
                "attachments": [
                    {"url": "a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 7},
                    {"url": "https://x.test/b", "size_in_bytes": "7"},
                    {"mime_type": "no/url"},
                    "not an object",
                ],
            },
        ],
    }
    one, two, three = read(json.dumps(doc).encode())
    assert (one.author, two.author, three.author) == ("The Feed", "Old <Style>", "Jo, Ann")
    assert three.enclosures == (
        Enclosure("https://feeds.example.test/jobs/a.mp3", "audio/mpeg", 7),
        Enclosure("https://x.test/b"),
    )


def test_enclosures_keep_http_urls_once_and_readable_lengths() -> None:
    enclosures = "".join(
        [
            '<enclosure url="https://x.test/a.pdf" type=" application/pdf " length="10"/>',
            '<enclosure url="https://x.test/a.pdf" type="text/plain" length="99"/>',  # repeat
            '<enclosure url="javascript:alert(1)" type="text/html"/>',
            '<enclosure url="data:text/plain,hi"/>',
            '<enclosure url="" type="x/y"/>',
            '<enclosure url="b.pdf" length="-3"/>',
            f'<enclosure url="c.pdf" length="{"9" * 5000}"/>',
            '<enclosure url="d.pdf" length="0"/>',
        ]
    )
    (job,) = read(rss(enclosures))
    assert job.enclosures == (
        Enclosure("https://x.test/a.pdf", "application/pdf", 10),
        Enclosure("https://feeds.example.test/jobs/b.pdf"),
        Enclosure("https://feeds.example.test/jobs/c.pdf"),
        Enclosure("https://feeds.example.test/jobs/d.pdf", None, 0),
    )


def test_enclosures_past_the_cap_are_left_out_of_the_job_not_the_raw_item() -> None:
    many = "".join(f'<enclosure url="/{i}.pdf"/>' for i in range(MAX_ENCLOSURES + 5))
    (job,) = read(rss(many))
    assert [e.url for e in job.enclosures] == [
        f"https://feeds.example.test/{i}.pdf" for i in range(MAX_ENCLOSURES)
    ]
    assert len(job.raw["enclosure"]) == MAX_ENCLOSURES + 5


def test_author_and_enclosures_join_the_content_hash_only_when_set() -> None:
    (plain,) = read(rss(""))
    (credited,) = read(rss("<author>Jane</author>"))
    (attached,) = read(rss('<enclosure url="https://x.test/a.pdf"/>'))
    hashes = {plain.content_hash, credited.content_hash, attached.content_hash}
    assert len(hashes) == 3
    for job in (plain, credited, attached):
        assert content_hash_of(job) == job.content_hash
