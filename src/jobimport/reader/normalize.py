"""Normalize: one parsed RSS item or Atom entry (`atom.py`) → a `Job`, or an `ItemFailure`.

One `Normalizer` per document (and per thread): it resolves links against that document's base
(`xml:base`, else the response's `Content-Location`, else the final feed URL) and remembers the
identities it produced, so a repeat fails as `duplicate_in_feed`. Nothing here raises for any
input; an unusable item becomes an `ItemFailure` with a reason code. A date that is present but
unreadable does not fail its item: the job has no `published_at` and carries the warning
`date_unparsed` (`Job.warnings`). Each field is read by `fields.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobimport.models import (
    ItemFailure,
    ItemFailureReason,
    Job,
    SeenItem,
    WarningReason,
    job_id,
)
from jobimport.reader import atom, markup
from jobimport.reader.fields import (
    CONTENT_NS,
    DC_NS,
    JOBICY_NS,
    MAX_DESCRIPTION_BYTES,
    MAX_FIELD_CHARS,
    MEDIA_NS,
    Fields,
    author,
    category_names,
    enclosures,
    first_date,
    first_of,
    first_text,
    index_item,
    institution,
    is_permalink,
    oversized,
    rss_categories,
    rss_date,
    text_of,
)
from jobimport.reader.formats import ATOM_NS
from jobimport.reader.identity import content_hash, content_hash_of, external_id
from jobimport.reader.raw import RawElement, RawItem
from jobimport.reader.urls import feed_base, join_base, resolve_http_url, source_for

__all__ = [
    "CONTENT_NS",
    "DC_NS",
    "JOBICY_NS",
    "MAX_DESCRIPTION_BYTES",
    "MAX_FIELD_CHARS",
    "MEDIA_NS",
    "NORMALIZER_VERSION",
    "Normalizer",
    "Prepared",
    "content_hash_of",
    "fingerprint",
    "source_for",
]

SUMMARY_MAX_CHARS = 500
"""The teaser is cut (at a word, with `…`) to this many characters."""


NORMALIZER_VERSION = 1
"""Bump with any change to what `Normalizer` makes of an item: every stored fingerprint stops
matching, so each item is normalized again once (and counted by its content hash as ever)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """An item read far enough to know who it is and what its feed said (`Normalizer.prepare`);
    what `finish` needs to make the job."""

    raw: RawItem
    fields: Fields
    entry: atom.Entry | None
    source: str
    external_id: str
    fingerprint: str
    warnings: tuple[str, ...]
    base: str  # what its links resolve against
    html_base: str  # what links in its HTML resolve against ("": its own URL, else `base`)
    title: str
    company: str | None
    location: str | None
    url: str | None
    published_at: datetime | None
    full: str  # the full description, as HTML
    description: str  # the teaser (or the only description), as HTML

    @property
    def id(self) -> str:
        """The public id of the job it makes (`models.job_id`)."""
        return job_id(self.source, self.external_id)


def fingerprint(raw: RawItem, document_base: str) -> str:
    """What the feed said of one item: every element as parsed (names, namespaces, texts,
    attributes, children), its xml:base values and `rdf:about`, a JSON Feed item as written, the
    document's base and NORMALIZER_VERSION. Two items with one fingerprint make one job."""
    parts = [str(NORMALIZER_VERSION), document_base, raw.ns or "", raw.about, *raw.bases]
    _element_parts(raw.elements, parts)
    if raw.source_json is not None:
        parts.append(json.dumps(raw.source_json, sort_keys=True, default=str))
    # \x1f never occurs in parsed XML text (a control character XML 1.0 forbids).
    data = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _element_parts(elements: tuple[RawElement, ...], parts: list[str]) -> None:
    for element in elements:
        parts += ("<", element.local, element.ns or "", element.prefix or "", element.text)
        for name, value in element.attrs.items():
            parts += (name, value)
        if element.children:
            _element_parts(element.children, parts)
        parts.append(">")


class Normalizer:
    """Normalizes the items of ONE document; remembers identities to fail repeats as
    duplicate_in_feed. Not thread-safe: use one per document, in one thread."""

    def __init__(self, feed_url: str, *, base_url: str | None = None) -> None:
        """`base_url`: where the document came from, if not from `feed_url` (after redirects,
        or the response's `Content-Location`); the source is always `feed_url`'s."""
        self.feed_url = feed_url
        self.source = source_for(feed_url)
        self._base = feed_base(base_url or feed_url)
        self._html_base = self._base  # base for relative URLs in the item being sanitized
        self._bases: tuple[str, ...] = ()  # the last item's xml:base values, and their result
        self._bases_url = self._base
        self._cleaner = markup.make_cleaner(self._resolve_in_html)
        self._seen: set[str] = set()

    def __call__(self, raw: RawItem) -> Job | ItemFailure:
        """The item as a job, or why it cannot be one."""
        prepared = self.prepare(raw)
        return prepared if isinstance(prepared, ItemFailure) else self.finish(prepared)

    def prepare(self, raw: RawItem) -> Prepared | ItemFailure:
        """The cheap half: who the item is (its identity), what the feed said (its fingerprint),
        or why it cannot be a job. `finish` does the rest: sanitizing, the content hash, the raw
        JSON. An item whose fingerprint the store already holds for this feed needs no `finish`.
        """
        fields, long_text = index_item(raw)
        too_large = oversized(fields) if long_text else None
        if too_large is not None:
            title = markup.clean_text(text_of(fields, "title")[:200])
            return ItemFailure(
                ItemFailureReason.TOO_LARGE.value,
                too_large,
                position=raw.position,
                title=title or None,
            )

        entry = atom.read_entry(fields) if raw.ns in ATOM_NS else None
        base = self._xml_base(raw.bases) if raw.bases else ""  # "": none applies
        html_base = base
        if entry is None:
            title = markup.clean_text(text_of(fields, "title") or text_of(fields, "dc:title"))
            full = text_of(fields, "content:encoded")
            description = text_of(fields, "description") or text_of(fields, "dc:description")
            company = first_text(fields, "job_listing:company")
            location = first_text(fields, "job_listing:location")
            if self.source == "higheredjobs" and company is None and location is None:
                split = institution(description)
                if split is not None:
                    company, location = split
                    description = ""  # it was only the institution and place
            link, url, guid = self._locate(fields, raw.about, base or self._base)
            published_at, date_unparsed = rss_date(fields)
            id_text = text_of(fields, "id")
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
        return Prepared(
            raw=raw,
            fields=fields,
            entry=entry,
            source=self.source,
            external_id=job_key,
            fingerprint=fingerprint(raw, self._base),
            warnings=_warnings(raw, date_unparsed=date_unparsed),
            base=base or self._base,
            html_base=html_base,
            title=title,
            company=company,
            location=location,
            url=url,
            published_at=published_at,
            full=full,
            description=description,
        )

    def seen(self, prepared: Prepared) -> SeenItem:
        """The item as a sighting of the stored job whose fingerprint it matches."""
        return SeenItem(
            source=self.source,
            external_id=prepared.external_id,
            fingerprint=prepared.fingerprint,
            position=prepared.raw.position,
            warnings=prepared.warnings,
        )

    def finish(self, prepared: Prepared) -> Job:
        """The expensive half of normalizing a prepared item: the whole job."""
        fields, entry, url = prepared.fields, prepared.entry, prepared.url
        description_html, description_text, summary = self._describe(
            prepared.full, prepared.description, prepared.html_base or url or self._base
        )
        if entry is None:
            job_type = first_text(fields, "job_listing:job_type")
            categories = rss_categories(fields)
            logo_url = self._logo(fields)
        else:
            job_type, logo_url = None, None
            categories = category_names(entry.categories)
        content: dict[str, Any] = {
            "title": prepared.title,
            "company": prepared.company,
            "location": prepared.location,
            "job_type": job_type,
            "categories": categories,
            "summary": summary,
            "description_html": description_html,
            "url": url,
            "logo_url": logo_url,
            "published_at": prepared.published_at,
            "author": author(fields),
            "enclosures": enclosures(fields, prepared.base),
        }  # what a reader sees: the content hash covers exactly these
        return Job(
            source=self.source,
            external_id=prepared.external_id,
            content_hash=content_hash(content),
            description_text=description_text,
            raw=prepared.raw.to_json(),
            position=prepared.raw.position,
            warnings=prepared.warnings,
            fingerprint=prepared.fingerprint,
            **content,
        )

    def _locate(self, fields: Fields, about: str, base: str) -> tuple[str, str | None, str]:
        """(link as written, the job's URL or None, guid). Without a link, a permalink guid
        (RSS 2.0: the default) is the URL. An RSS 1.0 item's `rdf:about` stands in for a missing
        link and a missing guid."""
        link = text_of(fields, "link").strip() or about.strip()
        # A fragment-only link points at the feed document itself, not at a job.
        url = None if link.startswith("#") else resolve_http_url(link, base)
        guid_el = first_of(fields, "guid")
        guid = markup.collapse(guid_el.text) if guid_el is not None else ""
        if not link and guid_el is not None and is_permalink(guid_el):
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

    def _logo(self, fields: Fields) -> str | None:
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


def _warnings(raw: RawItem, *, date_unparsed: bool) -> tuple[str, ...]:
    """The item's leniencies: the parser's (`RawItem.warnings`), and `date_unparsed` for a date
    that is present but unreadable (the job imports with no `published_at`). Each reason once,
    sorted, so the same item always gives the same tuple."""
    parsed: Collection[str] = raw.warnings
    if not parsed and not date_unparsed:
        return ()
    reasons = set(parsed)
    if date_unparsed:
        reasons.add(WarningReason.DATE_UNPARSED.value)
    return tuple(sorted(reasons))


def _show(value: str) -> str:
    """A value for a failure message: stripped, at most 100 characters, quoted."""
    value = value.strip()
    return repr(value if len(value) <= 100 else value[:99] + "…")
