"""Corpus rows for formats: RSS 0.90-2.0 and extensions, Atom 0.3/1.0, JSON Feed."""

from __future__ import annotations

from tests.reader.corpus_kit import (
    ATOM03,
    ATOM10,
    ATOM_CT,
    CONTENT,
    DC,
    DCTERMS,
    EX,
    ITUNES,
    JOBICY,
    MEDIA,
    RDF,
    Failed,
    Item,
    item,
    job,
    rss,
    utf8_shape,
)

# --- formats -------------------------------------------------------------------------------------

_RDF_ITEMS = (
    "<item><title>Welder</title><link>https://jobs.example.org/j/1</link></item>"
    "<item><title>Baker</title><link>/j/2</link></item>"
)
_ISO = "2026-11-23T09:00:00+00:00"

FORMATS = [
    utf8_shape(
        "rss-0.90",
        f'<rdf:RDF {RDF} xmlns="http://my.netscape.com/rdf/simple/0.9/">'
        f"<channel><title>Jobs</title><link>{EX}/</link></channel>{_RDF_ITEMS}</rdf:RDF>",
        (job(1, "Welder"), Item("Baker", "{base}/j/2")),
    ),
    utf8_shape(
        "rss-0.91",
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
        f'<rss version="0.91"><channel><title>Jobs</title>'
        f"{item('Welder', f'{EX}/j/1', '<description>Weld &amp; grind</description>')}"
        "</channel></rss>",
        (job(1, "Welder", text="Weld & grind"),),
    ),
    utf8_shape(
        "rss-0.92",
        f'<rss version="0.92"><channel><title>Jobs</title>'
        f"{item('Welder', f'{EX}/j/1', '<category>Metal</category>')}"
        "<item><description>No title here</description></item></channel></rss>",
        (job(1, "Welder", categories=("Metal",)), Failed("missing_title")),
    ),
    utf8_shape(
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
    utf8_shape(
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
    utf8_shape(
        "rss-2.0-default-namespace",
        '<rss xmlns="http://backend.userland.com/rss2" version="2.0"><channel><title>J</title>'
        + item("Welder", f"{EX}/j/1", "<category>Metal</category>")
        + "</channel></rss>",
        (job(1, "Welder", categories=("Metal",)),),
    ),
    utf8_shape(
        "rss-2.0-prefixed",
        '<r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel>'
        f"<r:item><r:title>Welder</r:title><r:link>{EX}/j/1</r:link></r:item>"
        "</r:channel></r:rss>",
        (job(1, "Welder"),),
    ),
    utf8_shape(
        "rss-dublin-core",
        rss(
            f"<item><dc:title>Welder</dc:title><link>{EX}/j/1</link>"
            "<dc:description>&lt;p&gt;Weld&lt;/p&gt;</dc:description>"
            "<dc:date>2026-11-23T10:00:00+01:00</dc:date>"
            "<dc:subject>Metal</dc:subject><dc:subject>metal</dc:subject>"
            "<dc:creator>Jane Roe</dc:creator></item>",
            attrs=DC,
        ),
        (job(1, "Welder", text="Weld", published=_ISO, categories=("Metal",), author="Jane Roe"),),
    ),
    utf8_shape(
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
    utf8_shape(
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
    utf8_shape(
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
    utf8_shape(
        "rss-undeclared-atom-prefix",
        rss(item("Welder", f"{EX}/j/1", '<atom:link href="x"/>') + item("Baker", f"{EX}/j/2")),
        (job(1, "Welder", warnings=("undeclared_prefix",)), job(2, "Baker")),
        warnings={"undeclared_prefix": 1},
    ),
    utf8_shape(
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
    utf8_shape(
        "atom-1.0",
        f"<feed {ATOM10}><title>Jobs</title><id>urn:feed</id>"
        '<entry><title type="html">Welder &amp;lt;b&amp;gt;</title><id>urn:job:1</id>'
        "<author><name>Ann</name><email>ann@example.org</email></author>"
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
                author="Ann",
            ),
            Item(
                "Baker & Co",
                f"{EX}/j/2.pdf",
                id="urn:job:2",
                published="2026-11-24T09:00:00+00:00",
                text="Bake bread",
                enclosures=(f"{EX}/j/2.pdf",),
            ),
            Item("Cook <b>", f"{EX}/j/3", id="urn:job:3", text="Cook <i>soup</i>"),
        ),
        content_type=ATOM_CT,
    ),
    utf8_shape(
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
    utf8_shape(
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
    utf8_shape(
        "jsonfeed-relative-home-page",
        '{"version": "https://jsonfeed.org/version/1.1", "home_page_url": "/board/",'
        ' "items": [{"id": "a", "url": "j/1", "title": "<b>Welder</b>",'
        ' "content_html": "<a href=\\"apply\\">Apply</a>", "authors": [{"name": "Jo"}],'
        ' "attachments": [{"url": "spec.pdf", "mime_type": "application/pdf"}]}]}',
        (
            Item(
                "<b>Welder</b>",
                "{base}/board/j/1",
                id="a",
                text="Apply",
                author="Jo",
                enclosures=("{base}/board/spec.pdf",),
            ),
        ),
        content_type="application/json",
    ),
    utf8_shape(
        "jsonfeed-1.1-bom-any-content-type",
        "\ufeff \n"
        '{"version": "https://jsonfeed.org/version/1.1", "items": ['
        '{"id": "a", "url": "/j/1", "title": "Welder", "summary": "Teaser",'
        ' "content_html": "<p>Full</p>", "date_modified": "2026-11-23T09:00:00Z"}]}',
        (Item("Welder", "{base}/j/1", id="a", published=_ISO, text="Full"),),
        content_type="text/plain; charset=utf-8",
    ),
]
