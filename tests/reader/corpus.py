"""The feed-reading corpus: one small document per shape real readers meet (entities, encodings
with their HTTP header, date forms, RSS 0.90-2.0, Atom 0.3/1.0, JSON Feed, xml:base, refusals),
each with what it must give: per item the job fields that matter, the run's warnings and the
feed error. Written from docs/feeds.md (the shapes after feedparser's and Miniflux's suites).

Expected URLs may hold `{base}`: the serving origin (`http://127.0.0.1:PORT`), for links that
resolve against the feed's own URL. Every document is served at `{base}/feeds/<name>`."""

from __future__ import annotations

from dataclasses import dataclass, field

FEED_PATH = "/feeds/"
EX = "https://jobs.example.org"
RSS_CT = "application/rss+xml"
ATOM_CT = "application/atom+xml"

RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
DCTERMS = 'xmlns:dcterms="http://purl.org/dc/terms/"'
MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/"'
ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
JOBICY = 'xmlns:job_listing="https://jobicy.com"'
CONTENT = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
ATOM10 = 'xmlns="http://www.w3.org/2005/Atom"'
ATOM03 = 'xmlns="http://purl.org/atom/ns#"'


@dataclass(frozen=True)
class Item:
    """A job the document must give. `id` defaults to the URL (the canonical link is the
    external id of an item without a guid); `text` is a snippet description_text must hold."""

    title: str
    url: str | None
    id: str | None = None
    published: str | None = None
    categories: tuple[str, ...] = ()
    company: str | None = None
    text: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def external_id(self) -> str | None:
        return self.id if self.id is not None else self.url


@dataclass(frozen=True)
class Failed:
    """An item that must fail, with its reason."""

    reason: str
    title: str | None = None


@dataclass(frozen=True)
class Shape:
    name: str
    body: bytes
    content_type: str
    items: tuple[Item | Failed, ...]
    warnings: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # the feed error's reason, if the document is refused or breaks off


def rss(items: str, *, head: str = "", attrs: str = "", channel: str = "") -> str:
    """An RSS 2.0 document: `head` before the root (a declaration), `attrs` on `<rss>`,
    `channel` for the channel element's own attributes."""
    return (
        f'{head}<rss version="2.0"{" " + attrs if attrs else ""}>'
        f"<channel{' ' + channel if channel else ''}><title>Jobs</title>"
        f"<link>{EX}/</link>{items}</channel></rss>"
    )


def item(title: str, link: str, more: str = "") -> str:
    return f"<item><title>{title}</title><link>{link}</link>{more}</item>"


def job(n: int, title: str, **more: object) -> Item:
    """The job of `item(title, f"{EX}/j/{n}")`."""
    return Item(title, f"{EX}/j/{n}", **more)  # type: ignore[arg-type]


def declared(encoding: str) -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n'.encode("ascii")


def _utf8(name: str, doc: str, items: tuple[Item | Failed, ...], **more: object) -> Shape:
    content_type = more.pop("content_type", RSS_CT)
    return Shape(name, doc.encode(), content_type, items, **more)  # type: ignore[arg-type]


# --- entities ------------------------------------------------------------------------------------

ENTITIES = [
    _utf8(
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
    _utf8(
        "entities-stray-ampersand",
        rss(item("R & D, A&B", f"{EX}/j/1?id=1&ref=rss")),
        # A rewritten `&` is a leniency too: counted like an HTML entity.
        (Item("R & D, A&B", f"{EX}/j/1?id=1&ref=rss", warnings=("html_entity",)),),
        warnings={"html_entity": 1},
    ),
    _utf8(
        "entities-unknown-kept",
        rss(item("R&foo;D &amp; more", f"{EX}/j/1")),
        (job(1, "R&foo;D & more", warnings=("html_entity",)),),
        warnings={"html_entity": 1},
    ),
    _utf8(
        "entities-cdata-untouched",
        rss(item("<![CDATA[Fish &amp;amp; Chips]]>", f"{EX}/j/1")),
        (job(1, "Fish &amp; Chips"),),
    ),
    _utf8(
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
    _utf8(
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
        shapes.append(_utf8(f"date-{n:02d}", doc, (job(1, "Welder", published=iso),)))
    for n, text in enumerate(UNREADABLE_DATES):
        doc = rss(
            item("Welder", f"{EX}/j/1", f"<pubDate>{text}</pubDate>")
            + item("Baker", f"{EX}/j/2", f"<pubDate>{text}</pubDate>")
        )
        unparsed = ("date_unparsed",)
        shapes.append(
            _utf8(
                f"date-unreadable-{n}",
                doc,
                (job(1, "Welder", warnings=unparsed), job(2, "Baker", warnings=unparsed)),
                warnings={"date_unparsed": 2},
            )
        )
    # pubDate unreadable, dc:date readable: the first readable one wins, no warning.
    shapes.append(
        _utf8(
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

# --- formats -------------------------------------------------------------------------------------

_RDF_ITEMS = (
    "<item><title>Welder</title><link>https://jobs.example.org/j/1</link></item>"
    "<item><title>Baker</title><link>/j/2</link></item>"
)
_ISO = "2026-11-23T09:00:00+00:00"

FORMATS = [
    _utf8(
        "rss-0.90",
        f'<rdf:RDF {RDF} xmlns="http://my.netscape.com/rdf/simple/0.9/">'
        f"<channel><title>Jobs</title><link>{EX}/</link></channel>{_RDF_ITEMS}</rdf:RDF>",
        (job(1, "Welder"), Item("Baker", "{base}/j/2")),
    ),
    _utf8(
        "rss-0.91",
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
        f'<rss version="0.91"><channel><title>Jobs</title>'
        f"{item('Welder', f'{EX}/j/1', '<description>Weld &amp; grind</description>')}"
        "</channel></rss>",
        (job(1, "Welder", text="Weld & grind"),),
    ),
    _utf8(
        "rss-0.92",
        f'<rss version="0.92"><channel><title>Jobs</title>'
        f"{item('Welder', f'{EX}/j/1', '<category>Metal</category>')}"
        "<item><description>No title here</description></item></channel></rss>",
        (job(1, "Welder", categories=("Metal",)), Failed("missing_title")),
    ),
    _utf8(
        "rss-1.0",
        f'<rdf:RDF {RDF} {DC} xmlns="http://purl.org/rss/1.0/">'
        f'<channel rdf:about="{EX}/"><title>Jobs</title></channel>'
        f'<item rdf:about="{EX}/j/1"><title>Welder</title>'
        "<dc:date>2026-11-23T09:00:00Z</dc:date><dc:subject>Metal</dc:subject></item>"
        f'<item rdf:about="{EX}/guid/2"><title>Baker</title><link>{EX}/j/2</link></item>'
        "</rdf:RDF>",
        (
            job(1, "Welder", published=_ISO, categories=("Metal",)),
            job(2, "Baker", id=f"{EX}/guid/2"),
        ),
    ),
    _utf8(
        "rss-2.0-guid-and-permalink",
        rss(
            item("Welder", f"{EX}/j/1", '<guid isPermaLink="false">w-1</guid>')
            + f"<item><title>Baker</title><guid>{EX}/j/2</guid></item>"
            + f'<item><title>Cook</title><guid isPermaLink="false">{EX}/j/3</guid></item>'
        ),
        (
            job(1, "Welder", id="w-1"),
            job(2, "Baker", id=f"{EX}/j/2"),
            Item("Cook", None, id=f"{EX}/j/3"),
        ),
    ),
    _utf8(
        "rss-2.0-default-namespace",
        '<rss xmlns="http://backend.userland.com/rss2" version="2.0"><channel><title>J</title>'
        + item("Welder", f"{EX}/j/1", "<category>Metal</category>")
        + "</channel></rss>",
        (job(1, "Welder", categories=("Metal",)),),
    ),
    _utf8(
        "rss-2.0-prefixed",
        '<r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel>'
        f"<r:item><r:title>Welder</r:title><r:link>{EX}/j/1</r:link></r:item>"
        "</r:channel></r:rss>",
        (job(1, "Welder"),),
    ),
    _utf8(
        "rss-dublin-core",
        rss(
            f"<item><dc:title>Welder</dc:title><link>{EX}/j/1</link>"
            "<dc:description>&lt;p&gt;Weld&lt;/p&gt;</dc:description>"
            "<dc:date>2026-11-23T10:00:00+01:00</dc:date>"
            "<dc:subject>Metal</dc:subject><dc:subject>metal</dc:subject></item>",
            attrs=DC,
        ),
        (job(1, "Welder", text="Weld", published=_ISO, categories=("Metal",)),),
    ),
    _utf8(
        "rss-dcterms",
        rss(
            item("Welder", f"{EX}/j/1", "<dcterms:issued>2026-11-23T09:00:00Z</dcterms:issued>")
            + item(
                "Baker", f"{EX}/j/2", "<dcterms:modified>2026-11-24T09:00:00Z</dcterms:modified>"
            ),
            attrs=DCTERMS,
        ),
        (
            job(1, "Welder", published=_ISO),
            job(2, "Baker", published="2026-11-24T09:00:00+00:00"),
        ),
    ),
    _utf8(
        "rss-category-extensions",
        rss(
            item(
                "Welder",
                f"{EX}/j/1",
                "<category>Zinc</category><media:category>Metal</media:category>"
                '<itunes:category text="Trades"><itunes:category text="Welding"/>'
                "</itunes:category><job_listing:category>Night</job_listing:category>"
                "<job_listing:company>Acme &amp; Sons</job_listing:company>",
            ),
            attrs=f"{MEDIA} {ITUNES} {JOBICY}",
        ),
        (
            job(
                1,
                "Welder",
                categories=("Metal", "Night", "Trades", "Welding", "Zinc"),
                company="Acme & Sons",
            ),
        ),
    ),
    _utf8(
        "rss-extensions-by-namespace-uri",
        rss(
            "<item><d:title>Welder</d:title><link>https://jobs.example.org/j/1</link>"
            "<d:date>2026-11-23T09:00:00Z</d:date><m:category>Metal</m:category>"
            "<dc:subject>not Dublin Core</dc:subject></item>",
            attrs='xmlns:d="http://purl.org/dc/elements/1.1/" '
            'xmlns:m="http://search.yahoo.com/mrss/" xmlns:dc="urn:other"',
        ),
        (job(1, "Welder", published=_ISO, categories=("Metal",)),),
    ),
    _utf8(
        "rss-undeclared-atom-prefix",
        rss(item("Welder", f"{EX}/j/1", '<atom:link href="x"/>') + item("Baker", f"{EX}/j/2")),
        (job(1, "Welder", warnings=("undeclared_prefix",)), job(2, "Baker")),
        warnings={"undeclared_prefix": 1},
    ),
    _utf8(
        "rss-content-encoded",
        rss(
            item(
                "Welder",
                f"{EX}/j/1",
                "<description>Short teaser</description>"
                "<content:encoded><![CDATA[<p>Full <b>text</b> &amp; more</p>]]></content:encoded>",
            ),
            attrs=CONTENT,
        ),
        (job(1, "Welder", text="Full text & more"),),
    ),
    _utf8(
        "atom-1.0",
        f"<feed {ATOM10}><title>Jobs</title><id>urn:feed</id>"
        '<entry><title type="html">Welder &amp;lt;b&amp;gt;</title><id>urn:job:1</id>'
        f'<link rel="related" href="{EX}/related"/><link rel="alternate" href="{EX}/j/1"/>'
        "<published>2026-11-23T09:00:00Z</published><updated>2026-11-30T09:00:00Z</updated>"
        '<category term="metal" label="Metal work"/><category term="night"/>'
        '<content type="html">&lt;p&gt;Weld &amp;amp; grind&lt;/p&gt;</content></entry>'
        "<entry><title>Baker &amp; Co</title><id>urn:job:2</id>"
        f'<link rel="enclosure" href="{EX}/j/2.pdf"/><link rel="self" href="{EX}/j/2"/>'
        "<updated>2026-11-24T09:00:00Z</updated>"
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Bake <b>bread</b>'
        "</p></div></content></entry>"
        '<entry><title type="text">Cook &lt;b&gt;</title><id>urn:job:3</id>'
        f'<link href="{EX}/j/3"/><summary>Cook &lt;i&gt;soup&lt;/i&gt;</summary></entry>'
        "</feed>",
        (
            Item(
                "Welder <b>",
                f"{EX}/j/1",
                id="urn:job:1",
                published=_ISO,
                categories=("Metal work", "night"),
                text="Weld & grind",
            ),
            Item(
                "Baker & Co",
                f"{EX}/j/2.pdf",
                id="urn:job:2",
                published="2026-11-24T09:00:00+00:00",
                text="Bake bread",
            ),
            Item("Cook <b>", f"{EX}/j/3", id="urn:job:3", text="Cook <i>soup</i>"),
        ),
        content_type=ATOM_CT,
    ),
    _utf8(
        "atom-0.3",
        f'<feed version="0.3" {ATOM03}><title>Jobs</title>'
        f'<entry><title>Welder</title><id>urn:job:1</id><link rel="alternate" href="{EX}/j/1"/>'
        "<issued>2026-11-23T09:00:00Z</issued><modified>2026-11-30T09:00:00Z</modified>"
        '<content type="text/html" mode="escaped">&lt;p&gt;Weld&lt;/p&gt;</content></entry>'
        f'<entry><title>Baker</title><id>urn:job:2</id><link href="{EX}/j/2"/>'
        "<modified>2026-11-24T09:00:00Z</modified>"
        '<content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml">'
        "<p>Bake <b>bread</b></p></div></content></entry></feed>",
        (
            Item("Welder", f"{EX}/j/1", id="urn:job:1", published=_ISO, text="Weld"),
            Item(
                "Baker",
                f"{EX}/j/2",
                id="urn:job:2",
                published="2026-11-24T09:00:00+00:00",
                text="Bake bread",
            ),
        ),
        content_type=ATOM_CT,
    ),
    _utf8(
        "jsonfeed-1.0",
        '{"version": "https://jsonfeed.org/version/1", "title": "Jobs",'
        f' "home_page_url": "{EX}/board/", "items": ['
        '{"id": 1, "url": "j/1", "title": "Welder", "content_html": "<a href=\\"x\\">Weld</a>",'
        ' "date_published": "2026-11-23T09:00:00Z", "tags": ["Metal", "metal"]},'
        f' {{"id": "2", "external_url": "{EX}/j/2", "title": "Baker",'
        ' "content_text": "<b> & bread", "date_modified": "whenever"},'
        ' {"id": "3", "content_text": "no title"}, {"id": "2", "title": "Again"}]}',
        (
            Item(
                "Welder",
                f"{EX}/board/j/1",
                id="1",
                published=_ISO,
                categories=("Metal",),
                text="Weld",
            ),
            Item("Baker", f"{EX}/j/2", id="2", text="<b> & bread", warnings=("date_unparsed",)),
            Failed("missing_title"),
            Failed("duplicate_in_feed", "Again"),
        ),
        warnings={"date_unparsed": 1},
        content_type="application/feed+json",
    ),
    _utf8(
        "jsonfeed-relative-home-page",
        '{"version": "https://jsonfeed.org/version/1.1", "home_page_url": "/board/",'
        ' "items": [{"id": "a", "url": "j/1", "title": "<b>Welder</b>",'
        ' "content_html": "<a href=\\"apply\\">Apply</a>"}]}',
        (Item("<b>Welder</b>", "{base}/board/j/1", id="a", text="Apply"),),
        content_type="application/json",
    ),
    _utf8(
        "jsonfeed-1.1-bom-any-content-type",
        "\ufeff \n"
        '{"version": "https://jsonfeed.org/version/1.1", "items": ['
        '{"id": "a", "url": "/j/1", "title": "Welder", "summary": "Teaser",'
        ' "content_html": "<p>Full</p>", "date_modified": "2026-11-23T09:00:00Z"}]}',
        (Item("Welder", "{base}/j/1", id="a", published=_ISO, text="Full"),),
        content_type="text/plain; charset=utf-8",
    ),
]

# --- xml:base ------------------------------------------------------------------------------------

XML_BASE = [
    _utf8(
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
    _utf8(
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
    _utf8(
        "no-xml-base-feed-url",
        rss(item("Welder", "/j/1") + item("Baker", "j/2")),
        (Item("Welder", "{base}/j/1"), Item("Baker", "{base}/feeds/j/2")),
    ),
]

# --- refused -------------------------------------------------------------------------------------

REFUSED = [
    _utf8(
        "refused-entity-declaration",
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY boom "x">]>'
        + rss(item("&boom;", f"{EX}/j/1")),
        (),
        error="entities_forbidden",
    ),
    _utf8(
        "refused-breaks-off",
        rss(item("Welder", f"{EX}/j/1") + item("Baker", f"{EX}/j/2"))[:-40],
        (job(1, "Welder"),),
        error="malformed_xml",
    ),
    _utf8(
        "refused-html-page",
        "<!DOCTYPE html><html><head><title>Jobs</title></head><body>hi</body></html>",
        (),
        error="not_a_feed",
        content_type="text/html; charset=utf-8",
    ),
    _utf8(
        "refused-cdf",
        '<?xml version="1.0"?><CHANNEL HREF="http://x.example/"><TITLE>CDF</TITLE></CHANNEL>',
        (),
        error="not_a_feed",
    ),
    _utf8(
        "refused-other-xml",
        '<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>',
        (),
        error="not_a_feed",
    ),
    _utf8(
        "refused-feed-no-namespace",
        "<feed><entry><title>Welder</title></entry></feed>",
        (),
        error="unsupported_format",
    ),
    _utf8(
        "refused-feed-other-namespace",
        '<feed xmlns="urn:not-atom"><entry><title>Welder</title></entry></feed>',
        (),
        error="unsupported_format",
    ),
    _utf8(
        "refused-json-not-a-feed",
        '{"version": "1.0", "items": []}',
        (),
        error="not_a_feed",
        content_type="application/json",
    ),
    _utf8(
        "refused-json-no-items",
        '{"version": "https://jsonfeed.org/version/1.1", "title": "x"}',
        (),
        error="not_a_feed",
        content_type="application/json",
    ),
    _utf8(
        "refused-json-array",
        '[{"version": "https://jsonfeed.org/version/1.1"}]',
        (),
        error="not_a_feed",
        content_type="application/json",
    ),
    _utf8(
        "refused-json-truncated",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": "W',
        (),
        error="malformed_json",
        content_type="application/feed+json",
    ),
    _utf8(
        "refused-plain-text", "jobs: none today", (), error="not_a_feed", content_type="text/plain"
    ),
]

CORPUS: list[Shape] = [*ENTITIES, *ENCODINGS, *DATES, *FORMATS, *XML_BASE, *REFUSED]
BY_NAME = {shape.name: shape for shape in CORPUS}
assert len(BY_NAME) == len(CORPUS), "corpus names must be unique"
