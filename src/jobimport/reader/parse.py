"""Streaming, hardened RSS parsing: decoded body chunks in, `RawItem`s out (DESIGN §4).

lxml's pull parser with entities, DTD loading and network off stops billion laughs, 10 MB text
nodes and depth 256; we add entity-declaration refusal and caps on attributes, text, depth, prologue
and item size. Each completed item and every finished element outside items is cleared, so memory
stays flat. Bad input never raises: it sets `FeedParser.error`, keeping the items before it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from html.entities import html5
from typing import Any, cast

from lxml import etree

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason
from jobimport.reader.raw import RawElement, RawItem

__all__ = ["FeedParser", "iter_items"]

_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_ATOM_NS = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"})
_XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_PROLOGUE_BYTES = 1 << 20
"""Bytes allowed before the root element: real prologues are tiny; a huge DTD is an attack."""
MAX_ITEM_ELEMENTS = 10_000
"""Elements allowed in one item: an item is held whole until it ends, so it must stay small."""

_TOO_LARGE = FeedFailureReason.TOO_LARGE.value
_MALFORMED = FeedFailureReason.MALFORMED_XML.value
# How libxml2 reports its own size limits; the phrases hold spaces, so no XML name matches them.
_LIMIT_TYPES = frozenset({"ERR_RESOURCE_LIMIT", "ERR_NAME_TOO_LONG"})
_LIMIT_PHRASES = ("too long", "too big", "huge text node")
_ENCODING_HINT = (
    ": the body must be UTF-8 unless its XML declaration names another encoding"
    ' (e.g. <?xml version="1.0" encoding="ISO-8859-1"?>)'
)
_ERROR, _FATAL = 2, 3  # libxml2 XML_ERR_ERROR, XML_ERR_FATAL
_SAFE: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}


class FeedParser:
    """Push parser: feed() decoded-body chunks, get the items completed so far.

    Items are `<item>` children of `rss/channel` (RSS 2.0, 0.9x) or of `rdf:RDF` (RSS 1.0). After
    the first problem `error` is set and feed()/close() return [] and ignore their input.
    """

    def __init__(
        self,
        *,
        max_depth: int = 64,
        max_text_bytes: int = 10 * 2**20,
        max_attr_bytes: int = 2**20,
    ) -> None:
        self.error: FeedError | None = None
        self.items_seen = 0
        self.channel_title: str | None = None
        self._max_depth = max_depth
        self._max_text = max_text_bytes
        self._max_attr = max_attr_bytes
        self._parser: etree.XMLPullParser | None = etree.XMLPullParser(
            events=("start", "end"), **_SAFE
        )
        self._depth = 0
        self._item_depth = 0  # depth of items once the root is known: 3 in RSS 2.0, 2 in RSS 1.0
        self._in_item = False
        self._item_elements = 0
        self._channel_open = False  # the open depth-2 element is the channel
        # Completed elements of the open item by depth: levels[d + 1] holds the children of the
        # open element at depth d until it ends.
        self._levels: list[list[RawElement]] = [[] for _ in range(max_depth + 2)]
        self._fed = 0
        self._log_seen = 0

    def feed(self, chunk: bytes) -> list[RawItem]:
        """Parse one chunk; return the items it completed. Never raises for bad input."""
        parser = self._parser
        if parser is None or not chunk:
            return []
        if not isinstance(chunk, bytes):  # bytearray, memoryview: lxml takes bytes only
            chunk = bytes(chunk)
        self._fed += len(chunk)
        return self._step(parser, parser.feed, chunk)

    def close(self) -> list[RawItem]:
        """End of document: return the last items. Never raises for bad input."""
        parser = self._parser
        if parser is None:
            return []
        items = self._step(parser, parser.close)
        self._parser = None
        return items

    def _step(
        self, parser: etree.XMLPullParser, action: Callable[..., Any], *args: Any
    ) -> list[RawItem]:
        failure: etree.LxmlError | None = None
        try:
            action(*args)
        except etree.LxmlError as exc:
            failure = exc
        out: list[RawItem] = []  # events before an lxml error are still queued: take them first
        try:
            self._handle(parser.read_events(), out)
        except FeedError as exc:
            self._set_error(exc)
        if self.error is None:
            # lxml swallows undefined-entity errors when entities are not resolved, but libxml2
            # has stopped: read its log so the document does not silently restart or go quiet.
            if failure is not None or self._fatal_logged(parser):
                self._fail_from_lxml(parser, failure)
            elif not self._item_depth and self._fed > MAX_PROLOGUE_BYTES:
                self._fail(_TOO_LARGE, f"no root element in the first {MAX_PROLOGUE_BYTES} bytes")
        return out

    def _handle(self, events: Iterator[Any], out: list[RawItem]) -> None:
        # The hot loop: every element passes here twice, so state lives in locals and the
        # common case (a leaf element of an item) is inlined.
        depth = self._depth
        item_depth = self._item_depth
        in_item = self._in_item
        count = self._item_elements
        levels = self._levels
        split = _split
        max_depth = self._max_depth
        text_quick = self._max_text // 4  # below this many characters the UTF-8 size is fine
        max_attr = self._max_attr
        make = _make_element
        try:
            for event, el in events:
                if event == "start":
                    depth += 1
                    if depth > max_depth:
                        raise _error(_TOO_LARGE, f"elements nested deeper than {max_depth}", el)
                    if in_item:
                        continue
                    local = _local(el.tag)
                    if depth == 1:
                        item_depth = self._item_depth = self._check_root(el)
                    elif depth == 2:
                        self._channel_open = local == "channel"
                    if local == "item" and depth == item_depth:
                        # RSS 2.0 items sit in rss/channel, RSS 1.0 items in rdf:RDF itself.
                        in_item = depth == 2 or self._channel_open
                        count = 0
                    values = el.values()
                    if values:
                        _check_attr_values(el, values, max_attr)
                elif in_item:
                    if depth == item_depth:
                        elements = levels[depth + 1]
                        out.append(RawItem(self.items_seen, tuple(elements), el.sourceline))
                        elements.clear()
                        self.items_seen += 1
                        in_item = False
                        _discard(el)
                    else:
                        local, ns = split(el.tag)
                        # Child nodes mean mixed content, entity references or comments.
                        text = _full_text(el) if len(el) else el.text
                        if text:
                            if len(text) > text_quick:
                                self._check_text(text, el)
                            text = text.strip()
                        attrs = el.items()
                        kids = levels[depth + 1]
                        children = tuple(kids)
                        if kids:
                            kids.clear()
                        count += 1
                        if count > MAX_ITEM_ELEMENTS:
                            raise _error(_TOO_LARGE, "item has too many elements", el)
                        prefix = None if ns is None else el.prefix
                        attrib = _attr_dict(el, attrs, max_attr) if attrs else {}
                        levels[depth].append(make(local, ns, prefix, text or "", attrib, children))
                    depth -= 1
                else:
                    if depth > 1:
                        self._finish_outside(el, depth)
                    depth -= 1
        finally:
            self._depth = depth
            self._in_item = in_item
            self._item_elements = count

    def _check_root(self, root: etree._Element) -> int:
        """Refuse entity declarations and non-RSS roots; return the depth items sit at."""
        dtd = cast(Any, root.getroottree().docinfo).internalDTD
        names = [entity.name for entity in dtd.entities()] if dtd is not None else []
        if names:
            listed = ", ".join(names[:5])
            message = f"the DOCTYPE declares entities ({listed}); entity declarations are refused"
            raise _error(FeedFailureReason.ENTITIES_FORBIDDEN.value, message, root)
        local, ns = _split(root.tag)
        if local == "rss":
            return 3
        if local == "RDF" and ns == _RDF_NS:
            return 2
        if local == "feed" and ns in _ATOM_NS:
            reason = FeedFailureReason.UNSUPPORTED_FORMAT.value
            message = "Atom is not supported: expected RSS 2.0 (<rss>) or RSS 1.0 (<rdf:RDF>)"
        else:
            reason = FeedFailureReason.NOT_A_FEED.value
            what = "a web page" if local == "html" else "not an RSS feed"
            message = f"the root element is <{local}>, expected <rss> or <rdf:RDF>: {what}"
        raise _error(reason, message, root)

    def _finish_outside(self, el: etree._Element, depth: int) -> None:
        """An element outside any item ended: note the channel title, then let it go."""
        text = _full_text(el) if len(el) else el.text
        if text:
            self._check_text(text, el)
            is_title = depth == 3 and self._channel_open and _local(el.tag) == "title"
            if is_title and self.channel_title is None:
                self.channel_title = text.strip()
        _discard(el)

    def _check_text(self, text: str, el: etree._Element) -> None:
        if _utf8_over(text, self._max_text):
            limit = self._max_text
            raise _error(_TOO_LARGE, f"text of <{_qname(el)}> exceeds {limit} bytes", el)

    def _fatal_logged(self, parser: etree.XMLPullParser) -> bool:
        log = cast(Any, parser).feed_error_log
        if len(log) == self._log_seen:
            return False
        self._log_seen = len(log)
        return any(entry.level >= _FATAL for entry in log)

    def _fail_from_lxml(self, parser: etree.XMLPullParser, exc: etree.LxmlError | None) -> None:
        entries = [e for e in cast(Any, parser).feed_error_log if e.level >= _ERROR]
        if entries:  # the log has the root cause; the exception often only the last symptom
            first = entries[0]
            kind, message, line, column = first.type_name, first.message, first.line, first.column
        else:
            kind, message = "", str(getattr(exc, "msg", None) or exc)
            line, column = getattr(exc, "position", (None, None))
        message, reason = str(message).strip(), _MALFORMED
        if any(
            e.type_name in _LIMIT_TYPES or any(p in e.message for p in _LIMIT_PHRASES)
            for e in entries
        ):
            reason, message = _TOO_LARGE, f"an XML size limit was hit: {message}"
        elif kind == "ERR_INVALID_ENCODING":
            message += _ENCODING_HINT
        elif kind == "ERR_UNDECLARED_ENTITY":
            message += " (XML predefines only &amp; &lt; &gt; &quot; &apos; and &#...; references)"
        elif not self._fed:
            message = "empty document: no root element"
        self._fail(reason, message, line, column)

    def _fail(self, reason: str, message: str, line: int = 0, column: int = 0) -> None:
        self._set_error(
            FeedError(FeedErrorInfo(reason, message, line=line or None, column=column or None))
        )

    def _set_error(self, error: FeedError) -> None:
        if self.error is None:
            self.error = error
        self._parser = None  # drop lxml's buffers and tree now; later input is ignored
        self._levels.clear()


def iter_items(chunks: Iterable[bytes], **limits: int) -> Iterator[RawItem]:
    """Yield the items of a document given as chunks; then raise the parser's error, if any."""
    parser = FeedParser(**limits)
    for chunk in chunks:
        yield from parser.feed(chunk)
        if parser.error is not None:
            raise parser.error
    yield from parser.close()
    if parser.error is not None:
        raise parser.error


def _element_factory() -> Callable[..., RawElement]:
    """RawElement's frozen-dataclass __init__ (six object.__setattr__ calls) is a quarter of our
    per-element cost; filling its slots directly builds an equal object for half. Used only
    while that is equivalent: slotted, exactly these fields, no __post_init__."""
    fields = tuple(f.name for f in dataclasses.fields(RawElement))
    if (
        fields != ("local", "ns", "prefix", "text", "attrs", "children")
        or hasattr(RawElement, "__post_init__")
        or not hasattr(RawElement, "__slots__")
    ):
        return RawElement
    new = object.__new__
    s_local, s_ns, s_prefix, s_text, s_attrs, s_kids = (
        getattr(RawElement, f).__set__ for f in fields
    )

    def make(local: Any, ns: Any, prefix: Any, text: Any, attrs: Any, kids: Any) -> RawElement:
        element = new(RawElement)
        s_local(element, local)
        s_ns(element, ns)
        s_prefix(element, prefix)
        s_text(element, text)
        s_attrs(element, attrs)
        s_kids(element, kids)
        return element

    return make


_make_element = _element_factory()


def _error(reason: str, message: str, el: etree._Element) -> FeedError:
    line = el.sourceline
    return FeedError(FeedErrorInfo(reason, message, line=line if isinstance(line, int) else None))


@functools.lru_cache(maxsize=4096)
def _split(tag: str) -> tuple[str, str | None]:
    """`{uri}local` → (local, uri); `local` → (local, None). Feeds reuse a handful of names."""
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return local, ns
    return tag, None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _qname(el: etree._Element) -> str:
    local = _local(el.tag)
    return f"{el.prefix}:{local}" if el.prefix else local


def _discard(el: etree._Element) -> None:
    # keep_tail: the tail may be the text node libxml2 is still appending to.
    cast(Any, el).clear(keep_tail=True)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _full_text(el: etree._Element) -> str:
    """Text of an element and its descendants; comments and PIs add nothing."""
    parts = [el.text or ""]
    for child in el:
        tag: Any = child.tag
        if isinstance(tag, str):
            parts.append(_full_text(child))
        elif tag is etree.Entity:
            # Only reachable with an unloaded external DTD (RSS 0.91): its entities are HTML's.
            name = cast(Any, child).name
            parts.append(html5.get(f"{name};", f"&{name};"))
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def _attr_dict(el: etree._Element, items: Any, limit: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for key, value in items:
        if key[:1] == "{":
            key = _prefixed(el, key)
        attrs[key] = value
    _check_attr_values(el, attrs.values(), limit)
    return attrs


def _prefixed(el: etree._Element, key: str) -> str:
    """`{uri}local` → `prefix:local`, with the prefix the document bound to that URI."""
    ns, _, local = key[1:].partition("}")
    if ns == _XML_NS:
        return f"xml:{local}"
    for prefix, uri in el.nsmap.items():
        if uri == ns and prefix:
            return f"{prefix}:{local}"
    return key


def _check_attr_values(el: etree._Element, values: Iterable[Any], limit: int) -> None:
    # The cap covers an element's attribute values together, so many small ones count too.
    if _utf8_over("".join(values), limit):
        raise _error(_TOO_LARGE, f"attributes of <{_qname(el)}> exceed {limit} bytes", el)


def _utf8_over(text: str, limit: int) -> bool:
    """Whether `text` is over `limit` UTF-8 bytes, encoding only when the length leaves a doubt."""
    n = len(text)
    if n * 4 <= limit:
        return False
    return n > limit or len(text.encode("utf-8", "surrogatepass")) > limit
