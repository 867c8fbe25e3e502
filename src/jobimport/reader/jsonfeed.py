"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org): a whole document → `RawItem`s the RSS mapping of
`normalize` reads, so sanitizing, identity, content hash and duplicate detection are the same.

Pure: no I/O. Each item becomes the RSS elements of the same meaning: `id` → a non-permalink
`guid` (a number as its text), `url` (else `external_url`) → `link`, `title` → `title`,
`content_html` (else `content_text`, escaped) → `content:encoded`, `summary` (escaped) →
`description`, `date_published` → `pubDate` and `date_modified` → `dcterms:modified`, `tags` →
`category`, `image` → `media:content` (the logo, resolved against the feed URL as RSS does),
the names of `authors` (1.0: `author`; else the feed's) → `author`, `attachments` → `enclosure`
(`url`, `mime_type` → `type`, `size_in_bytes` → `length`). A
relative `url`, and links in the content, resolve against the feed's
`home_page_url` (itself resolved against the feed URL), as an `xml:base` would. Values of the
wrong JSON type are left out. The item object is the job's `raw`.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason
from jobimport.reader.raw import RawElement, RawItem

__all__ = ["MAX_JSON_FEED_BYTES", "VERSIONS", "read_feed"]

MAX_JSON_FEED_BYTES = 32 * 1024 * 1024
"""A JSON Feed is read whole: a larger body fails as `too_large`."""

VERSIONS = frozenset({"https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1"})

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_MEDIA_NS = "http://search.yahoo.com/mrss/"
_DCTERMS_NS = "http://purl.org/dc/terms/"


def read_feed(body: bytes) -> list[RawItem]:
    """The items of a JSON Feed document; raise FeedError `malformed_json` for a body that is not
    JSON (or broke off), `not_a_feed` for JSON that is not a JSON Feed."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise FeedError(
            FeedErrorInfo(
                FeedFailureReason.MALFORMED_JSON,
                f"not valid JSON: {exc.msg}",
                line=exc.lineno,
                column=exc.colno,
            )
        ) from exc
    except (ValueError, RecursionError) as exc:  # undecodable bytes; nesting too deep
        raise FeedError(
            FeedErrorInfo(FeedFailureReason.MALFORMED_JSON, f"not readable JSON: {exc}")
        ) from exc
    version = document.get("version") if isinstance(document, dict) else None
    if version not in VERSIONS:
        raise FeedError(
            FeedErrorInfo(
                FeedFailureReason.NOT_A_FEED,
                f"JSON whose version is {_show(version)}, not a JSON Feed 1.0 or 1.1 URL",
            )
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(
            FeedErrorInfo(FeedFailureReason.NOT_A_FEED, "a JSON Feed without an `items` array")
        )
    home = _str(document, "home_page_url").strip()
    bases = (home,) if home else ()
    feed_authors = _author_names(document)
    return [_item(position, item, bases, feed_authors) for position, item in enumerate(items)]


def _item(position: int, item: Any, bases: tuple[str, ...], feed_authors: str) -> RawItem:
    if not isinstance(item, dict):
        return RawItem(position, (), bases=bases, source_json={})
    elements: list[RawElement] = []

    def add(local: str, text: str, ns: str | None = None, **attrs: str) -> None:
        if text:
            elements.append(RawElement(local, ns=ns, text=text, attrs=attrs))

    add("title", escape(_str(item, "title"), quote=False))
    add("link", _str(item, "url") or _str(item, "external_url"))
    ident = item.get("id")
    if isinstance(ident, (int, float)) and not isinstance(ident, bool):
        ident = str(ident)
    if isinstance(ident, str):
        add("guid", ident, isPermaLink="false")
    html = _str(item, "content_html") or escape(_str(item, "content_text"), quote=False)
    add("encoded", html, _CONTENT_NS)
    add("description", escape(_str(item, "summary"), quote=False))
    add("pubDate", _str(item, "date_published"))
    add("modified", _str(item, "date_modified"), _DCTERMS_NS)
    tags = item.get("tags")
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, str):
            add("category", tag)
    image = _str(item, "image").strip()
    if image:
        elements.append(RawElement("content", ns=_MEDIA_NS, attrs={"url": image}))
    add("author", escape(_author_names(item) or feed_authors, quote=False))
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else ():
        if isinstance(attachment, dict) and _str(attachment, "url"):
            size = attachment.get("size_in_bytes")
            length = str(size) if isinstance(size, int) and not isinstance(size, bool) else ""
            attrs = {"url": _str(attachment, "url"), "type": _str(attachment, "mime_type")}
            elements.append(RawElement("enclosure", attrs={**attrs, "length": length}))
    return RawItem(position, tuple(elements), bases=bases, source_json=item)


def _author_names(obj: dict[str, Any]) -> str:
    """The names of 1.1 `authors`, else of the 1.0 `author` object, comma-separated."""
    authors = obj.get("authors")
    if not isinstance(authors, list):
        authors = [obj.get("author")]
    return ", ".join(
        name for a in authors if isinstance(a, dict) and (name := _str(a, "name").strip())
    )


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 100 else text[:99] + "…"
