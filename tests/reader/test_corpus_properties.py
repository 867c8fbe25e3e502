"""Random documents built from the corpus shapes (tests/reader/corpus.py): any format, a random
number of items mixing the item shapes of that format, random entities, dates, encodings, HTTP
charsets, and sometimes a body that breaks off or holds a bad byte. `DocumentReader` must never
raise (a feed error is its `error`, not an exception), and must give the same jobs, failures,
warnings and error whole as in chunks of 1, 7 and 65536 bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobimport.models import Job, StagedEntry
from jobimport.reader.document import DocumentReader
from tests.reader.corpus import DATE_FORMS, UNREADABLE_DATES
from tests.reader.corpus_kit import ATOM03, ATOM10, DC, EX, MEDIA, RDF, declared
from tests.support import examples

FEED = "https://jobs.example.org/feeds/all.xml"
SIZES = (1, 7, 65536)

# Text pieces as written in XML (entities, CDATA, a stray `&`) and what a JSON Feed says instead.
XML_TEXT = [
    "Welder",
    "Caf&eacute;",
    "&nbsp;",
    "&mdash;",
    "Baker&rsquo;s",
    "R & D",
    "&foo;",
    "&amp;",
    "<![CDATA[a &amp; <b>]]>",
    "“quoted” – é",
    "<!-- &eacute; -->",
    "&#233;",
    " ",
]
LINKS = [f"{EX}/j/N", "/j/N", "j/N?a=1&b=2", "#N", "", "javascript:alert(N)", f"{EX}/j/N&amp;x"]
DATES = [text for text, _ in DATE_FORMS] + UNREADABLE_DATES + [""]
FORMATS = ("rss2", "rss1", "rss090", "atom10", "atom03", "json")
ENCODINGS = ("utf-8", "utf-8-bom", "utf-16le-bom", "utf-16be", "cp1252-declared", "cp1252")


@dataclass(frozen=True)
class ItemSpec:
    title: list[str]
    link: str
    date: str
    categories: list[str]
    description: list[str]
    guid: bool


item_specs = st.builds(
    ItemSpec,
    title=st.lists(st.sampled_from(XML_TEXT), max_size=4),
    link=st.sampled_from(LINKS),
    date=st.sampled_from(DATES),
    categories=st.lists(st.sampled_from(["Metal", "metal", "Night&nbsp;shift", "R&D"]), max_size=3),
    description=st.lists(st.sampled_from([*XML_TEXT, "&lt;p&gt;para&lt;/p&gt;"]), max_size=3),
    guid=st.booleans(),
)


def xml_item(fmt: str, n: int, spec: ItemSpec) -> str:
    title, link = "".join(spec.title), spec.link.replace("N", str(n))
    description = "".join(spec.description)
    if fmt in ("atom10", "atom03"):
        date_tag = "published" if fmt == "atom10" else "issued"
        parts = [f"<entry><title>{title}</title>"]
        parts.append(f"<id>urn:{n}</id>" if spec.guid else "")
        parts.append(f'<link rel="alternate" href="{link}"/>' if link else "")
        parts.append(f"<{date_tag}>{spec.date}</{date_tag}>" if spec.date else "")
        parts += [f'<category term="{c}"/>' for c in spec.categories]
        parts.append(f'<content type="html">{description}</content></entry>')
        return "".join(parts)
    about = f' rdf:about="{link}"' if fmt != "rss2" and spec.guid else ""
    parts = [f"<item{about}><title>{title}</title>"]
    parts.append(f"<link>{link}</link>" if link else "")
    parts.append(f"<guid>urn:{n}</guid>" if fmt == "rss2" and spec.guid else "")
    date_tag = "pubDate" if fmt == "rss2" else "dc:date"
    parts.append(f"<{date_tag}>{spec.date}</{date_tag}>" if spec.date else "")
    parts += [f"<media:category>{c}</media:category>" for c in spec.categories]
    parts.append(f"<description>{description}</description></item>")
    return "".join(parts)


def xml_doc(fmt: str, specs: list[ItemSpec]) -> str:
    items = "".join(xml_item(fmt, n, spec) for n, spec in enumerate(specs))
    if fmt == "rss2":
        head = f'<rss version="2.0" {DC} {MEDIA} xml:base="{EX}/base/"><channel><title>J</title>'
        return head + items + "</channel></rss>"
    if fmt in ("rss1", "rss090"):
        ns = (
            "http://purl.org/rss/1.0/"
            if fmt == "rss1"
            else "http://my.netscape.com/rdf/simple/0.9/"
        )
        return f'<rdf:RDF {RDF} {DC} {MEDIA} xmlns="{ns}"><channel/>{items}</rdf:RDF>'
    return f"<feed {ATOM10 if fmt == 'atom10' else ATOM03}><title>J</title>{items}</feed>"


def json_doc(specs: list[ItemSpec]) -> str:
    items: list[dict[str, Any]] = []
    for n, spec in enumerate(specs):
        item: dict[str, Any] = {"id": n if spec.guid else f"i{n % 2}"}
        if spec.title:
            item["title"] = "".join(spec.title)
        if spec.link:
            item["url"] = spec.link.replace("N", str(n))
        if spec.date:
            item["date_published"] = spec.date
        item["tags"] = spec.categories
        item["content_html"] = "".join(spec.description)
        items.append(item)
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8":
        return text.encode()
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode()
    if encoding == "utf-16le-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-16be":
        return (declared("UTF-16").decode() + text).encode("utf-16-be")
    body = text.encode("cp1252", "xmlcharrefreplace")
    return declared("windows-1252") + body if encoding == "cp1252-declared" else body


@st.composite
def documents(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """(body, HTTP charset)."""
    fmt = draw(st.sampled_from(FORMATS))
    specs = draw(st.lists(item_specs, max_size=6))
    if fmt == "json":
        body = encode(json_doc(specs), draw(st.sampled_from(("utf-8", "utf-8-bom"))))
    else:
        body = encode(xml_doc(fmt, specs), draw(st.sampled_from(ENCODINGS)))
    charset = draw(st.sampled_from([None, None, "utf-8", "iso-8859-1", "utf-16", "bogus"]))
    damage = draw(st.sampled_from(["none", "none", "cut", "bad-byte"]))
    if damage != "none" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] if damage == "cut" else body[:at] + b"\xff\xfe\x80" + body[at:]
    return body, charset


def read_in(body: bytes, size: int, charset: str | None) -> Any:
    reader = DocumentReader(FEED, charset=charset)
    entries: list[StagedEntry] = []
    for start in range(0, len(body), size):
        entries += reader.feed(body[start : start + size])
    entries += reader.close()
    error = reader.error
    return (
        # Job equality leaves its warnings out: they are compared beside it.
        [(entry, entry.warnings if isinstance(entry, Job) else ()) for entry in entries],
        None if error is None else (error.info.reason, error.info.line, error.info.column),
        reader.warnings,
    )


@settings(max_examples=examples(60), deadline=None)
@given(documents())
def test_corpus_shaped_documents_never_crash_and_never_depend_on_chunking(
    document: tuple[bytes, str | None],
) -> None:
    body, charset = document
    whole = read_in(body, max(len(body), 1), charset)
    for size in SIZES:
        assert read_in(body, size, charset) == whole, f"chunks of {size} bytes differ"
