"""What a response body is, judged from its first bytes: a bot-challenge page, or clearly not XML
(nor a JSON object, which may be a JSON Feed);
and the charset its Content-Type names.

Pure functions, no I/O: `fetch` calls them on the first chunk before handing a body to the parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import hdrs

# Lower-case markers of bot-challenge pages (Incapsula/Imperva, Cloudflare, captcha walls, Sucuri).
_CHALLENGE_MARKERS = (
    "_incapsula_resource",
    "incapsula incident",
    "cf-chl",
    "/cdn-cgi/challenge-platform",
    "just a moment...",
    "captcha",
    "sucuri website firewall",
)
# No feed document starts with these elements.
_HTML_STARTS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<meta",
    b"<title",
    b"<script",
    b"<noscript",
)
_FEED_STARTS = (b"<?xml", b"<rss", b"<feed", b"<rdf:")
_XML_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"
# UTF-16 with a BOM, or without one (a `<` next to a NUL byte): left to the parser.
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_CHARSET = re.compile(r""";\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]*))""", re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type value, as written (`decode` resolves it), or
    None: `application/rss+xml; charset="ISO-8859-1"` → `ISO-8859-1`."""
    match = _CHARSET.search(content_type or "")
    if match is None:
        return None
    return (match.group(1) if match.group(1) is not None else match.group(2)).strip() or None


def not_xml_reason(head: bytes) -> str | None:
    """What `head` (the first bytes of a body) clearly is instead of XML, or None if it may be XML:
    an empty body, an HTML page, a JSON array, or anything whose first character is not `<`. A
    UTF-8 BOM and whitespace are skipped; UTF-16 bodies are left to the parser, and a JSON object
    (`{`, perhaps a JSON Feed) to `DocumentReader`."""
    if head.startswith(_UTF16_STARTS):
        return None
    text = _skip_preamble(head)
    if not text:
        return "an empty body"
    if _looks_like_html(text):
        return "an HTML page"
    if text.startswith(b"["):
        return "JSON"
    if not text.startswith((b"<", b"{")):
        return f"a body starting with {text[:16]!r}"
    return None


def challenge_marker(head: bytes, headers: Mapping[str, str]) -> str | None:
    """The sign that a response is a bot-challenge page (a marker found in `head`, the first bytes
    of its body, or Cloudflare's `cf-mitigated: challenge` header), or None."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "cf-mitigated: challenge"
    text = _skip_preamble(head)
    # Markers count only in HTML: a feed may well mention "captcha" in a job description.
    html_type = "html" in headers.get(hdrs.CONTENT_TYPE, "").lower()
    if not (
        _looks_like_html(text) or (html_type and not text[:8].lower().startswith(_FEED_STARTS))
    ):
        return None
    lowered = text.lower().decode("latin-1")
    return next((marker for marker in _CHALLENGE_MARKERS if marker in lowered), None)


def _skip_preamble(head: bytes) -> bytes:
    return head.removeprefix(_UTF8_BOM).lstrip(_XML_WHITESPACE)


def _looks_like_html(text: bytes) -> bool:
    return text[:16].lower().startswith(_HTML_STARTS)
