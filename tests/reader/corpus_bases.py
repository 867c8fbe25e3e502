"""Corpus rows for link bases (xml:base, Content-Location, the feed URL) and for the documents
that must be refused."""

from __future__ import annotations

from tests.reader.corpus_kit import ATOM10, ATOM_CT, EX, Item, item, job, rss, utf8_shape

# --- xml:base ------------------------------------------------------------------------------------

XML_BASE = [
    utf8_shape(
        "xml-base-rss-levels",
        rss(
            item(
                "Welder", "j/1", '<description>&lt;a href="apply"&gt;Apply&lt;/a&gt;</description>'
            )
            + '<item xml:base="/other/">'
            + "<title>Baker</title><link>j/2</link></item>",
            attrs=f'xml:base="{EX}/root/"',
            channel='xml:base="chan/"',
        ),
        (
            Item("Welder", f"{EX}/root/chan/j/1", text="Apply"),
            Item("Baker", f"{EX}/other/j/2"),
        ),
    ),
    utf8_shape(
        "xml-base-atom-levels",
        f'<feed {ATOM10} xml:base="{EX}/feed/"><title>J</title>'
        '<entry xml:base="e/"><title>Welder</title><id>urn:1</id><link href="j/1"/></entry>'
        '<entry><title>Baker</title><id>urn:2</id><link xml:base="/l/" href="j/2"/>'
        '<content type="html" xml:base="/c/">&lt;a href="x"&gt;go&lt;/a&gt;</content></entry>'
        "</feed>",
        (
            Item("Welder", f"{EX}/feed/e/j/1", id="urn:1"),
            Item("Baker", f"{EX}/l/j/2", id="urn:2", text="go"),
        ),
        content_type=ATOM_CT,
    ),
    utf8_shape(
        "no-xml-base-feed-url",
        rss(item("Welder", "/j/1") + item("Baker", "j/2")),
        (Item("Welder", "{base}/j/1"), Item("Baker", "{base}/feeds/j/2")),
    ),
    utf8_shape(
        "xml-base-under-content-location",
        rss(
            item(
                "Welder",
                "j/1",
                '<author>jobs@example.org (Ann Lee)</author><enclosure url="f/1.pdf" length="9"/>',
            )
            + '<item xml:base="/other/"><title>Baker</title><link>j/2</link></item>'
        ),
        (
            Item(
                "Welder",
                f"{EX}/located/j/1",
                author="Ann Lee",
                enclosures=(f"{EX}/located/f/1.pdf",),
            ),
            Item("Baker", f"{EX}/other/j/2"),
        ),
        headers={"Content-Location": f"{EX}/located/feed.xml"},
    ),
]

# --- refused -------------------------------------------------------------------------------------

REFUSED = [
    utf8_shape(
        "refused-entity-declaration",
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY boom "x">]>'
        + rss(item("&boom;", f"{EX}/j/1")),
        (),
        error="entities_forbidden",
    ),
    utf8_shape(
        "refused-breaks-off",
        rss(item("Welder", f"{EX}/j/1") + item("Baker", f"{EX}/j/2"))[:-40],
        (job(1, "Welder"),),
        error="malformed_xml",
    ),
    utf8_shape(
        "refused-html-page",
        "<!DOCTYPE html><html><head><title>Jobs</title></head><body>hi</body></html>",
        (),
        error="not_a_feed",
        content_type="text/html; charset=utf-8",
    ),
    utf8_shape(
        "refused-cdf",
        '<?xml version="1.0"?><CHANNEL HREF="http://x.example/"><TITLE>CDF</TITLE></CHANNEL>',
        (),
        error="not_a_feed",
    ),
    utf8_shape(
        "refused-other-xml",
        '<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>',
        (),
        error="not_a_feed",
    ),
    utf8_shape(
        "refused-feed-no-namespace",
        "<feed><entry><title>Welder</title></entry></feed>",
        (),
        error="unsupported_format",
    ),
    utf8_shape(
        "refused-feed-other-namespace",
        '<feed xmlns="urn:not-atom"><entry><title>Welder</title></entry></feed>',
        (),
        error="unsupported_format",
    ),
    utf8_shape(
        "refused-json-not-a-feed",
        '{"version": "1.0", "items": []}',
        (),
        error="not_a_feed",
        content_type="application/json",
    ),
    utf8_shape(
        "refused-json-no-items",
        '{"version": "https://jsonfeed.org/version/1.1", "title": "x"}',
        (),
        error="not_a_feed",
        content_type="application/json",
    ),
    utf8_shape(
        "refused-json-array",
        '[{"version": "https://jsonfeed.org/version/1.1"}]',
        (),
        error="not_a_feed",
        content_type="application/json",
    ),
    utf8_shape(
        "refused-json-truncated",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": "W',
        (),
        error="malformed_json",
        content_type="application/feed+json",
    ),
    utf8_shape(
        "refused-plain-text", "jobs: none today", (), error="not_a_feed", content_type="text/plain"
    ),
]
