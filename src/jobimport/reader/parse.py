"""Streaming, hardened RSS parsing: body chunks in, `RawItem`s out (DESIGN §4).

`decode.Decoder` makes the body UTF-8 (BOM, HTTP charset, XML declaration, UTF-8 or windows-1252)
and `entities.EntityRewriter` its HTML entities and stray `&` XML; lxml's pull parser then reads
it with entities, DTD loading and network off, which stops billion laughs, 10 MB text nodes and
depth 256. We add entity-declaration refusal and caps on attributes, text, depth, prologue and
item size. Completed items and finished elements outside items are cleared: memory stays flat.
No recover mode: a body that breaks off is `malformed_xml`. Bad input never raises: it sets
`FeedParser.error`, keeping the items before it. Leniency shows: item `warnings` (`html_entity`,
`undeclared_prefix`: `atom:link` without `xmlns:atom` is read, named `atom:link`, no namespace)
and document-level `FeedParser.warnings`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from lxml import etree

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason
from jobimport.reader.decode import ENCODING_REPLACED, Decoder
from jobimport.reader.entities import HTML_ENTITY, EntityRewriter
from jobimport.reader.formats import ATOM_NS, RDF_ABOUT, XML_BASE, item_shape, lxml_failure
from jobimport.reader.raw import RawElement, RawItem
from jobimport.reader.tree import (
    attr_dict,
    check_attr_values,
    discard,
    error_at,
    full_text,
    inner_markup,
    local_name,
    make_element,
    qname,
    split_tag,
    utf8_over,
)

__all__ = ["UNDECLARED_PREFIX", "FeedParser", "iter_items"]

UNDECLARED_PREFIX = "undeclared_prefix"  # the value of models.WarningReason.UNDECLARED_PREFIX

# Atom elements whose child elements are inline XHTML (type="xhtml"; Atom 0.3: mode="xml").
_ATOM_TEXTS = frozenset({"title", "summary", "content", "subtitle", "rights"})

MAX_PROLOGUE_BYTES = 1 << 20
"""Bytes allowed before the root element: real prologues are tiny; a huge DTD is an attack."""
MAX_ITEM_ELEMENTS = 10_000
"""Elements allowed in one item: an item is held whole until it ends, so it must stay small."""

_TOO_LARGE = FeedFailureReason.TOO_LARGE.value
_ERROR, _FATAL = 2, 3  # libxml2 XML_ERR_ERROR, XML_ERR_FATAL
_UNDECLARED = "NS_ERR_UNDEFINED_NAMESPACE"  # an error to libxml2, a warning to us
_NO_WARNINGS: frozenset[str] = frozenset()
_SAFE: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}


class FeedParser:
    """Push parser: feed() body chunks, get the items completed so far.

    Items are `<item>` children of `rss/channel` (RSS 2.0, 0.9x) or of `rdf:RDF` (RSS 0.90,
    1.0), or `<entry>` children of an Atom `<feed>` (`formats.item_shape`). After
    the first problem `error` is set and feed()/close() return [] and ignore their input.
    `charset` is the HTTP Content-Type's: it outranks the XML declaration.
    """

    def __init__(
        self,
        *,
        max_depth: int = 64,
        max_text_bytes: int = 10 * 2**20,
        max_attr_bytes: int = 2**20,
        charset: str | None = None,
    ) -> None:
        self.error: FeedError | None = None
        self.items_seen = 0
        self.channel_title: str | None = None
        self._max_depth = max_depth
        self._max_text = max_text_bytes
        self._max_attr = max_attr_bytes
        self._decoder = Decoder(charset)
        self._decoder_closed = False
        self._entities = EntityRewriter()
        # lxml is given UTF-8 and told so: the declaration's encoding no longer applies.
        self._parser: etree.XMLPullParser | None = etree.XMLPullParser(
            events=("start", "end"), encoding="utf-8", **_SAFE
        )
        self._depth = 0
        self._item_depth = 0  # depth of items once the root is known: 3 in RSS 2.0, 2 in RSS 1.0
        self._item_local = "item"  # `entry` in Atom
        self._item_tag = b"item"  # the same in UTF-8
        self._item_ns: str | None = None  # of the open item
        self._item_about = ""  # its rdf:about
        self._item_bases: tuple[str, ...] = ()  # the xml:base values over it, outermost first
        self._base_seen = False  # an xml:base was met outside items
        self._in_item = False
        self._item_elements = 0
        self._channel_open = False  # the open depth-2 element is the channel
        # Completed elements of the open item by depth: levels[d + 1] holds the children of the
        # open element at depth d until it ends.
        self._levels: list[list[RawElement]] = [[] for _ in range(max_depth + 2)]
        self._fed = 0
        self._log_seen = 0
        self._item_warnings: set[str] | None = None  # of the open item
        self._document_warnings: set[str] = set()  # met outside items
        self._in_tag = False  # whether the text given to lxml so far ends inside a tag
        self._tag_rewritten = False  # a rewrite in a start tag lxml has not reported yet

    @property
    def encoding(self) -> str | None:
        """The WHATWG name of the body's encoding, once chosen."""
        return self._decoder.encoding

    @property
    def warnings(self) -> dict[str, int]:
        """Document-level warnings, each counted once: `encoding_replaced` when bytes invalid in
        the encoding became U+FFFD; `html_entity` and `undeclared_prefix` met outside items."""
        reasons = set(self._document_warnings)
        if self._decoder.replaced:
            reasons.add(ENCODING_REPLACED)
        return dict.fromkeys(sorted(reasons), 1)

    def feed(self, chunk: bytes) -> list[RawItem]:
        """Parse one chunk; return the items it completed. Never raises for bad input."""
        parser = self._parser
        if not chunk:
            return []
        if not isinstance(chunk, bytes):  # bytearray, memoryview
            chunk = bytes(chunk)
        if parser is None:
            self._decode_after_error(chunk)
            return []
        self._fed += len(chunk)
        data = self._decoder.feed(chunk)
        return self._push(parser, *self._entities.feed(data)) if data else []

    def close(self) -> list[RawItem]:
        """End of document: return the last items. Never raises for bad input."""
        parser = self._parser
        if parser is None:
            self._decode_after_error(None)
            return []
        items = []
        self._decoder_closed = True
        if data := self._decoder.close():
            items += self._push(parser, *self._entities.feed(data))
        if self.error is None:
            items += self._push(parser, *self._entities.close())
        if self.error is None:
            items += self._step(parser, parser.close)
        self._parser = None
        return items

    def _decode_after_error(self, chunk: bytes | None) -> None:
        """After the first problem nothing is parsed, but the rest of the body is still decoded
        (`None`: its end), so `encoding_replaced` says the same whatever the chunk sizes were
        (whole, the body past the break is decoded with the chunk that broke)."""
        if self.error is None or self._decoder_closed:
            return
        if chunk is None:
            self._decoder.close()
            self._decoder_closed = True
        else:
            self._decoder.feed(chunk)

    def _push(self, parser: etree.XMLPullParser, data: bytes, marks: list[int]) -> list[RawItem]:
        """Feed lxml `data` (UTF-8), stopping at each rewrite (`marks`) to learn whose it is.
        After the first, the item can change only where the bytes in between hold `item` (Atom:
        `entry`)."""
        if not data:
            return []
        out: list[RawItem] = []
        fed = last = 0
        for mark in marks:
            if fed and data.find(self._item_tag, last, mark) < 0:
                last = mark
                continue
            out += self._step(parser, parser.feed, data[fed:mark])
            if self.error is not None:
                return out
            fed = last = mark
            if self._in_item:
                self._warn_item(HTML_ENTITY)
            elif self._ends_in_tag(data, mark):
                self._tag_rewritten = True  # the tag's start event tells whose it is
            else:
                self._document_warnings.add(HTML_ENTITY)
        if fed < len(data):
            out += self._step(parser, parser.feed, data[fed:] if fed else data)
        self._in_tag = self._ends_in_tag(data, len(data))
        return out

    def _ends_in_tag(self, data: bytes, end: int) -> bool:
        """Whether `data[:end]` ends inside a tag (an attribute value holding `>` can fool it)."""
        lt, gt = data.rfind(b"<", 0, end), data.rfind(b">", 0, end)
        return self._in_tag if lt == gt else lt > gt  # equal: both -1, no tag edge in `data`

    def _warn_item(self, reason: str) -> None:
        if self._item_warnings is None:
            self._item_warnings = {reason}
        else:
            self._item_warnings.add(reason)

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
            events = parser.read_events()
            if self._tag_rewritten:
                self._take_tag_event(events, out)
            self._handle(events, out)
        except FeedError as exc:
            self._set_error(exc)
        if self.error is None:
            # lxml swallows some errors when entities are not resolved, but libxml2 has
            # stopped: read its log so the document does not silently restart or go quiet.
            if failure is not None or self._fatal_logged(parser):
                errors = [
                    entry
                    for entry in cast(Any, parser).feed_error_log
                    if entry.level >= _ERROR and entry.type_name != _UNDECLARED
                ]
                # Undeclared prefixes alone only make lxml's close() of a whole document fail.
                if errors or not (self._item_depth and self._depth == 0):
                    self._fail_from_lxml(errors, failure)
            elif not self._item_depth and self._fed > MAX_PROLOGUE_BYTES:
                self._fail(_TOO_LARGE, f"no root element in the first {MAX_PROLOGUE_BYTES} bytes")
        return out

    def _take_tag_event(self, events: Iterator[Any], out: list[RawItem]) -> None:
        """The first event after a rewrite in a start tag is that tag's: an item's or not."""
        first = next(events, None)
        if first is None:
            return  # lxml has not read the whole tag yet
        self._tag_rewritten = False
        self._handle(iter((first,)), out)
        if self._in_item:
            self._warn_item(HTML_ENTITY)
        elif self.error is None:
            self._document_warnings.add(HTML_ENTITY)

    def _handle(self, events: Iterator[Any], out: list[RawItem]) -> None:
        # The hot loop: every element passes here twice, so state lives in locals and the
        # common case (a leaf element of an item) is inlined.
        depth = self._depth
        item_depth = self._item_depth
        in_item = self._in_item
        count = self._item_elements
        levels = self._levels
        split = split_tag
        max_depth = self._max_depth
        text_quick = self._max_text // 4  # below this many characters the UTF-8 size is fine
        max_attr = self._max_attr
        make = make_element
        try:
            for event, el in events:
                if event == "start":
                    depth += 1
                    if depth > max_depth:
                        raise error_at(_TOO_LARGE, f"elements nested deeper than {max_depth}", el)
                    if in_item:
                        continue
                    local, ns = split(el.tag)
                    if depth == 1:
                        item_depth = self._item_depth = self._check_root(el)
                    elif depth == 2:
                        self._channel_open = local == "channel"
                    values = el.values()
                    if values:
                        check_attr_values(el, values, max_attr)
                        if el.get(XML_BASE) is not None:
                            self._base_seen = True
                    if local == self._item_local and depth == item_depth:
                        # RSS 2.0 items sit in rss/channel, RSS 1.0 items in rdf:RDF itself.
                        in_item = depth == 2 or self._channel_open
                        if in_item:
                            self._start_item(el, ns, values)
                        count = 0
                elif in_item:
                    if depth == item_depth:
                        elements = levels[depth + 1]
                        warned = self._item_warnings
                        warnings = frozenset(warned) if warned else _NO_WARNINGS
                        item = RawItem(
                            self.items_seen,
                            tuple(elements),
                            el.sourceline,
                            warnings,
                            self._item_ns,
                            self._item_about,
                            self._item_bases,
                        )
                        out.append(item)
                        elements.clear()
                        self.items_seen += 1
                        in_item = False
                        discard(el)
                    else:
                        local, ns = split(el.tag)
                        if ns is None and ":" in local:
                            self._warn_item(UNDECLARED_PREFIX)
                        # Child nodes mean mixed content, comments or processing instructions;
                        # in Atom's text constructs, inline XHTML: kept as markup.
                        markup = False
                        if len(el):
                            markup = ns in ATOM_NS and local in _ATOM_TEXTS
                            text = inner_markup(el) if markup else full_text(el)
                        else:
                            text = el.text
                        if text:
                            if len(text) > text_quick:
                                self._check_text(text, el)
                            text = text.strip()
                        attrs = el.items()
                        kids = levels[depth + 1]
                        children = () if markup else tuple(kids)
                        if kids:
                            kids.clear()
                        count += 1
                        if count > MAX_ITEM_ELEMENTS:
                            raise error_at(_TOO_LARGE, "item has too many elements", el)
                        prefix = None if ns is None else el.prefix
                        attrib: dict[str, str] = {}
                        if attrs:
                            attrib, undeclared = attr_dict(el, attrs, max_attr)
                            if undeclared:
                                self._warn_item(UNDECLARED_PREFIX)
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

    def _start_item(self, el: etree._Element, ns: str | None, values: list[Any]) -> None:
        self._item_warnings = None
        self._item_ns = ns
        self._item_about = (el.get(RDF_ABOUT) or "") if values else ""
        bases: tuple[str, ...] = ()
        if self._base_seen:
            found = [element.get(XML_BASE) for element in (el, *el.iterancestors())]
            bases = tuple(base for base in reversed(found) if base is not None)
        self._item_bases = bases

    def _check_root(self, root: etree._Element) -> int:
        """Refuse entity declarations and non-feed roots; return the depth items sit at."""
        dtd = cast(Any, root.getroottree().docinfo).internalDTD
        names = [entity.name for entity in dtd.entities()] if dtd is not None else []
        if names:
            listed = ", ".join(names[:5])
            message = f"the DOCTYPE declares entities ({listed}); entity declarations are refused"
            raise error_at(FeedFailureReason.ENTITIES_FORBIDDEN.value, message, root)
        depth, self._item_local = item_shape(root)
        self._item_tag = self._item_local.encode()
        return depth

    def _finish_outside(self, el: etree._Element, depth: int) -> None:
        """An element outside any item ended: note the channel title, then let it go."""
        tag = el.tag
        if ":" in tag and tag[0] != "{":
            self._document_warnings.add(UNDECLARED_PREFIX)
        text = full_text(el) if len(el) else el.text
        if text:
            self._check_text(text, el)
            is_title = depth == 3 and self._channel_open and local_name(tag) == "title"
            if is_title and self.channel_title is None:
                self.channel_title = text.strip()
        discard(el)

    def _check_text(self, text: str, el: etree._Element) -> None:
        if utf8_over(text, self._max_text):
            limit = self._max_text
            raise error_at(_TOO_LARGE, f"text of <{qname(el)}> exceeds {limit} bytes", el)

    def _fatal_logged(self, parser: etree.XMLPullParser) -> bool:
        log = cast(Any, parser).feed_error_log
        if len(log) == self._log_seen:
            return False
        self._log_seen = len(log)
        return any(entry.level >= _FATAL for entry in log)

    def _fail_from_lxml(self, entries: list[Any], exc: etree.LxmlError | None) -> None:
        self._fail(*lxml_failure(entries, exc, empty=not self._fed))

    def _fail(self, reason: str, message: str, line: int = 0, column: int = 0) -> None:
        self._set_error(
            FeedError(FeedErrorInfo(reason, message, line=line or None, column=column or None))
        )

    def _set_error(self, error: FeedError) -> None:
        if self.error is None:
            self.error = error
        self._parser = None  # drop lxml's buffers and tree now; later input is ignored
        self._levels.clear()


def iter_items(
    chunks: Iterable[bytes], *, charset: str | None = None, **limits: int
) -> Iterator[RawItem]:
    """Yield the items of a document given as chunks; then raise the parser's error, if any."""
    parser = FeedParser(charset=charset, **cast(dict[str, Any], limits))
    for chunk in chunks:
        yield from parser.feed(chunk)
        if parser.error is not None:
            raise parser.error
    yield from parser.close()
    if parser.error is not None:
        raise parser.error
