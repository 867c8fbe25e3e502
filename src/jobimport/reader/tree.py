"""lxml elements into `RawElement`s: names, text, attributes, and letting finished ones go.

The helpers of `parse.FeedParser`'s hot loop, which applies its caps through them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from html import escape
from typing import Any, cast

from lxml import etree

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason
from jobimport.reader.raw import RawElement

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_TOO_LARGE = FeedFailureReason.TOO_LARGE.value


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


make_element = _element_factory()


def error_at(reason: str, message: str, el: etree._Element) -> FeedError:
    line = el.sourceline
    return FeedError(FeedErrorInfo(reason, message, line=line if isinstance(line, int) else None))


@functools.lru_cache(maxsize=4096)
def split_tag(tag: str) -> tuple[str, str | None]:
    """`{uri}local` → (local, uri); `local` → (local, None). Feeds reuse a handful of names."""
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return local, ns
    return tag, None


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def qname(el: etree._Element) -> str:
    local = local_name(el.tag)
    return f"{el.prefix}:{local}" if el.prefix else local


def discard(el: etree._Element) -> None:
    # keep_tail: the tail may be the text node libxml2 is still appending to.
    cast(Any, el).clear(keep_tail=True)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def full_text(el: etree._Element) -> str:
    """Text of an element and its descendants; comments and PIs add nothing. (No entity nodes:
    `entities.EntityRewriter` leaves only XML's five and character references.)"""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.append(full_text(child))
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def attr_dict(el: etree._Element, items: Any, limit: int) -> tuple[dict[str, str], bool]:
    """The attributes by prefixed name, and whether one has a prefix the document never bound
    (libxml2 then keeps `prefix:name` as the name, with no namespace)."""
    attrs: dict[str, str] = {}
    undeclared = False
    for key, value in items:
        if key[:1] == "{":
            key = _prefixed(el, key)
        elif ":" in key:
            undeclared = True
        attrs[key] = value
    check_attr_values(el, attrs.values(), limit)
    return attrs, undeclared


def _prefixed(el: etree._Element, key: str) -> str:
    """`{uri}local` → `prefix:local`, with the prefix the document bound to that URI."""
    ns, _, local = key[1:].partition("}")
    if ns == _XML_NS:
        return f"xml:{local}"
    for prefix, uri in el.nsmap.items():
        if uri == ns and prefix:
            return f"{prefix}:{local}"
    return key


def check_attr_values(el: etree._Element, values: Iterable[Any], limit: int) -> None:
    # The cap covers an element's attribute values together, so many small ones count too.
    if utf8_over("".join(values), limit):
        raise error_at(_TOO_LARGE, f"attributes of <{qname(el)}> exceed {limit} bytes", el)


def utf8_over(text: str, limit: int) -> bool:
    """Whether `text` is over `limit` UTF-8 bytes, encoding only when the length leaves a doubt."""
    n = len(text)
    if n * 4 <= limit:
        return False
    return n > limit or len(text.encode("utf-8", "surrogatepass")) > limit


# HTML elements without an end tag: `<br></br>` would read as two line breaks.
_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"})


def inner_markup(el: etree._Element) -> str:
    """The inline XHTML inside `el` as HTML, namespaces dropped; of a lone wrapping `<div>` (Atom's
    type="xhtml"), its inside. Comments and processing instructions are left out."""
    kids = [child for child in el if isinstance(child.tag, str)]
    if (
        len(kids) == 1
        and local_name(kids[0].tag) == "div"
        and not (el.text or "").strip()
        and not (kids[0].tail or "").strip()
    ):
        el = kids[0]
    parts = [escape(el.text or "", quote=False)]
    for child in el:
        _serialize(child, parts)
    return "".join(parts)


def _serialize(el: etree._Element, parts: list[str]) -> None:
    if isinstance(el.tag, str):
        local = local_name(el.tag)
        attrs = "".join(f' {local_name(str(k))}="{escape(str(v))}"' for k, v in el.items())
        parts.append(f"<{local}{attrs}>")
        if local not in _VOID:
            parts.append(escape(el.text or "", quote=False))
            for child in el:
                _serialize(child, parts)
            parts.append(f"</{local}>")
    if el.tail:
        parts.append(escape(el.tail, quote=False))
