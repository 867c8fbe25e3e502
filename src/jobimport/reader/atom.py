"""What an Atom 1.0 or 0.3 `<entry>` gives a job: its fields as the RSS mapping uses them.

`fields.index_item` files an entry's Atom elements under their local names (`title`, `link`, ...).
Text constructs (`title`, `summary`, `content`) become HTML by their `type`: `html` (Atom 0.3:
`text/html`) as written, `xhtml` (0.3: `application/xhtml+xml`, or any inline markup the parser
kept) as its markup, `text` (the default; 0.3: `text/plain`) escaped; Atom 0.3 `mode="base64"` is
not read.
"""

from __future__ import annotations

from html import escape
from typing import NamedTuple

from jobimport.reader.markup import collapse
from jobimport.reader.raw import RawElement

__all__ = ["DATE_FIELDS", "HTML_FIELDS", "Entry", "as_html", "read_entry"]

DATE_FIELDS = ("published", "issued", "created", "updated", "modified")
"""The entry's date: the first readable of Atom 1.0 `published`, Atom 0.3 `issued` and `created`,
then `updated` (0.3: `modified`)."""
HTML_FIELDS = ("content", "summary")

_HTML_TYPES = frozenset({"html", "text/html"})

_Fields = dict[str, list[RawElement]]


class Entry(NamedTuple):
    title: str  # HTML
    link: RawElement | None  # the chosen <link>
    guid: str  # the entry's id
    content: str  # HTML: the full description
    summary: str  # HTML: the teaser
    categories: list[str]
    content_base: str  # the xml:base on `content` (else on `summary`), as written


def read_entry(fields: _Fields) -> Entry:
    links = fields.get("link", ())
    # rel="alternate" (RFC 4287: also when rel is absent), else the first link of any rel.
    link = next(
        (el for el in links if el.attrs.get("rel", "alternate").strip() == "alternate"),
        links[0] if links else None,
    )
    ids = fields.get("id")
    texts = fields.get("content") or fields.get("summary") or ()
    return Entry(
        title=_html_of(fields, "title"),
        link=link,
        guid=collapse(ids[0].text) if ids else "",
        content=_html_of(fields, "content"),
        summary=_html_of(fields, "summary"),
        categories=[
            el.attrs.get("label", "").strip() or el.attrs.get("term", "")
            for el in fields.get("category", ())
        ],
        content_base=texts[0].attrs.get("xml:base", "") if texts else "",
    )


def _html_of(fields: _Fields, key: str) -> str:
    elements = fields.get(key)
    return as_html(elements[0]) if elements else ""


def as_html(element: RawElement) -> str:
    """A text construct as HTML, by its `type` (and Atom 0.3 `mode`)."""
    attrs = element.attrs
    if not attrs:
        return escape(element.text, quote=False)
    if attrs.get("mode", "").strip().lower() == "base64":
        return ""
    kind = attrs.get("type", "").strip().lower()
    if kind in _HTML_TYPES or "xhtml" in kind:
        return element.text
    return escape(element.text, quote=False)
