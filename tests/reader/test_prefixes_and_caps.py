"""Undeclared prefixes are read with a warning, and the caps hold whatever the encoding. Every
document is parsed whole and in chunks of 1, 7 and 65536 bytes (`parse_every_way`)."""

from __future__ import annotations

import pytest

from jobimport.reader.parse import FeedParser
from tests.reader.chunked import declared, doc, parse_every_way

# -- undeclared prefixes ------------------------------------------------------------------------


def test_an_undeclared_prefix_is_read_with_a_warning() -> None:
    outcome = parse_every_way(
        b"<rss><channel><title>T</title><item><title>a</title>"
        b'<atom:link href="https://e.org/a" rel="self"/><dc:creator>Ann</dc:creator></item>'
        b'<item><title>b</title><guid x:kind="k">g</guid></item>'
        b"<item><title>c</title></item></channel></rss>"
    )

    assert outcome.error is None
    assert outcome.texts == [
        {
            "title": "a",
            "atom:link": {"@href": "https://e.org/a", "@rel": "self"},
            "dc:creator": "Ann",
        },
        {"title": "b", "guid": {"@x:kind": "k", "#text": "g"}},
        {"title": "c"},
    ]
    assert outcome.item_warnings == [{"undeclared_prefix"}, {"undeclared_prefix"}, set()]
    assert outcome.warnings == ()
    link = outcome.items[0].elements[1]
    assert (link.local, link.ns, link.prefix) == ("atom:link", None, None)  # not RSS's <link>
    assert outcome.items[0].find("link") is None


def test_an_undeclared_prefix_outside_items_is_a_document_warning() -> None:
    outcome = parse_every_way(
        b'<rss><channel><atom:link href="x" rel="self"/><item><title>a</title></item>'
        b"</channel></rss>"
    )

    assert (outcome.error, outcome.item_warnings) == (None, [set()])
    assert outcome.warnings == (("undeclared_prefix", 1),)


def test_an_undeclared_prefix_does_not_hide_a_break() -> None:
    outcome = parse_every_way(
        b"<rss><channel><item><atom:link href='x'/><title>a</title></item><item><title>b"
    )

    assert outcome.reason == "malformed_xml"
    assert outcome.texts == [{"atom:link": {"@href": "x"}, "title": "a"}]
    assert outcome.item_warnings == [{"undeclared_prefix"}]


# -- the caps hold whatever the encoding --------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "windows-1252"])
def test_caps_still_too_large(encoding: str) -> None:
    deep = "<a>" * 70 + "</a>" * 70
    outcome = parse_every_way(doc("x", more=deep, declaration=declared(encoding)).encode(encoding))

    assert outcome.reason == "too_large"  # deeper than 64
    parser = FeedParser(max_text_bytes=100)  # counted in UTF-8 whatever the body's encoding
    items = parser.feed(doc("é" * 51, declaration=declared(encoding)).encode(encoding))
    items += parser.close()
    assert parser.error is not None
    assert (parser.error.info.reason, items) == ("too_large", [])


def test_a_huge_prologue_is_too_large_before_the_encoding_is_chosen() -> None:
    parser = FeedParser()
    parser.feed(b"<!--" + "é".encode() * (1 << 20) + b"-->")
    parser.feed(b"<rss/>")

    assert parser.error is not None
    assert parser.error.info.reason == "too_large"
