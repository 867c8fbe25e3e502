"""Reading one document into entries, chunk by chunk: parse, then normalize each item. The
CPU-bound half of a fetch, shared by the import pipeline and the preview of a feed.

The first byte that is not whitespace (after a UTF-8 BOM) decides the format: `{` is a JSON Feed
(`jsonfeed.py`), buffered whole up to `MAX_JSON_FEED_BYTES` and read at `close()`; anything else
goes to the streaming XML parser."""

from __future__ import annotations

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason, StagedEntry
from jobimport.reader import jsonfeed
from jobimport.reader.normalize import Normalizer
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

    def feed(self, chunk: bytes) -> list[StagedEntry]:
        if self._parser is not None:
            return self._entries(self._parser.feed(chunk))
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
        return self._entries(self._parser.feed(head))

    def close(self) -> list[StagedEntry]:
        if self._json is not None:
            if self._json_error is not None:
                return []
            try:
                items = jsonfeed.read_feed(bytes(self._json))
            except FeedError as exc:
                self._json_error = exc
                return []
            finally:
                self._json = bytearray()
            return self._entries(items)
        if self._parser is None:  # empty, or whitespace only: the parser says what it lacks
            self._parser = FeedParser(charset=self._charset)
            head, self._head = self._head, b""
            entries = self._entries(self._parser.feed(head))
            return entries + self._entries(self._parser.close())
        return self._entries(self._parser.close())

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

    def _entries(self, items: list[RawItem]) -> list[StagedEntry]:
        return [self._normalize(raw) for raw in items]

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
