"""Reading one document into entries, chunk by chunk: parse, then normalize each item. The
CPU-bound half of a fetch, shared by the import pipeline and the preview of a feed."""

from __future__ import annotations

from jobimport.errors import FeedError
from jobimport.models import StagedEntry
from jobimport.reader.normalize import Normalizer
from jobimport.reader.parse import FeedParser


class DocumentReader:
    """Parses and normalizes one document, chunk by chunk. Runs in a worker thread: CPU-bound."""

    def __init__(self, feed_url: str) -> None:
        self._parser = FeedParser()
        self._normalize = Normalizer(feed_url)

    def feed(self, chunk: bytes) -> list[StagedEntry]:
        return [self._normalize(raw) for raw in self._parser.feed(chunk)]

    def close(self) -> list[StagedEntry]:
        return [self._normalize(raw) for raw in self._parser.close()]

    @property
    def error(self) -> FeedError | None:
        return self._parser.error
