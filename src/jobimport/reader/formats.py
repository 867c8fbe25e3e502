"""The feed formats read: namespaces, and which root element holds items at which depth."""

from __future__ import annotations

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
