"""Corpus rows for text: HTML entities, each encoding path with its HTTP header, each date form."""

from __future__ import annotations

from tests.reader.corpus_kit import (
    ATOM10,
    ATOM_CT,
    DC,
    EX,
    RSS_CT,
    Item,
    Shape,
    declared,
    item,
    job,
    rss,
    utf8_shape,
)

# --- entities ------------------------------------------------------------------------------------

ENTITIES = [
    utf8_shape(
        "entities-html-named",
        rss(
            item("Caf&eacute;&nbsp;cook &mdash; Baker&rsquo;s", f"{EX}/j/1")
            + item("Plain", f"{EX}/j/2", "<description>Fr&eacute;d&eacute;ric</description>")
        ),
        (
            job(1, "Café cook — Baker’s", warnings=("html_entity",)),
            job(2, "Plain", text="Frédéric", warnings=("html_entity",)),
        ),
        warnings={"html_entity": 2},
    ),
    utf8_shape(
        "entities-stray-ampersand",
        rss(item("R & D, A&B", f"{EX}/j/1?id=1&ref=rss")),
        # A rewritten `&` is a leniency too: counted like an HTML entity.
        (Item("R & D, A&B", f"{EX}/j/1?id=1&ref=rss", warnings=("html_entity",)),),
        warnings={"html_entity": 1},
    ),
    utf8_shape(
        "entities-unknown-kept",
        rss(item("R&foo;D &amp; more", f"{EX}/j/1")),
        (job(1, "R&foo;D & more", warnings=("html_entity",)),),
        warnings={"html_entity": 1},
    ),
    utf8_shape(
        "entities-cdata-untouched",
        rss(item("<![CDATA[Fish &amp;amp; Chips]]>", f"{EX}/j/1")),
        (job(1, "Fish &amp; Chips"),),
    ),
    utf8_shape(
        "entities-in-attribute-values",
        f"<feed {ATOM10}><title>J</title><entry><title>Welder</title><id>urn:1</id>"
        f'<link href="{EX}/j/1?a=1&b=2&amp;c=&eacute;"/>'
        '<category term="x" label="Caf&eacute;&nbsp;staff"/></entry></feed>',
        (
            Item(
                "Welder",
                f"{EX}/j/1?a=1&b=2&c=é",
                id="urn:1",
                categories=("Café staff",),
                warnings=("html_entity",),
            ),
        ),
        warnings={"html_entity": 1},
        content_type=ATOM_CT,
    ),
    utf8_shape(
        "entities-in-comment-untouched",
        rss(item("Welder<!-- &eacute; -->", f"{EX}/j/1")),
        (job(1, "Welder"),),
    ),
]

# --- encodings -----------------------------------------------------------------------------------

_CAFE = rss(item("Café", f"{EX}/j/1"))
_QUOTES = rss(item("“Senior” Baker – nights", f"{EX}/j/1"))
_CAFE_JOB = (job(1, "Café"),)
_QUOTES_JOB = (job(1, "“Senior” Baker – nights"),)

ENCODINGS = [
    Shape("enc-utf8-bom", b"\xef\xbb\xbf" + _CAFE.encode(), RSS_CT, _CAFE_JOB),
    Shape(
        "enc-utf16le-bom",
        b"\xff\xfe" + (declared("UTF-16").decode() + _CAFE).encode("utf-16-le"),
        RSS_CT,
        _CAFE_JOB,
    ),
    Shape(
        "enc-utf16be-bom",
        b"\xfe\xff" + (declared("UTF-16").decode() + _CAFE).encode("utf-16-be"),
        RSS_CT,
        _CAFE_JOB,
    ),
    Shape(
        "enc-utf16le-no-bom",
        (declared("UTF-16").decode() + _CAFE).encode("utf-16-le"),
        RSS_CT,
        _CAFE_JOB,
    ),
    Shape(
        "enc-utf16be-no-bom-undeclared",
        _CAFE.encode("utf-16-be"),
        RSS_CT,
        _CAFE_JOB,
    ),
    # The header says UTF-8 and is right; the declaration is wrong.
    Shape(
        "enc-http-charset-outranks-declaration",
        declared("windows-1252") + _CAFE.encode(),
        "application/rss+xml; charset=utf-8",
        _CAFE_JOB,
    ),
    Shape(
        "enc-http-charset-quoted-latin1",
        declared("utf-8") + _QUOTES.encode("cp1252"),
        'text/xml; charset="ISO-8859-1"',
        _QUOTES_JOB,
    ),
    Shape(
        "enc-declaration-only",
        declared("windows-1252") + _QUOTES.encode("cp1252"),
        "application/xml",
        _QUOTES_JOB,
    ),
    Shape("enc-undeclared-utf8", _CAFE.encode(), RSS_CT, _CAFE_JOB),
    Shape("enc-undeclared-windows-1252", _QUOTES.encode("cp1252"), RSS_CT, _QUOTES_JOB),
    Shape(
        "enc-iso-8859-1-label",
        declared("iso-8859-1") + _QUOTES.encode("cp1252"),
        RSS_CT,
        _QUOTES_JOB,
    ),
    Shape(
        "enc-us-ascii-label",
        declared("us-ascii") + _QUOTES.encode("cp1252"),
        RSS_CT,
        _QUOTES_JOB,
    ),
    Shape(
        "enc-declared-utf8-invalid-byte",
        declared("utf-8")
        + rss(item("Café", f"{EX}/j/1") + item("BADbyte", f"{EX}/j/2") + item("BAD", f"{EX}/j/3"))
        .encode()
        .replace(b"BAD", b"Bad\xff"),
        RSS_CT,
        # Two bad bytes in two items, one after another: counted once, the document goes on.
        (job(1, "Café"), job(2, "Bad\ufffdbyte"), job(3, "Bad\ufffd")),
        warnings={"encoding_replaced": 1},
    ),
    # Valid UTF-8 for the first 64 KiB: read as UTF-8, the later bad bytes replaced.
    Shape(
        "enc-undeclared-utf8-invalid-after-64k",
        rss(
            item("Café", f"{EX}/j/1", "<description>" + "é" * 40_000 + "</description>")
            + item("BADbyte", f"{EX}/j/2")
        )
        .encode()
        .replace(b"BAD", b"Bad\xfe\xff"),
        RSS_CT,
        (job(1, "Café", text="ééé"), job(2, "Bad\ufffd\ufffdbyte")),
        warnings={"encoding_replaced": 1},
    ),
]

# --- dates ---------------------------------------------------------------------------------------

DATE_FORMS = [
    ("Mon, 23 Nov 2026 09:00:00 EST", "2026-11-23T14:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00 PDT", "2026-11-23T16:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 MET", "2026-11-23T08:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 CEST", "2026-11-23T07:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 Z", "2026-11-23T09:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 Q", "2026-11-23T09:00:00+00:00"),  # military: UTC
    ("Fri, 23 Nov 2026 09:00:00 GMT", "2026-11-23T09:00:00+00:00"),  # wrong day name
    ("23 Nov 2026 09:00:00 +0100", "2026-11-23T08:00:00+00:00"),  # no day name
    ("Mon, 23 Nov 26 09:00:00 GMT", "2026-11-23T09:00:00+00:00"),
    ("Wed, 23 Nov 94 09:00:00 GMT", "1994-11-23T09:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 -0400 EDT", "2026-11-23T13:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 CST", "2026-11-23T15:00:00+00:00"),
    ("Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37+00:00"),
    ("2003-12-31T10:14:55.5-05:00", "2003-12-31T15:14:55.500000+00:00"),
    ("2003-12-31T10:14:55Z", "2003-12-31T10:14:55+00:00"),
    ("2003-12", "2003-12-01T00:00:00+00:00"),
    ("20031231T101455Z", "2003-12-31T10:14:55+00:00"),
    ("2026-11-23 09:00:00 UTC", "2026-11-23T09:00:00+00:00"),
    ("Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37+00:00"),
    ("Mon Nov 23 2026 09:00:00 GMT+0100 (CET)", "2026-11-23T08:00:00+00:00"),
    ("November 23rd, 2026 9:00 PM", "2026-11-23T21:00:00+00:00"),
    ("23.11.2026", "2026-11-23T00:00:00+00:00"),
    ("Wed, 31 Dec 2025 23:59:60 GMT", "2025-12-31T23:59:59+00:00"),
    ("Tue, 3 Nov 2026 09:00 +05", "2026-11-03T04:00:00+00:00"),  # one-digit day, no seconds
    ("mon, 23 november 2026 09:00:00 gmt", "2026-11-23T09:00:00+00:00"),
    ("Mon,, 23 Nov. 2026 09:00:00 GMT", "2026-11-23T09:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 -05:00", "2026-11-23T14:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00 (PDT)", "2026-11-23T09:00:00+00:00"),  # a comment, not a zone
    ("Mon, 23 Nov 126 09:00:00 GMT", "2026-11-23T09:00:00+00:00"),  # three digits: +1900
    ("Wed, 23 Nov 49 09:00:00 GMT", "2049-11-23T09:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 +0300 EAT", "2026-11-23T06:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 AKST", "2026-11-23T18:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 HST", "2026-11-23T19:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 AST", "2026-11-23T13:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 NST", "2026-11-23T12:30:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 PT", "2026-11-23T17:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 BST", "2026-11-23T08:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 WEST", "2026-11-23T08:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 MESZ", "2026-11-23T07:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 EEST", "2026-11-23T06:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 MSK", "2026-11-23T06:00:00+00:00"),
    ("Mon, 23 Nov 2026 09:00:00 JST", "2026-11-23T00:00:00+00:00"),
    ("2003", "2003-01-01T00:00:00+00:00"),
    ("2003-12-31", "2003-12-31T00:00:00+00:00"),
    ("2003-12-31T10:14", "2003-12-31T10:14:00+00:00"),  # no zone: UTC
]
UNREADABLE_DATES = ["next tuesday", "11/12/2026", "Mon, 23 Nov 2026 09:00:00 IST"]


def _dates() -> list[Shape]:
    shapes = []
    for n, (text, iso) in enumerate(DATE_FORMS):
        doc = rss(item("Welder", f"{EX}/j/1", f"<pubDate>{text}</pubDate>"))
        shapes.append(utf8_shape(f"date-{n:02d}", doc, (job(1, "Welder", published=iso),)))
    for n, text in enumerate(UNREADABLE_DATES):
        doc = rss(
            item("Welder", f"{EX}/j/1", f"<pubDate>{text}</pubDate>")
            + item("Baker", f"{EX}/j/2", f"<pubDate>{text}</pubDate>")
        )
        unparsed = ("date_unparsed",)
        shapes.append(
            utf8_shape(
                f"date-unreadable-{n}",
                doc,
                (job(1, "Welder", warnings=unparsed), job(2, "Baker", warnings=unparsed)),
                warnings={"date_unparsed": 2},
            )
        )
    # pubDate unreadable, dc:date readable: the first readable one wins, no warning.
    shapes.append(
        utf8_shape(
            "date-fallback-dc-date",
            rss(
                item(
                    "Welder",
                    f"{EX}/j/1",
                    "<pubDate>soon</pubDate><dc:date>2026-11-23T09:00:00+01:00</dc:date>",
                ),
                attrs=DC,
            ),
            (job(1, "Welder", published="2026-11-23T08:00:00+00:00"),),
        )
    )
    return shapes


DATES = _dates()
