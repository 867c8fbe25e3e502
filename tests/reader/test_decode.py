"""Encodings in RFC 7303's order (BOM, HTTP charset, XML declaration, then UTF-8 or windows-1252),
labels read as browsers read them, bad bytes as U+FFFD and noted. Every document is parsed whole
and in chunks of 1, 7 and 65536 bytes (`parse_every_way`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from jobimport.models import Job
from jobimport.reader.decode import SNIFF_BYTES, Decoder, resolve_label
from jobimport.reader.document import DocumentReader
from jobimport.reader.fetch import make_client_session, open_feed
from jobimport.reader.parse import FeedParser
from jobimport.reader.sniff import charset_of
from jobimport.settings import Settings
from tests.reader.chunked import declared, doc, parse_every_way, raw_doc

ServerFactory = Callable[..., Awaitable[TestServer]]
REPLACED = (("encoding_replaced", 1),)
CURLY = "\u201cq\u201d \u2013 caf\u00e9"  # “q” – café
CURLY_1252 = b"\x93q\x94 \x96 caf\xe9"


# (id, body, HTTP charset, title read, encoding chosen, document warnings)
CASES: list[tuple[str, bytes, str | None, str, str, tuple[tuple[str, int], ...]]] = [
    ("bom-utf-8", b"\xef\xbb\xbf" + doc("café").encode(), None, "café", "utf-8", ()),
    (
        "bom-beats-charset-and-declaration",
        b"\xef\xbb\xbf" + doc("café", declaration=declared("ISO-8859-1")).encode(),
        "windows-1252",
        "café",
        "utf-8",
        (),
    ),
    ("bom-utf-16le", doc("café “q”").encode("utf-16"), None, "café “q”", "utf-16le", ()),
    (
        "bom-utf-16be",
        b"\xfe\xff" + doc("café", declaration=declared("UTF-16")).encode("utf-16-be"),
        None,
        "café",
        "utf-16be",
        (),
    ),
    (
        "utf-16le-without-bom",
        doc("café", declaration=declared("UTF-16")).encode("utf-16-le"),
        None,
        "café",
        "utf-16le",
        (),
    ),
    (
        "utf-16be-without-bom-charset-says-utf-8",
        doc("café").encode("utf-16-be"),
        "utf-8",  # XML holds no NUL: the bytes win over the label
        "café",
        "utf-16be",
        (),
    ),
    (
        "charset-beats-declaration",
        doc("café", declaration=declared("ISO-8859-1")).encode(),
        "utf-8",
        "café",
        "utf-8",
        (),
    ),
    (
        "charset-windows-1252-beats-utf-8-declaration",
        raw_doc(CURLY_1252, declaration=declared("utf-8")),
        "Windows-1252",
        CURLY,
        "windows-1252",
        (),
    ),
    (
        "charset-iso-8859-1-is-windows-1252",
        raw_doc(CURLY_1252),
        "iso-8859-1",
        CURLY,
        "windows-1252",
        (),
    ),
    (
        "charset-us-ascii-is-windows-1252",
        raw_doc(CURLY_1252),
        "us-ascii",
        CURLY,
        "windows-1252",
        (),
    ),
    (
        "charset-unknown-is-ignored",
        doc("é", declaration=declared("ISO-8859-15")).encode("iso-8859-15"),
        "x-no-such-charset",
        "é",
        "iso-8859-15",
        (),
    ),
    (
        "charset-utf-16-on-8-bit-bytes-is-ignored",
        doc("café").encode(),
        "utf-16",
        "café",
        "utf-8",
        (),
    ),
    (
        "declaration-iso-8859-1",
        raw_doc(CURLY_1252, declaration=declared("ISO-8859-1")),
        None,
        CURLY,
        "windows-1252",
        (),
    ),
    (
        "declaration-koi8-r",
        doc("Москва", declaration=declared("KOI8-R")).encode("koi8-r"),
        None,
        "Москва",
        "koi8-r",
        (),
    ),
    (
        "declaration-shift-jis",
        doc("東京の求人", declaration=declared("Shift_JIS")).encode("cp932"),
        None,
        "東京の求人",
        "shift_jis",
        (),
    ),
    (
        "declaration-utf-16-on-8-bit-bytes",
        doc("café", declaration=declared("UTF-16")).encode(),
        None,
        "café",
        "utf-8",
        (),
    ),
    ("none-valid-utf-8", doc("café “q”").encode(), None, "café “q”", "utf-8", ()),
    (
        "none-invalid-utf-8-is-windows-1252",
        raw_doc(CURLY_1252),
        None,
        CURLY,
        "windows-1252",
        (),
    ),
    (
        "declaration-without-encoding-is-none",
        raw_doc(b"caf\xe9", declaration='<?xml version="1.0"?>'),
        None,
        "café",
        "windows-1252",
        (),
    ),
    (
        "windows-1252-undefined-bytes-are-c1-controls",
        raw_doc(b"a\x81b", declaration=declared("windows-1252")),
        None,
        "a\x81b",
        "windows-1252",
        (),
    ),
    (
        "invalid-utf-8-declared-becomes-u+fffd",
        raw_doc(b"a\xff\xc3b", declaration=declared("UTF-8")),
        None,
        "a\ufffd\ufffdb",
        "utf-8",
        REPLACED,
    ),
    (
        "invalid-utf-8-after-the-first-64-kib",
        raw_doc(b"a\xe9b", more=f"<description>{'é' * SNIFF_BYTES}</description>"),
        None,
        "a\ufffdb",
        "utf-8",
        REPLACED,
    ),
    (
        "invalid-shift-jis",
        raw_doc(b"a\x81\x20b", declaration=declared("shift_jis")),
        None,
        "a\ufffd b",
        "shift_jis",
        REPLACED,
    ),
]


@pytest.mark.parametrize(
    ("body", "charset", "title", "encoding", "warnings"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_encodings(
    body: bytes,
    charset: str | None,
    title: str,
    encoding: str,
    warnings: tuple[tuple[str, int], ...],
) -> None:
    outcome = parse_every_way(body, charset)

    assert outcome.error is None
    assert outcome.encoding == encoding
    assert outcome.texts == [{"title": title}, {"title": "next"}]  # never ends early
    assert outcome.warnings == warnings


def test_a_bad_byte_is_noted_once_per_document() -> None:
    body = doc("a\xff", declaration=declared("utf-8")).encode("latin-1").replace(b"next", b"\xfe")
    outcome = parse_every_way(body)

    assert outcome.texts == [{"title": "a\ufffd"}, {"title": "\ufffd"}]
    assert outcome.warnings == REPLACED
    assert outcome.item_warnings == [set(), set()]  # a document-level warning only


def test_a_character_cut_by_the_end_of_the_body_is_replaced() -> None:
    outcome = parse_every_way(doc("x", declaration=declared("utf-8")).encode() + b"\xe2\x80")

    assert outcome.reason == "malformed_xml"  # text after the root element
    assert outcome.warnings == REPLACED


def test_ascii_is_read_before_the_encoding_is_chosen() -> None:
    parser = FeedParser()
    first = parser.feed(b"<rss><channel><item><title>a</title></item><item><title>caf\xe9")

    assert [item.to_json() for item in first] == [{"title": "a"}]  # no wait for 64 KiB
    rest = parser.feed(b"</title></item></channel></rss>") + parser.close()
    assert [item.to_json() for item in rest] == [{"title": "café"}]
    assert parser.encoding == "windows-1252"


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("utf-8", "utf-8"),
        (" UTF8\t", "utf-8"),
        ("ISO-8859-1", "windows-1252"),
        ("latin1", "windows-1252"),
        ("US-ASCII", "windows-1252"),
        ("iso-8859-9", "windows-1254"),
        ("iso-8859-15", "iso-8859-15"),
        ("gb2312", "gbk"),
        ("Shift-JIS", "shift_jis"),
        ("ks_c_5601-1987", "euc-kr"),
        ("utf-16", "utf-16le"),
        ("unicodefffe", "utf-16be"),
        ("iso-2022-kr", None),  # WHATWG's replacement encoding: no label
        ("utf-7", None),
        ("", None),
        (None, None),
    ],
)
def test_labels_resolve_as_browsers_resolve_them(label: str | None, name: str | None) -> None:
    assert resolve_label(label) == name


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        (None, None),
        ("application/rss+xml", None),
        ("application/rss+xml; charset=UTF-8", "UTF-8"),
        ('text/xml;charset="ISO-8859-1"', "ISO-8859-1"),
        ("text/xml; q=1; CHARSET = windows-1252 ; x=y", "windows-1252"),
        ("text/xml; charset=", None),
    ],
)
def test_charset_of_the_content_type(content_type: str | None, charset: str | None) -> None:
    assert charset_of(content_type) == charset


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, "utf-8", "iso-8859-1", "utf-16", "sjis"]))
def test_any_bytes_decode_alike_at_every_chunk_size(body: bytes, charset: str | None) -> None:
    whole = Decoder(charset)
    text = whole.feed(body) + whole.close()
    for size in (1, 7):
        pieces = Decoder(charset)
        chunked = b"".join(pieces.feed(body[i : i + size]) for i in range(0, len(body), size))
        assert chunked + pieces.close() == text
        assert (pieces.encoding, pieces.replaced) == (whole.encoding, whole.replaced)
    parse_every_way(b"<rss><channel><item><title>" + body, charset)  # never raises


# -- the charset from a real HTTP response ------------------------------------------------------


JOB = (
    "<item><title>{title}</title><link>https://e.org/jobs/1</link><guid>job-1</guid>"
    "<pubDate>Mon, 23 Nov 2026 06:10:00 +0000</pubDate></item>"
)


@pytest.mark.parametrize(
    ("content_type", "declaration", "title"),
    [
        ("application/rss+xml; charset=iso-8859-1", declared("utf-8"), CURLY),
        ("application/rss+xml", declared("windows-1252"), CURLY),
        ("application/rss+xml; charset=utf-8", declared("windows-1252"), "\ufffdq\ufffd"),
    ],
)
async def test_the_http_charset_reaches_the_decoder(
    aiohttp_server: ServerFactory,
    make_settings: Callable[..., Settings],
    content_type: str,
    declaration: str,
    title: str,
) -> None:
    item = JOB.format(title="TITLE").encode().replace(b"TITLE", b"\x93q\x94" + CURLY_1252[3:])
    body = f"{declaration}<rss><channel><title>Jobs</title>".encode() + item + b"</channel></rss>"
    if title.startswith("\ufffd"):
        title = "\ufffdq\ufffd \ufffd caf\ufffd"

    async def handler(_: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/feed", handler)
    server = await aiohttp_server(app)
    settings = make_settings()
    entries: list[Any] = []
    async with (
        make_client_session(settings) as session,
        open_feed(session, str(server.make_url("/feed")), settings) as response,
    ):
        reader = DocumentReader("https://e.org/feed", charset=response.charset)
        async for chunk in response.chunks():
            entries += reader.feed(chunk)
        entries += reader.close()

    assert reader.error is None
    assert [entry.title for entry in entries if isinstance(entry, Job)] == [title]
    assert reader.warnings == ({"encoding_replaced": 1} if "\ufffd" in title else {})


def test_document_reader_exposes_the_warnings() -> None:
    reader = DocumentReader("https://e.org/feed", charset="utf-8")
    item = JOB.format(title="caf\xe9")
    entries = reader.feed(f"<rss><channel>{item}".encode("latin-1"))
    entries += reader.feed(b"</channel></rss>") + reader.close()

    assert reader.error is None
    assert [entry.title for entry in entries if isinstance(entry, Job)] == ["caf\ufffd"]
    assert reader.warnings == {"encoding_replaced": 1}
