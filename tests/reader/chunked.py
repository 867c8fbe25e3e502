"""Parse a document whole and in chunks of 1, 7 and 65536 bytes, and insist on one outcome; and
small documents to parse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobimport.reader.parse import FeedParser
from jobimport.reader.raw import RawItem

SIZES = (1, 7, 65536)


@dataclass(frozen=True)
class Outcome:
    """Everything a parse gives: the items, the error (reason, line) and document warnings."""

    items: tuple[RawItem, ...]
    error: tuple[str, int | None] | None
    warnings: tuple[tuple[str, int], ...]
    encoding: str | None

    @property
    def texts(self) -> list[dict[str, Any]]:
        """Each item as JSON: element name → text (or attributes)."""
        return [item.to_json() for item in self.items]

    @property
    def item_warnings(self) -> list[set[str]]:
        return [set(item.warnings) for item in self.items]

    @property
    def reason(self) -> str | None:
        return None if self.error is None else self.error[0]


def parse_in(doc: bytes, size: int, charset: str | None = None) -> Outcome:
    parser = FeedParser(charset=charset)
    items: list[RawItem] = []
    for start in range(0, len(doc), size):
        items += parser.feed(doc[start : start + size])
    items += parser.close()
    error = parser.error
    return Outcome(
        tuple(items),
        None if error is None else (error.info.reason, error.info.line),
        tuple(parser.warnings.items()),
        parser.encoding,
    )


def parse_every_way(doc: bytes, charset: str | None = None) -> Outcome:
    """The outcome of `doc` parsed whole, the same as in chunks of every size in SIZES."""
    whole = parse_in(doc, max(len(doc), 1), charset)
    for size in SIZES:
        assert parse_in(doc, size, charset) == whole, f"chunks of {size} bytes differ"
    return whole


def doc(title: str, *, declaration: str = "", more: str = "") -> str:
    return (
        f"{declaration}<rss><channel><title>Jobs</title>{more}"
        f"<item><title>{title}</title></item><item><title>next</title></item></channel></rss>"
    )


def raw_doc(title: bytes, *, declaration: str = "", more: str = "") -> bytes:
    """`doc` in UTF-8 with `title`'s bytes as they are."""
    return doc("TITLE", declaration=declaration, more=more).encode().replace(b"TITLE", title)


def declared(encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n'
