"""Reading one document into entries, chunk by chunk: parse, then normalize each item. The
CPU-bound half of a fetch, shared by the import pipeline and the preview of a feed. The pipeline
prepares items first (`feed_prepared`) and finishes only those the store does not already hold
as they are (`finish`, else `seen`).

The first byte that is not whitespace (after a UTF-8 BOM) decides the format: `{` is a JSON Feed
(`jsonfeed.py`), buffered whole up to `MAX_JSON_FEED_BYTES` and read at `close()`; anything else
goes to the streaming XML parser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jobimport.errors import FeedError
from jobimport.models import (
    FeedErrorInfo,
    FeedFailureReason,
    ItemFailure,
    Job,
    StagedEntry,
)
from jobimport.reader import jsonfeed
from jobimport.reader.normalize import Normalizer, Prepared
from jobimport.reader.parse import FeedParser
from jobimport.reader.raw import RawItem

_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


class DocumentReader:
    """Parses and normalizes one document, chunk by chunk. Runs in a worker thread: CPU-bound.

    `charset` is the one the HTTP Content-Type names (`FeedResponse.charset`), if any: it
    outranks the document's XML declaration (a JSON Feed is UTF-8, or UTF-16/32 as JSON allows).
    `base_url` (`FeedResponse.base_url`) is what relative links resolve against, below any
    `xml:base`; the job's source is always `feed_url`'s."""

    def __init__(
        self, feed_url: str, *, charset: str | None = None, base_url: str | None = None
    ) -> None:
        self._charset = charset
        self._parser: FeedParser | None = None  # once the body is known to be XML
        self._json: bytearray | None = None  # once the body is known to be JSON
        self._json_error: FeedError | None = None
        self._head = b""  # the first bytes, until they tell the format
        self._normalize = Normalizer(feed_url, base_url=base_url)

    def feed(self, chunk: bytes) -> list[Job | ItemFailure]:
        """The entries the chunk completed, normalized whole."""
        return [self._normalize(raw) for raw in self._read(chunk)]

    def close(self) -> list[Job | ItemFailure]:
        """The last entries, at the end of the document."""
        return [self._normalize(raw) for raw in self._end()]

    def feed_prepared(self, chunk: bytes) -> list[Prepared | ItemFailure]:
        """As `feed`, but items only prepared (`Normalizer.prepare`): `finish` or `seen` each."""
        return [self._normalize.prepare(raw) for raw in self._read(chunk)]

    def close_prepared(self) -> list[Prepared | ItemFailure]:
        return [self._normalize.prepare(raw) for raw in self._end()]

    def resolve(
        self, items: Sequence[Prepared | ItemFailure], known: Mapping[str, str]
    ) -> list[StagedEntry]:
        """Prepared items as staged entries: a sighting (`SeenItem`) where `known` (job id →
        the fingerprint stored for this feed) holds the item's fingerprint, else the whole job."""
        out: list[StagedEntry] = []
        normalize = self._normalize
        for item in items:
            if isinstance(item, ItemFailure):
                out.append(item)
            elif known.get(item.id) == item.fingerprint:
                out.append(normalize.seen(item))
            else:
                out.append(normalize.finish(item))
        return out

    def _read(self, chunk: bytes) -> list[RawItem]:
        if self._parser is not None:
            return self._parser.feed(chunk)
        if self._json is not None:
            self._take_json(chunk)
            return []
        self._head += chunk
        is_json = _is_json(self._head)
        if is_json is None:
            return []
        head, self._head = self._head, b""
        if is_json:
            self._json = bytearray()
            self._take_json(head)
            return []
        self._parser = FeedParser(charset=self._charset)
        return self._parser.feed(head)

    def _end(self) -> list[RawItem]:
        if self._json is not None:
            if self._json_error is not None:
                return []
            try:
                return jsonfeed.read_feed(bytes(self._json))
            except FeedError as exc:
                self._json_error = exc
                return []
            finally:
                self._json = bytearray()
        if self._parser is None:  # empty, or whitespace only: the parser says what it lacks
            self._parser = FeedParser(charset=self._charset)
            head, self._head = self._head, b""
            return self._parser.feed(head) + self._parser.close()
        return self._parser.close()

    @property
    def error(self) -> FeedError | None:
        if self._parser is not None:
            return self._parser.error
        return self._json_error

    @property
    def warnings(self) -> dict[str, int]:
        """Document-level warnings (`models.WarningReason` values), each counted once:
        `encoding_replaced`, and `html_entity` / `undeclared_prefix` met outside items."""
        return self._parser.warnings if self._parser is not None else {}

    def _take_json(self, chunk: bytes) -> None:
        if self._json is None or self._json_error is not None:
            return
        if len(self._json) + len(chunk) > jsonfeed.MAX_JSON_FEED_BYTES:
            self._json = bytearray()
            self._json_error = FeedError(
                FeedErrorInfo(
                    FeedFailureReason.TOO_LARGE,
                    f"a JSON Feed larger than {jsonfeed.MAX_JSON_FEED_BYTES} bytes",
                )
            )
            return
        self._json += chunk


def _is_json(head: bytes) -> bool | None:
    """Whether a body starting with `head` is JSON (its first character past a UTF-8 BOM and
    whitespace is `{`), or None while `head` does not tell yet."""
    if len(head) < len(_UTF8_BOM) and _UTF8_BOM.startswith(head):
        return None
    rest = head.removeprefix(_UTF8_BOM).lstrip(_WHITESPACE)
    if not rest:
        return None
    return rest.startswith(b"{")
