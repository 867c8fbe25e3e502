"""URLs of feed items: resolving against the feed, keeping only http(s), canonical forms."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

_HTTP = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters no browser accepts in a URL as written; tabs and newlines are removed first, as
# the WHATWG URL parser does, and spaces are percent-encoded.
_BAD_CHARS = re.compile("[\x00-\x1f\x7f]")
_BAD_HOST = re.compile(r"[\s%<>\"\\^`{|}/?#@\[\]]")
# The common case, an absolute URL with a plain host (no userinfo, IPv6 or backslash), is
# checked here without urllib, which costs ~10x more; anything else takes the general path.
_PLAIN_ABSOLUTE = re.compile(
    r"(https?)://([a-z0-9][a-z0-9.-]*)(?::([0-9]{1,5}))?((?:[/?#].*)?)", re.IGNORECASE | re.DOTALL
)


def feed_base(feed_url: str) -> str:
    """The feed URL without query or fragment, used as the base for relative links.

    Dropping the query keeps results equal across feeds that differ only in their query (the
    Jobicy category feeds): only empty or fragment-only references would inherit it.
    """
    try:
        parts = urlsplit(feed_url.strip())
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def join_base(base: str, value: str) -> str:
    """An `xml:base` value resolved against the base in scope ("" leaves it unchanged)."""
    value = value.strip()
    if not value:
        return base
    try:
        return urljoin(base, value)
    except ValueError:
        return base


def resolve_http_url(value: str, base: str) -> str | None:
    """`value` resolved against `base`, if that gives an absolute http(s) URL with a valid host;
    otherwise None."""
    value = value.strip()
    if not value:
        return None
    value = value.replace("\t", "").replace("\n", "").replace("\r", "").replace(" ", "%20")
    if _BAD_CHARS.search(value):
        return None
    plain = _PLAIN_ABSOLUTE.fullmatch(value)
    if plain is not None and "\\" not in value and int(plain[3] or 0) <= 65535:
        return plain[1].lower() + value[len(plain[1]) :]
    try:
        parts = urlsplit(urljoin(base, value) if base else value)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in _HTTP or not host or _BAD_HOST.search(host):
            return None
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        return None
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def split_url(url: str | None) -> SplitResult | None:
    """`url` split, or None when it is None or unsplittable."""
    if url is None:
        return None
    try:
        return urlsplit(url)
    except ValueError:
        return None


def host_is(parts: SplitResult | None, domain: str) -> bool:
    """True when `parts` has `domain` or one of its subdomains as its host."""
    if parts is None:
        return False
    host = (parts.hostname or "").rstrip(".")
    return host == domain or host.endswith("." + domain)


def query_param(parts: SplitResult | None, name: str) -> str | None:
    """The first value of query parameter `name` (case-insensitive), undecoded, or None."""
    if parts is None:
        return None
    wanted = name.lower()
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() == wanted:
            return value
    return None


def canonical_url(url: str) -> str:
    """`url` (already absolute http(s)) in a form that identifies a page: lowercase scheme and
    host, no default port, no fragment, no utm_* tracking parameters, `/` for an empty path."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    netloc = host
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{netloc}"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not pair.partition("=")[0].lower().startswith("utm_")
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def source_for(feed_url: str) -> str:
    """The `source` part of a job's identity for a feed: `jobicy` for jobicy.com, `higheredjobs`
    for higheredjobs.com, else the feed's host without `www.` (`local` when it has none)."""
    parts = split_url(feed_url.strip())
    if host_is(parts, "jobicy.com"):
        return "jobicy"
    if host_is(parts, "higheredjobs.com"):
        return "higheredjobs"
    host = "" if parts is None else (parts.hostname or "").rstrip(".")
    return host.removeprefix("www.") or "local"
