"""Per-feed request headers (a token for a feed behind authentication): what may be stored."""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_HEADERS = 20
MAX_VALUE_CHARS = 4096

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
# Set by the fetcher itself (framing, validators, identity): a feed's own value would break it.
_RESERVED = frozenset(
    name.lower()
    for name in (
        "Host",
        "Connection",
        "Content-Length",
        "Transfer-Encoding",
        "TE",
        "Upgrade",
        "Accept-Encoding",
        "If-None-Match",
        "If-Modified-Since",
        "User-Agent",
        "Cookie",
    )
)


def check_feed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as stored, or ValueError saying which one is not acceptable and why."""
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers")
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in _RESERVED:
            raise ValueError(f"{name} is set by jobimport itself")
        if name.lower() in seen:
            raise ValueError(f"{name} is given twice")
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"the value of {name} must be text of at most {MAX_VALUE_CHARS} chars")
        if any(ch in value for ch in "\r\n\x00"):
            raise ValueError(f"the value of {name} holds a line break")
        seen.add(name.lower())
        checked[name] = value.strip()
    return checked
