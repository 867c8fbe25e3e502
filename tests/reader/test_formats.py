"""RSS 0.90-2.0 (RDF, namespaced, Dublin Core) and Atom 1.0/0.3: one small document per shape,
parsed whole and in chunks, normalized, with the exact job fields it must give."""

from __future__ import annotations

from typing import Any

import pytest

from jobimport.models import Job
from jobimport.reader.normalize import Normalizer
from tests.reader.chunked import parse_every_way

FEED = "https://jobs.example.org/feeds/all.xml?page=2"
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
DCTERMS = 'xmlns:dcterms="http://purl.org/dc/terms/"'
MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/"'
ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'


def jobs_of(doc: str) -> list[dict[str, Any]]:
    outcome = parse_every_way(doc.encode())
    assert outcome.error is None
    normalize = Normalizer(FEED)
    out = []
    for raw in outcome.items:
        job = normalize(raw)
        assert isinstance(job, Job), job
        published = job.published_at
        out.append(
            {
                "id": job.external_id,
                "title": job.title,
                "url": job.url,
                "categories": list(job.categories),
                "published": published.isoformat() if published else None,
                "summary": job.summary,
                "text": job.description_text,
            }
        )
    return out


def job(title: str, url: str | None, **more: Any) -> dict[str, Any]:
    fields = {"id": url, "title": title, "url": url, "categories": [], "published": None}
    fields |= {"summary": None, "text": ""}
    return fields | more


RSS_CASES = {
    "rss-0.90": (
        f'<rdf:RDF {RDF} xmlns="http://my.netscape.com/rdf/simple/0.9/">'
        "<channel><title>Jobs</title><link>https://jobs.example.org/</link></channel>"
        "<item><title>Welder</title><link>https://jobs.example.org/j/1</link></item>"
        "<item><title>Baker</title><link>/j/2</link></item></rdf:RDF>",
        [
            job("Welder", "https://jobs.example.org/j/1"),
            job("Baker", "https://jobs.example.org/j/2"),
        ],
    ),
    "rss-0.91-doctype": (
        '<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
        "<title>Jobs</title><item><title>Nurse</title><link>https://e.org/n</link>"
        "<description>Night shifts.</description></item></channel></rss>",
        [job("Nurse", "https://e.org/n", summary="Night shifts.", text="Night shifts.")],
    ),
    "rss-0.92": (
        '<rss version="0.92"><channel><title>Jobs</title><item><title>Pilot</title>'
        "<description>&lt;p&gt;Fly &lt;b&gt;far&lt;/b&gt;&lt;/p&gt;</description>"
        "<category>Air</category><link>https://e.org/p</link></item></channel></rss>",
        [job("Pilot", "https://e.org/p", categories=["Air"], summary="Fly far", text="Fly far")],
    ),
    "rss-1.0": (
        f'<rdf:RDF {RDF} {DC} xmlns="http://purl.org/rss/1.0/">'
        '<channel rdf:about="https://e.org/rss"><title>Jobs</title></channel>'
        '<item rdf:about="https://e.org/about/1"><title>Chef</title>'
        "<link>https://e.org/jobs/1</link><description>Cook.</description>"
        "<dc:date>2024-05-01T09:30:00+02:00</dc:date><dc:subject>Food</dc:subject>"
        "<dc:subject>Kitchen</dc:subject></item>"
        '<item rdf:about="https://e.org/jobs/2"><title>Cook</title></item></rdf:RDF>',
        [
            job(
                "Chef",
                "https://e.org/jobs/1",
                id="https://e.org/about/1",  # rdf:about stands in for the guid
                categories=["Food", "Kitchen"],
                published="2024-05-01T07:30:00+00:00",
                summary="Cook.",
                text="Cook.",
            ),
            job("Cook", "https://e.org/jobs/2"),  # and for the link
        ],
    ),
    "rss-2.0-default-namespace": (
        '<rss xmlns="http://backend.userland.com/rss2" version="2.0"><channel><title>J</title>'
        "<item><title>Driver</title><link>https://e.org/d</link><guid>d-1</guid>"
        "<pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate><category>Road</category></item>"
        "</channel></rss>",
        [
            job(
                "Driver",
                "https://e.org/d",
                id="d-1",
                categories=["Road"],
                published="2024-05-01T10:00:00+00:00",
            )
        ],
    ),
    "rss-2.0-prefixed": (
        '<r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel>'
        "<r:title>J</r:title><r:item><r:title>Miner</r:title><r:link>https://e.org/m</r:link>"
        "<r:description>Dig.</r:description></r:item></r:channel></r:rss>",
        [job("Miner", "https://e.org/m", summary="Dig.", text="Dig.")],
    ),
    "dublin-core": (
        f"<rss {DC} {DCTERMS} {MEDIA} {ITUNES}><channel><title>J</title><item>"
        "<dc:title>Tailor</dc:title><dc:description>&lt;p&gt;Sew.&lt;/p&gt;</dc:description>"
        "<link>https://e.org/t</link><dcterms:issued>2024-05-02T08:00:00Z</dcterms:issued>"
        "<dcterms:modified>2024-06-01T08:00:00Z</dcterms:modified>"
        "<media:category>Craft</media:category><itunes:category text='Fashion'>"
        "<itunes:category text='Textiles'/></itunes:category></item>"
        "<item><title>Cutter</title><link>https://e.org/c</link>"
        "<dcterms:modified>2024-06-03T08:00:00Z</dcterms:modified></item></channel></rss>",
        [
            job(
                "Tailor",
                "https://e.org/t",
                categories=["Craft", "Fashion", "Textiles"],
                published="2024-05-02T08:00:00+00:00",
                summary="Sew.",
                text="Sew.",
            ),
            job("Cutter", "https://e.org/c", published="2024-06-03T08:00:00+00:00"),
        ],
    ),
}


@pytest.mark.parametrize(("doc", "expected"), RSS_CASES.values(), ids=RSS_CASES.keys())
def test_rss_shapes(doc: str, expected: list[dict[str, Any]]) -> None:
    assert jobs_of(doc) == expected


ATOM = 'xmlns="http://www.w3.org/2005/Atom"'
ATOM_CASES = {
    "atom-1.0-content-types": (
        f"<feed {ATOM}><title>Jobs</title><id>urn:feed</id>"
        "<entry><id>urn:job:1</id><title type='html'>Sous &lt;b&gt;chef&lt;/b&gt;</title>"
        "<link rel='edit' href='https://e.org/edit/1'/><link rel='alternate' href='/jobs/1'/>"
        "<content type='html'>&lt;p&gt;Cook &lt;i&gt;well&lt;/i&gt;&lt;/p&gt;</content>"
        "<summary>Cook &lt;well&gt;</summary><published>2024-05-01T09:00:00Z</published>"
        "<updated>2024-05-09T09:00:00Z</updated><author><name>Ann</name></author>"
        "<category term='food' label='Food'/><category term='kitchen'/></entry>"
        "<entry><id>urn:job:2</id><title>A &lt; B</title><link rel='related' href='https://e.org/r'/>"
        "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>Lift <b>boxes</b>"
        "</p><br/>then rest</div></content><updated>2024-05-03T09:00:00Z</updated></entry>"
        "<entry><id>urn:job:3</id><title type='text'>Text</title>"
        "<link href='https://e.org/3'/><content type='text'>1 &lt; 2 &amp; &lt;b&gt;</content>"
        "</entry>"
        "<entry><id>urn:job:4</id><title>Teaser only</title><link href='https://e.org/4'/>"
        "<summary type='html'>&lt;p&gt;Short&lt;/p&gt;</summary></entry></feed>",
        [
            job(
                "Sous chef",
                "https://jobs.example.org/jobs/1",
                id="urn:job:1",
                categories=["Food", "kitchen"],
                published="2024-05-01T09:00:00+00:00",
                summary="Cook <well>",
                text="Cook well",
            ),
            job(
                "A < B",
                "https://e.org/r",
                id="urn:job:2",
                published="2024-05-03T09:00:00+00:00",
                summary="Lift boxes then rest",
                text="Lift boxes then rest",
            ),
            job(
                "Text", "https://e.org/3", id="urn:job:3", summary="1 < 2 & <b>", text="1 < 2 & <b>"
            ),
            job("Teaser only", "https://e.org/4", id="urn:job:4", summary="Short", text="Short"),
        ],
    ),
    "atom-0.3": (
        '<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Jobs</title>'
        "<entry><id>tag:e.org,2004:1</id><title>Mason</title>"
        "<link rel='alternate' type='text/html' href='https://e.org/m'/>"
        "<issued>2004-05-01T09:00:00Z</issued><modified>2004-06-01T09:00:00Z</modified>"
        "<content type='text/html' mode='escaped'>&lt;p&gt;Build&lt;/p&gt;</content></entry>"
        "<entry><id>tag:e.org,2004:2</id><title>Roofer</title><link href='https://e.org/r'/>"
        "<modified>2004-06-02T09:00:00Z</modified>"
        "<content type='application/xhtml+xml' mode='xml'><div xmlns='http://www.w3.org/1999/xhtml'>"
        "<p>Climb</p></div></content></entry>"
        "<entry><id>tag:e.org,2004:3</id><title>Plasterer</title>"
        "<link rel='self' href='https://e.org/self'/><link href='https://e.org/p'/>"
        "<created>2004-06-03T09:00:00Z</created></entry></feed>",
        [
            job(
                "Mason",
                "https://e.org/m",
                id="tag:e.org,2004:1",
                published="2004-05-01T09:00:00+00:00",
                summary="Build",
                text="Build",
            ),
            job(
                "Roofer",
                "https://e.org/r",
                id="tag:e.org,2004:2",
                published="2004-06-02T09:00:00+00:00",
                summary="Climb",
                text="Climb",
            ),
            job(
                "Plasterer",
                "https://e.org/p",  # no rel means alternate: preferred to the earlier rel="self"
                id="tag:e.org,2004:3",
                published="2004-06-03T09:00:00+00:00",
            ),
        ],
    ),
}


@pytest.mark.parametrize(("doc", "expected"), ATOM_CASES.values(), ids=ATOM_CASES.keys())
def test_atom_shapes(doc: str, expected: list[dict[str, Any]]) -> None:
    assert jobs_of(doc) == expected


def test_atom_raw_keeps_the_author_and_xhtml_as_markup() -> None:
    doc = ATOM_CASES["atom-1.0-content-types"][0]
    items = parse_every_way(doc.encode()).items
    assert items[0].to_json()["author"] == {"name": "Ann", "#text": "Ann"}
    assert items[1].to_json()["content"] == {
        "@type": "xhtml",
        "#text": "<p>Lift <b>boxes</b></p><br>then rest",
    }


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (b"<feed><entry/></feed>", "unsupported_format"),
        (b'<feed xmlns="http://example.org/not-atom"/>', "unsupported_format"),
        (b"<CHANNEL HREF='https://e.org/'><ITEM HREF='https://e.org/1'/></CHANNEL>", "not_a_feed"),
    ],
    ids=["feed-no-namespace", "feed-other-namespace", "cdf"],
)
def test_other_roots_are_refused(doc: bytes, reason: str) -> None:
    outcome = parse_every_way(doc)
    assert (outcome.items, outcome.reason) == ((), reason)


XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
BASE_CASES = {
    "rss-xml-base-on-feed-channel-and-item": (
        '<rss xml:base="/base/"><channel xml:base="sub/"><title>J</title>'
        "<item><title>A</title><link>a.html</link>"
        "<description>&lt;a href='more.html'&gt;more&lt;/a&gt;</description></item>"
        "<item xml:base='https://other.org/x/'><title>B</title><link>b</link>"
        "<description>&lt;a href='c'&gt;c&lt;/a&gt;</description></item></channel></rss>",
        [
            (
                "https://jobs.example.org/base/sub/a.html",
                "https://jobs.example.org/base/sub/more.html",
            ),
            ("https://other.org/x/b", "https://other.org/x/c"),
        ],
    ),
    "atom-xml-base-on-feed-entry-link-and-content": (
        f'<feed {ATOM} xml:base="https://atom.example/root/"><title>J</title>'
        "<entry xml:base='e1/'><id>1</id><title>A</title><link href='page'/>"
        "<content type='html' xml:base='/c/'>&lt;a href='x'&gt;x&lt;/a&gt;</content></entry>"
        "<entry><id>2</id><title>B</title><link xml:base='/l/' href='p2'/>"
        f"<content type='xhtml'><div {XHTML}><a href='y'>y</a></div></content></entry></feed>",
        [
            ("https://atom.example/root/e1/page", "https://atom.example/c/x"),
            ("https://atom.example/l/p2", "https://atom.example/root/y"),
        ],
    ),
    "atom-relative-xml-base-against-the-feed-url": (
        f'<feed {ATOM} xml:base="../jobs/"><title>J</title>'
        "<entry><id>1</id><title>A</title><link href='1'/>"
        "<summary type='html' xml:base='s/'>&lt;a href='about'&gt;a&lt;/a&gt;</summary></entry>"
        "</feed>",
        [("https://jobs.example.org/jobs/1", "https://jobs.example.org/jobs/s/about")],
    ),
}


@pytest.mark.parametrize(("doc", "expected"), BASE_CASES.values(), ids=BASE_CASES.keys())
def test_xml_base_resolves_links(doc: str, expected: list[tuple[str, str]]) -> None:
    outcome = parse_every_way(doc.encode())
    normalize = Normalizer(FEED)
    jobs = [normalize(raw) for raw in outcome.items]
    assert all(isinstance(job, Job) for job in jobs)
    got = [(job.url, job.description_html) for job in jobs if isinstance(job, Job)]
    assert [url for url, _ in got] == [url for url, _ in expected]
    for (_, html), (_, href) in zip(got, expected, strict=True):
        assert f'href="{href}"' in html


def test_html_entities_are_counted_per_atom_entry() -> None:
    doc = (
        f"<feed {ATOM}><title>A&nbsp;B</title><entry><title>one</title></entry>"
        "<entry><title>caf&eacute;</title></entry><entry><title>x&mdash;y</title></entry></feed>"
    )
    outcome = parse_every_way(doc.encode())
    assert outcome.item_warnings == [set(), {"html_entity"}, {"html_entity"}]
    assert outcome.warnings == (("html_entity", 1),)
