"""The feed formats read: namespaces, which root element holds items at which depth; and what a
document that libxml2 could not read failed of."""

from __future__ import annotations

from typing import Any

from lxml import etree

from jobimport.models import FeedFailureReason
from jobimport.reader.tree import error_at, split_tag

__all__ = [
    "ATOM03_NS",
    "ATOM10_NS",
    "ATOM_NS",
    "RDF_ABOUT",
    "RDF_NS",
    "RSS090_NS",
    "RSS10_NS",
    "XML_BASE",
    "item_shape",
    "lxml_failure",
]

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_ABOUT = f"{{{RDF_NS}}}about"
RSS090_NS = "http://my.netscape.com/rdf/simple/0.9/"
RSS10_NS = "http://purl.org/rss/1.0/"
ATOM10_NS = "http://www.w3.org/2005/Atom"
ATOM03_NS = "http://purl.org/atom/ns#"
ATOM_NS = frozenset({ATOM10_NS, ATOM03_NS})
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


def item_shape(root: etree._Element) -> tuple[int, str]:
    """(depth of the items, their local name) for a feed's root element; else raise
    `not_a_feed` (or `unsupported_format` for a `<feed>` outside the Atom namespaces).

    RSS 0.9x/2.0 (`<rss>`, in any namespace or none): `item`s of `rss/channel`, depth 3. RSS 0.90
    and 1.0 (`rdf:RDF`): `item`s of the root, depth 2. Atom 1.0 and 0.3: `entry`s of `feed`."""
    local, ns = split_tag(root.tag)
    if local == "rss":
        return 3, "item"
    if local == "RDF" and ns == RDF_NS:
        return 2, "item"
    if local == "feed" and ns in ATOM_NS:
        return 2, "entry"
    if local == "feed":
        reason = FeedFailureReason.UNSUPPORTED_FORMAT.value
        where = f"namespace {ns}" if ns else "no namespace"
        message = f"<feed> in {where}: Atom is read in {ATOM10_NS} (1.0) and {ATOM03_NS} (0.3) only"
    else:
        reason = FeedFailureReason.NOT_A_FEED.value
        what = "a web page" if local == "html" else "not an RSS or Atom feed"
        message = f"the root element is <{local}>, expected <rss>, <rdf:RDF> or <feed>: {what}"
    raise error_at(reason, message, root)


_TOO_LARGE = FeedFailureReason.TOO_LARGE.value
_MALFORMED = FeedFailureReason.MALFORMED_XML.value
# How libxml2 reports its own size limits; the phrases hold spaces, so no XML name matches them.
_LIMIT_TYPES = frozenset({"ERR_RESOURCE_LIMIT", "ERR_NAME_TOO_LONG"})
_LIMIT_PHRASES = ("too long", "too big", "huge text node")


def lxml_failure(
    entries: list[Any], exc: etree.LxmlError | None, *, empty: bool
) -> tuple[str, str, int, int]:
    """(reason, message, line, column) of a document libxml2 stopped reading: `entries` are its
    error log's errors, `exc` lxml's exception, `empty` whether no byte was given."""
    if entries:  # the log has the root cause; the exception often only the last symptom
        first = entries[0]
        kind, message, line, column = first.type_name, first.message, first.line, first.column
    else:
        kind, message = "", str(getattr(exc, "msg", None) or exc)
        line, column = getattr(exc, "position", (None, None))
    message, reason = str(message).strip(), _MALFORMED
    if any(
        e.type_name in _LIMIT_TYPES or any(p in e.message for p in _LIMIT_PHRASES) for e in entries
    ):
        reason, message = _TOO_LARGE, f"an XML size limit was hit: {message}"
    elif kind == "ERR_UNDECLARED_ENTITY":
        message += " (XML predefines only &amp; &lt; &gt; &quot; &apos; and &#...; references)"
    elif empty:
        message = "empty document: no root element"
    return reason, message, line or 0, column or 0
