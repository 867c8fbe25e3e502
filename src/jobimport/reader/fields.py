"""The fields of one parsed item, by key, and the readers of each field the normalizer maps.

`index` files an item's elements under keys that do not depend on the prefixes the document
chose (`title`, `content:encoded`, `dc:creator`, ...); the functions below read one job field
each from that index. Nothing here raises for any input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import datetime

from jobimport.models import Enclosure
from jobimport.reader import atom, markup
from jobimport.reader.dates import parse_date
from jobimport.reader.raw import RawElement, RawItem
from jobimport.reader.urls import resolve_http_url

MAX_DESCRIPTION_BYTES = 2 * 1024 * 1024
"""An item whose description HTML (UTF-8) is larger fails as `too_large`."""

MAX_FIELD_CHARS = 64 * 1024
"""An item with a longer title, link, guid, date, company, ... fails as `too_large`."""

JOBICY_NS = "https://jobicy.com"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"

# Known namespaces → the prefix used as a key below, whatever prefix the document chose. The
# item's own namespace (RSS 0.90, RSS 1.0, a namespaced RSS 2.0) gives keys without a prefix.
_PREFIXES = {
    JOBICY_NS: "job_listing",
    CONTENT_NS: "content",
    MEDIA_NS: "media",
    DC_NS: "dc",
    DCTERMS_NS: "dcterms",
    ITUNES_NS: "itunes",
}
_AUTHOR_FIELDS = ("dc:creator", "author", "itunes:author")
_DATE_FIELDS = ("pubDate", "dc:date", "dcterms:issued", "dcterms:modified")
_SHORT_FIELDS = (
    "title",
    "dc:title",
    "link",
    "guid",
    *_DATE_FIELDS,
    *atom.DATE_FIELDS,
    "id",
    "job_listing:company",
    "job_listing:location",
    "job_listing:job_type",
    "job_listing:category",
    "category",
    *_AUTHOR_FIELDS,
)
_CATEGORY_FIELDS = ("job_listing:category", "category", "dc:subject", "media:category")
_HTML_FIELDS = ("content:encoded", "description", "dc:description", *atom.HTML_FIELDS)

# HigherEdJobs: "Institution (City, ST)"; the last parenthesized group is the location.
_INSTITUTION = re.compile(r"(.+?)\s*\(([^()]+)\)")
_INSTITUTION_MAX_CHARS = 300

# RSS 2.0 `<author>` is an email address, often followed by the name: `jobs@x.org (Jane Roe)`.
_EMAIL_AND_NAME = re.compile(r"[^\s@()]+@[^\s@()]+\s*\((.+)\)")

MAX_ENCLOSURES = 20
"""An item's enclosures beyond this many are left out (the raw item keeps them all)."""
_MAX_MEDIA_TYPE_CHARS = 255
_MAX_LENGTH_DIGITS = 15  # a petabyte; longer is not a length (and int() refuses 4,300 digits)

Fields = dict[str, list[RawElement]]

# Below this many characters no field can be too large (UTF-8 takes at most 4 bytes a
# character), so `oversized` is skipped for an item whose texts are all this short.
_LONG_TEXT = min(MAX_FIELD_CHARS, MAX_DESCRIPTION_BYTES // 4)

# Company, location, type and category values repeat across the items of a feed (and across
# feeds): their cleaned text is cached, for values short enough to keep.
_REPEATED_MAX_CHARS = 256
_clean_repeated = functools.lru_cache(maxsize=4096)(markup.clean_text)


def index_item(raw: RawItem) -> tuple[Fields, bool]:
    """The item's elements by key (`title`, `content:encoded`, ...), in document order; elements
    of namespaces we do not read are left out. The flag tells whether any of them has a text
    longer than _LONG_TEXT characters: without one, `oversized` cannot find anything."""
    fields: Fields = {}
    long_text = False
    own = raw.ns
    for element in raw.elements:
        ns = element.ns
        if ns is None or ns == own:
            key = element.local
        else:
            prefix = _PREFIXES.get(ns)
            if prefix is None:
                # WP Job Manager declares `job_listing` as the site's own URL, not jobicy.com.
                if element.prefix != "job_listing":
                    continue
                prefix = "job_listing"
            key = f"{prefix}:{element.local}"
        if len(element.text) > _LONG_TEXT:
            long_text = True
        fields.setdefault(key, []).append(element)
    return fields, long_text


def first_of(fields: Fields, key: str) -> RawElement | None:
    elements = fields.get(key)
    return elements[0] if elements else None


def text_of(fields: Fields, key: str) -> str:
    elements = fields.get(key)
    return elements[0].text if elements else ""


def first_text(fields: Fields, key: str) -> str | None:
    """The cleaned text of a field whose values repeat across items (company, location, ...)."""
    return clean_field(text_of(fields, key)) or None


def clean_field(value: str) -> str:
    """`markup.clean_text(value)`, cached for short values."""
    if len(value) <= _REPEATED_MAX_CHARS:
        return _clean_repeated(value)
    return markup.clean_text(value)


def oversized(fields: Fields) -> str | None:
    for key in _HTML_FIELDS:
        for element in fields.get(key, ()):
            size = len(element.text)
            # Characters are cheap to count and UTF-8 takes at most 4 bytes each: encode only
            # when the character count alone cannot decide.
            if size * 4 > MAX_DESCRIPTION_BYTES and (
                size > MAX_DESCRIPTION_BYTES
                or len(element.text.encode("utf-8", "surrogatepass")) > MAX_DESCRIPTION_BYTES
            ):
                return f"{element.name} is larger than {MAX_DESCRIPTION_BYTES} bytes"
    for key in _SHORT_FIELDS:
        for element in fields.get(key, ()):
            if len(element.text) > MAX_FIELD_CHARS:
                return f"{element.name} is longer than {MAX_FIELD_CHARS} characters"
    return None


def institution(description: str) -> tuple[str, str] | None:
    """`Institution (City, ST)` → (institution, "City, ST"); None for anything else."""
    if "<" in description or len(description) > _INSTITUTION_MAX_CHARS:
        return None
    match = _INSTITUTION.fullmatch(markup.clean_text(description))
    if match is None:
        return None
    company, location = match[1].strip(), match[2].strip()
    return (company, location) if company and location else None


def rss_categories(fields: Fields) -> tuple[str, ...]:
    # Sorted and deduplicated case-insensitively: their order carries no meaning in RSS, and
    # re-ordering them must not change the content hash.
    names = [element.text for key in _CATEGORY_FIELDS if key in fields for element in fields[key]]
    if "itunes:category" in fields:  # <itunes:category text="Jobs"><itunes:category text=.../>
        for element in fields["itunes:category"]:
            names.append(element.attrs.get("text", ""))
            names.extend(child.attrs.get("text", "") for child in element.children)
    return category_names(names)


def category_names(names: Iterable[str]) -> tuple[str, ...]:
    """Cleaned, deduplicated case-insensitively, sorted."""
    found: dict[str, str] = {}
    for value in names:
        name = clean_field(value)
        if name:  # of spellings differing in case, the same one wins in any order
            key = name.casefold()
            found[key] = min(found.get(key, name), name)
    return tuple(found[key] for key in sorted(found))


def rss_date(fields: Fields) -> tuple[datetime | None, bool]:
    """(published_at, whether a date was present but unreadable). `pubDate` first, then
    `dc:date`, `dcterms:issued`, `dcterms:modified`: the first readable one is used."""
    return first_date(fields, _DATE_FIELDS)


def first_date(fields: Fields, keys: tuple[str, ...]) -> tuple[datetime | None, bool]:
    """(the first readable date of `keys`, whether one was present but unreadable)."""
    unreadable = False
    for key in keys:
        value = text_of(fields, key).strip()
        if value:
            date = parse_date(value)
            if date is not None:
                return date, False
            unreadable = True
    return None, unreadable


def is_permalink(guid: RawElement) -> bool:
    return guid.attrs.get("isPermaLink", "true").strip().lower() != "false"


def author(fields: Fields) -> str | None:
    """`dc:creator`, else RSS `author` (the name, when it follows an email address), else
    `itunes:author`; an Atom entry's `author/name` (all of them, comma-separated)."""
    for key in _AUTHOR_FIELDS:
        elements = fields.get(key, ())
        # Atom: <author><name>…</name><email>…</email></author>, once per author.
        names = [c.text for el in elements for c in el.children if c.local == "name"]
        if names:
            value = ", ".join(n for n in map(clean_field, names) if n)
            if value:
                return value
            continue
        for element in elements:
            value = clean_field(element.text)
            match = _EMAIL_AND_NAME.fullmatch(value)
            if match is not None:
                value = match[1].strip()
            if value:
                return value
    return None


def enclosures(fields: Fields, base: str) -> tuple[Enclosure, ...]:
    """RSS `<enclosure url type length>` and Atom `<link rel="enclosure" href type length>`,
    resolved against `base`; only http(s) URLs, each once, at most MAX_ENCLOSURES."""
    found: dict[str, Enclosure] = {}
    candidates = [(el, "url") for el in fields.get("enclosure", ())]
    candidates += [
        (el, "href")
        for el in fields.get("link", ())
        if el.attrs.get("rel", "").strip().lower() == "enclosure"
    ]
    for element, url_attr in candidates:
        if len(found) == MAX_ENCLOSURES:
            break
        url = resolve_http_url(element.attrs.get(url_attr, ""), base)
        if url is None or url in found or len(url) > MAX_FIELD_CHARS:
            continue
        media_type = element.attrs.get("type", "").strip()[:_MAX_MEDIA_TYPE_CHARS] or None
        length = element.attrs.get("length", "").strip()
        readable = length.isascii() and length.isdigit() and len(length) <= _MAX_LENGTH_DIGITS
        found[url] = Enclosure(url, media_type, int(length) if readable else None)
    return tuple(found.values())
