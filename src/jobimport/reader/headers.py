"""Per-feed request headers (a token for a feed behind authentication): what may be stored and
sent. Names are RFC 9110 tokens, values RFC 9110 field values."""

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


def field_value_problem(value: str) -> str | None:
    """Why `value` is not an RFC 9110 field-value (None: it is one). Visible ASCII, SP and HTAB
    inside, and non-ASCII text except C1 controls and lone surrogates (sent UTF-8 encoded, so each
    of its bytes is obs-text). Call it on the stripped value: the edges are stripped, not refused.
    The API, the fetch and the start-up check all use it, so they agree."""
    for index, char in enumerate(value):
        code = ord(char)
        if char in "\t " or 0x21 <= code <= 0x7E:
            continue
        if code >= 0xA0 and not 0xD800 <= code <= 0xDFFF:
            continue
        what = "a line break" if char in "\r\n" else "a control character"
        if 0xD800 <= code <= 0xDFFF:
            what = "a lone surrogate"
        return f"{what} (U+{code:04X}) at position {index}"
    return None


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
        stripped = value.strip(" \t")  # the edges of a field value are not part of it
        if problem := field_value_problem(stripped):
            raise ValueError(f"the value of {name} is not a valid header value: {problem}")
        seen.add(name.lower())
        checked[name] = stripped
    return checked
