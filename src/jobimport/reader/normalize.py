"""Normalize: one parsed RSS item or Atom entry (`atom.py`) → a `Job`, or an `ItemFailure`.

One `Normalizer` per document (and per thread): it resolves links against that document's feed
URL and remembers the identities it produced, so a repeat fails as `duplicate_in_feed`. Nothing
here raises for any input; an unusable item becomes an `ItemFailure` with a reason code. A date
that is present but unreadable does not fail its item: the job has no `published_at` and carries
the warning `date_unparsed` (`Job.warnings`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from jobimport.models import ItemFailure, ItemFailureReason, Job, WarningReason
from jobimport.reader import atom, markup
from jobimport.reader.dates import parse_date
from jobimport.reader.formats import ATOM_NS
from jobimport.reader.identity import content_hash, content_hash_of, external_id
from jobimport.reader.raw import RawElement, RawItem
from jobimport.reader.urls import feed_base, join_base, resolve_http_url, source_for

__all__ = [
    "MAX_DESCRIPTION_BYTES",
    "MAX_FIELD_CHARS",
    "Normalizer",
    "content_hash_of",
    "source_for",
]

MAX_DESCRIPTION_BYTES = 2 * 1024 * 1024
"""An item whose description HTML (UTF-8) is larger fails as `too_large`."""

MAX_FIELD_CHARS = 64 * 1024
"""An item with a longer title, link, guid, date, company, ... fails as `too_large`."""

SUMMARY_MAX_CHARS = 500
"""The teaser is cut (at a word, with `…`) to this many characters."""

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
)
_CATEGORY_FIELDS = ("job_listing:category", "category", "dc:subject", "media:category")
_HTML_FIELDS = ("content:encoded", "description", "dc:description", *atom.HTML_FIELDS)

# HigherEdJobs: "Institution (City, ST)"; the last parenthesized group is the location.
_INSTITUTION = re.compile(r"(.+?)\s*\(([^()]+)\)")
_INSTITUTION_MAX_CHARS = 300

_Fields = dict[str, list[RawElement]]

# Below this many characters no field can be too large (UTF-8 takes at most 4 bytes a
# character), so `_oversized` is skipped for an item whose texts are all this short.
_LONG_TEXT = min(MAX_FIELD_CHARS, MAX_DESCRIPTION_BYTES // 4)

# Company, location, type and category values repeat across the items of a feed (and across
# feeds): their cleaned text is cached, for values short enough to keep.
_REPEATED_MAX_CHARS = 256
_clean_repeated = functools.lru_cache(maxsize=4096)(markup.clean_text)


class Normalizer:
    """Normalizes the items of ONE document; remembers identities to fail repeats as
    duplicate_in_feed. Not thread-safe: use one per document, in one thread."""

    def __init__(self, feed_url: str) -> None:
        self.feed_url = feed_url
        self.source = source_for(feed_url)
        self._base = feed_base(feed_url)
        self._html_base = self._base  # base for relative URLs in the item being sanitized
        self._bases: tuple[str, ...] = ()  # the last item's xml:base values, and their result
        self._bases_url = self._base
        self._cleaner = markup.make_cleaner(self._resolve_in_html)
        self._seen: set[str] = set()

    def __call__(self, raw: RawItem) -> Job | ItemFailure:
        fields, long_text = _index(raw)
        oversized = _oversized(fields) if long_text else None
        if oversized is not None:
            title = markup.clean_text(_text(fields, "title")[:200])
            return ItemFailure(
                ItemFailureReason.TOO_LARGE.value,
                oversized,
                position=raw.position,
                title=title or None,
            )

        entry = atom.read_entry(fields) if raw.ns in ATOM_NS else None
        base = self._xml_base(raw.bases) if raw.bases else ""  # "": none applies
        html_base = base
        if entry is None:
            title = markup.clean_text(_text(fields, "title") or _text(fields, "dc:title"))
            full = _text(fields, "content:encoded")
            description = _text(fields, "description") or _text(fields, "dc:description")
            company = _first_text(fields, "job_listing:company")
            location = _first_text(fields, "job_listing:location")
            if self.source == "higheredjobs" and company is None and location is None:
                split = _institution(description)
                if split is not None:
                    company, location = split
                    description = ""  # it was only the institution and place
            link, url, guid = self._locate(fields, raw.about, base or self._base)
            published_at, date_unparsed = _published(fields)
            id_text = _text(fields, "id")
        else:
            title = markup.clean_text(entry.title)
            full, description = entry.content, entry.summary
            company = location = None
            link, link_base = "", base or self._base
            if entry.link is not None:
                link = entry.link.attrs.get("href", "").strip()
                link_base = join_base(link_base, entry.link.attrs.get("xml:base", ""))
            url = None if link.startswith("#") else resolve_http_url(link, link_base)
            if entry.content_base:
                html_base = join_base(base or self._base, entry.content_base)
            guid, id_text = entry.guid, ""
            published_at, date_unparsed = first_date(fields, atom.DATE_FIELDS)

        job_key = external_id(
            self.source,
            id_text=id_text,
            url=url,
            guid=guid,
            title=title,
            company=company,
        )
        identity = f"{self.source}:{job_key}"

        def failure(reason: ItemFailureReason, message: str) -> ItemFailure:
            return ItemFailure(
                reason.value,
                message,
                position=raw.position,
                identity=identity,
                url=url or (link[:2048] or None),
                title=title or None,
            )

        if not title:
            return failure(ItemFailureReason.MISSING_TITLE, "item has no title")
        if url is None and link:
            return failure(
                ItemFailureReason.INVALID_URL, f"link {_show(link)} is not a usable http(s) URL"
            )
        if identity in self._seen:
            return failure(
                ItemFailureReason.DUPLICATE_IN_FEED, f"{identity} appeared earlier in this feed"
            )
        self._seen.add(identity)

        description_html, description_text, summary = self._describe(
            full, description, html_base or url or self._base
        )
        if entry is None:
            job_type = _first_text(fields, "job_listing:job_type")
            categories = _categories(fields)
            logo_url = self._logo(fields)
        else:
            job_type, logo_url = None, None
            categories = category_names(entry.categories)
        warnings = _warnings(raw, date_unparsed=date_unparsed)
        content: dict[str, Any] = {
            "title": title,
            "company": company,
            "location": location,
            "job_type": job_type,
            "categories": categories,
            "summary": summary,
            "description_html": description_html,
            "url": url,
            "logo_url": logo_url,
            "published_at": published_at,
        }  # what a reader sees: the content hash covers exactly these
        return Job(
            source=self.source,
            external_id=job_key,
            content_hash=content_hash(content),
            description_text=description_text,
            raw=raw.to_json(),
            position=raw.position,
            warnings=warnings,
            **content,
        )

    def _locate(self, fields: _Fields, about: str, base: str) -> tuple[str, str | None, str]:
        """(link as written, the job's URL or None, guid). Without a link, a permalink guid
        (RSS 2.0: the default) is the URL. An RSS 1.0 item's `rdf:about` stands in for a missing
        link and a missing guid."""
        link = _text(fields, "link").strip() or about.strip()
        # A fragment-only link points at the feed document itself, not at a job.
        url = None if link.startswith("#") else resolve_http_url(link, base)
        guid_el = _first(fields, "guid")
        guid = markup.collapse(guid_el.text) if guid_el is not None else ""
        if not link and guid_el is not None and _is_permalink(guid_el):
            url = resolve_http_url(guid, "")
        if guid_el is None and about:
            guid = markup.collapse(about)
        return link, url, guid

    def _describe(self, content: str, description: str, base: str) -> tuple[str, str, str | None]:
        """(description_html, description_text, summary). With `content:encoded` present, that is
        the full description and `<description>` the teaser; otherwise `<description>` is both."""
        # The nearest xml:base, else the item's page (where its HTML came from), else the feed.
        self._html_base = base
        if content and not content.isspace():  # content.strip(), without copying 2 KB
            description_html = markup.sanitize(self._cleaner, content)
            description_text = markup.html_to_text(description_html)
            summary = markup.clean_text(description) or description_text
        else:
            description_html = markup.sanitize(self._cleaner, description) if description else ""
            description_text = markup.html_to_text(description_html)
            summary = description_text
        return (
            description_html,
            description_text,
            markup.truncate(summary, SUMMARY_MAX_CHARS) or None,
        )

    def _xml_base(self, bases: tuple[str, ...]) -> str:
        """The item's `xml:base` values, outermost first, resolved against the feed URL; the
        last item's result is kept, as the items of a feed share theirs."""
        if bases != self._bases:
            url = self._base
            for value in bases:
                url = join_base(url, value)
            self._bases, self._bases_url = bases, url
        return self._bases_url

    def _logo(self, fields: _Fields) -> str | None:
        for key in ("media:content", "media:thumbnail"):
            for element in fields.get(key, ()):
                logo = resolve_http_url(element.attrs.get("url", ""), self._base)
                if logo is not None:
                    return logo
        return None

    def _resolve_in_html(self, relative: str) -> str | None:
        # Called by nh3 for relative href/src; must not raise (nh3 would report it as unraisable).
        try:
            return resolve_http_url(relative, self._html_base)
        except Exception:
            return None


def _index(raw: RawItem) -> tuple[_Fields, bool]:
    """The item's elements by key (`title`, `content:encoded`, ...), in document order; elements
    of namespaces we do not read are left out. The flag tells whether any of them has a text
    longer than _LONG_TEXT characters: without one, `_oversized` cannot find anything."""
    fields: _Fields = {}
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


def _first(fields: _Fields, key: str) -> RawElement | None:
    elements = fields.get(key)
    return elements[0] if elements else None


def _text(fields: _Fields, key: str) -> str:
    elements = fields.get(key)
    return elements[0].text if elements else ""


def _first_text(fields: _Fields, key: str) -> str | None:
    """The cleaned text of a field whose values repeat across items (company, location, ...)."""
    return _clean_field(_text(fields, key)) or None


def _clean_field(value: str) -> str:
    """`markup.clean_text(value)`, cached for short values."""
    if len(value) <= _REPEATED_MAX_CHARS:
        return _clean_repeated(value)
    return markup.clean_text(value)


def _oversized(fields: _Fields) -> str | None:
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


def _institution(description: str) -> tuple[str, str] | None:
    """`Institution (City, ST)` → (institution, "City, ST"); None for anything else."""
    if "<" in description or len(description) > _INSTITUTION_MAX_CHARS:
        return None
    match = _INSTITUTION.fullmatch(markup.clean_text(description))
    if match is None:
        return None
    company, location = match[1].strip(), match[2].strip()
    return (company, location) if company and location else None


def _categories(fields: _Fields) -> tuple[str, ...]:
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
        name = _clean_field(value)
        if name:  # of spellings differing in case, the same one wins in any order
            key = name.casefold()
            found[key] = min(found.get(key, name), name)
    return tuple(found[key] for key in sorted(found))


def _published(fields: _Fields) -> tuple[datetime | None, bool]:
    """(published_at, whether a date was present but unreadable). `pubDate` first, then
    `dc:date`, `dcterms:issued`, `dcterms:modified`: the first readable one is used."""
    return first_date(fields, _DATE_FIELDS)


def first_date(fields: _Fields, keys: tuple[str, ...]) -> tuple[datetime | None, bool]:
    """(the first readable date of `keys`, whether one was present but unreadable)."""
    unreadable = False
    for key in keys:
        text = _text(fields, key).strip()
        if text:
            published = parse_date(text)
            if published is not None:
                return published, False
            unreadable = True
    return None, unreadable


def _warnings(raw: RawItem, *, date_unparsed: bool) -> tuple[str, ...]:
    """The item's leniencies: the parser's (`RawItem.warnings`), and `date_unparsed` for a date
    that is present but unreadable (the job imports with no `published_at`). Each reason once,
    sorted, so the same item always gives the same tuple."""
    # `RawItem.warnings` (a frozenset of WarningReason values) is being added by the parser's
    # change; getattr reads it once it exists and nothing before.
    parsed: Collection[str] = getattr(raw, "warnings", ())
    if not parsed and not date_unparsed:
        return ()
    reasons = set(parsed)
    if date_unparsed:
        reasons.add(WarningReason.DATE_UNPARSED.value)
    return tuple(sorted(reasons))


def _is_permalink(guid: RawElement) -> bool:
    return guid.attrs.get("isPermaLink", "true").strip().lower() != "false"


def _show(value: str) -> str:
    """A value for a failure message: stripped, at most 100 characters, quoted."""
    value = value.strip()
    return repr(value if len(value) <= 100 else value[:99] + "…")
