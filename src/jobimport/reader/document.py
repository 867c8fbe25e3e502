"""Reading one document into entries, chunk by chunk: parse, then normalize each item. The
CPU-bound half of a fetch, shared by the import pipeline and the preview of a feed."""

from __future__ import annotations

from jobimport.errors import FeedError
from jobimport.models import StagedEntry
from jobimport.reader.normalize import Normalizer
from jobimport.reader.parse import FeedParser


class DocumentReader:
    """Parses and normalizes one document, chunk by chunk. Runs in a worker thread: CPU-bound.

    `charset` is the one the HTTP Content-Type names (`FeedResponse.charset`), if any: it
    outranks the document's XML declaration."""

    def __init__(self, feed_url: str, *, charset: str | None = None) -> None:
        self._parser = FeedParser(charset=charset)
        self._normalize = Normalizer(feed_url)

    def feed(self, chunk: bytes) -> list[StagedEntry]:
        return [self._normalize(raw) for raw in self._parser.feed(chunk)]

    def close(self) -> list[StagedEntry]:
        return [self._normalize(raw) for raw in self._parser.close()]

    @property
    def error(self) -> FeedError | None:
        return self._parser.error

    @property
    def warnings(self) -> dict[str, int]:
        """Document-level warnings (`models.WarningReason` values), each counted once:
        `encoding_replaced`, and `html_entity` / `undeclared_prefix` met outside items."""
        return self._parser.warnings
