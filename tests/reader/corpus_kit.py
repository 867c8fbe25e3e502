"""The corpus's vocabulary: what a row expects (`Item`, `Failed`, `Shape`), the namespaces, and
small builders of RSS documents. The rows are in corpus_text.py and corpus_formats.py."""

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
    author: str | None = None
    enclosures: tuple[str, ...] = ()  # their URLs

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
    headers: dict[str, str] = field(default_factory=dict)  # more response headers


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


def utf8_shape(name: str, doc: str, items: tuple[Item | Failed, ...], **more: object) -> Shape:
    content_type = more.pop("content_type", RSS_CT)
    return Shape(name, doc.encode(), content_type, items, **more)  # type: ignore[arg-type]
