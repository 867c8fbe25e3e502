"""The streaming parser: real fixtures, namespaces, hostile documents, broken documents, chunking.

Hostile documents are generated here in 64 KiB chunks (nothing multi-megabyte is committed), and
their memory is asserted: Python allocations with tracemalloc and, where Linux lets us reset the
high-water mark, the process RSS peak (libxml2's own buffers are invisible to tracemalloc).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import tracemalloc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobimport.errors import FeedError
from jobimport.reader.parse import (
    MAX_ITEM_ELEMENTS,
    MAX_PROLOGUE_BYTES,
    FeedParser,
    iter_items,
)
from jobimport.reader.raw import RawElement, RawItem
from jobimport.reader.tree import make_element

JOBICY = "https://jobicy.com"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
CHUNK = 64 * 1024
MiB = 2**20


# -- helpers ------------------------------------------------------------------------------------


def parse(data: bytes, chunk_size: int = CHUNK, **limits: int) -> tuple[list[RawItem], FeedParser]:
    return parse_chunks(
        (data[i : i + chunk_size] for i in range(0, len(data), chunk_size)), **limits
    )


def parse_chunks(chunks: Iterable[bytes], **limits: int) -> tuple[list[RawItem], FeedParser]:
    parser = FeedParser(**limits)
    items: list[RawItem] = []
    for chunk in chunks:
        items += parser.feed(chunk)
    items += parser.close()
    assert parser.items_seen == len(items)
    return items, parser


def failure(parser: FeedParser) -> FeedError:
    assert parser.error is not None, "expected the parser to report an error"
    return parser.error


def rss(items: str, *, prologue: str = "", channel: str = "<title>Feed</title>") -> bytes:
    return (
        f'{prologue}<rss version="2.0" xmlns:job_listing="{JOBICY}" xmlns:media="{MEDIA}">'
        f"<channel>{channel}{items}</channel></rss>"
    ).encode()


def jobicy_item(i: int) -> bytes:
    html = ("<p>Build <b>demand</b> forecasts &amp; own the models.</p><ul><li>SQL</li></ul>" * 25)[
        :2000
    ]
    return (
        f"\t<item>\n\t\t<title>Data Scientist &#8211; {i}</title>\n\t\t<id>{150000 + i}</id>\n"
        f"\t\t<link>https://jobicy.com/jobs/{150000 + i}-data-scientist</link>\n"
        f"\t\t<pubDate>Mon, 23 Nov 2026 06:10:00 +0000</pubDate>\n"
        f'\t\t<guid isPermaLink="false">https://jobicy.com/?p={150000 + i}</guid>\n'
        f"\t\t<content:encoded><![CDATA[{html}]]></content:encoded>\n"
        f'\t\t<media:content url="https://jobicy.com/logo-{i}.png" medium="image" />\n'
        f"\t\t<job_listing:company><![CDATA[Northwind {i}]]></job_listing:company>\n\t</item>\n"
    ).encode()


JOBICY_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="{CONTENT}" '
    f'xmlns:media="{MEDIA}" xmlns:job_listing="{JOBICY}">\n<channel>\n<title>Jobs</title>\n'
).encode()


def jobicy_chunks(n: int, *, size: int = CHUNK) -> Iterator[bytes]:
    """A Jobicy-shaped document of n items (about 2.8 KB each), in chunks of `size` bytes."""
    buffer = bytearray(JOBICY_HEAD)
    for i in range(n):
        buffer += jobicy_item(i)
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer) + b"</channel>\n</rss>\n"


def repeated(head: bytes, filler: bytes, total: int, tail: bytes) -> Iterator[bytes]:
    """head, then `total` bytes of `filler` in 64 KiB chunks, then tail."""
    yield head
    block = filler * (CHUNK // len(filler))
    for _ in range(total // len(block)):
        yield block
    yield tail


@dataclass
class Peak:
    traced: int = 0
    rss: int | None = None  # None where /proc/self/clear_refs cannot reset the high-water mark


def _status_kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1))


@contextlib.contextmanager
def peak_memory() -> Iterator[Peak]:
    peak = Peak()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        base: int | None = _status_kib("VmRSS")
    except OSError:
        base = None
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if base is not None:
            peak.rss = (_status_kib("VmHWM") - base) * 1024


def assert_bounded(peak: Peak, limit: int) -> None:
    assert peak.traced < limit, f"Python allocations peaked at {peak.traced / MiB:.1f} MiB"
    if peak.rss is not None:
        assert peak.rss < limit, f"RSS grew by {peak.rss / MiB:.1f} MiB"


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A local TCP port that records (and drops) every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    hits: list[str] = []

    def accept() -> None:
        while True:
            try:
                conn, peer = server.accept()
            except OSError:  # shutdown() below
                return
            hits.append(str(peer))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    thread.join(timeout=5)


def names(item: RawItem) -> list[str]:
    return [element.name for element in item.elements]


# -- real fixtures ------------------------------------------------------------------------------

FIXTURES = [
    pytest.param(
        "jobicy-structure-example.xml",
        ["Senior Data Scientist – Forecasting", "Data Analyst (Contract)"],
        [16, 30],
        "Remote Jobs – Jobicy",
        id="jobicy-structure",
    ),
    pytest.param(
        "jobicy-fixture-namespaced-two-items.xml",
        ["Sales Assistant", "Executive Assistant to the CEO"],
        [5, 15],
        "Jobicy Feed",
        id="jobicy-two-items",
    ),
    pytest.param(
        "higheredjobs-categoryfeed-catid148-excerpt.xml",
        ["Manager of Faculty Relations", "Assistant Director of Academic Affairs", "Groundskeeper"],
        [1, 1, 1],
        "HigherEdJobs - Faculty Affairs",
        id="higheredjobs-excerpt",
    ),
    pytest.param(
        "higheredjobs-categoryfeed-fixture-career-ops.xml",
        [
            "Director of AI Strategy",
            "Dean of Engineering & Computing",
            "Missing Link Role",
            "Relative Link Role",
            "Off Host Role",
        ],
        [4, 11, 18, 23, 29],
        None,
        id="higheredjobs-career-ops",
    ),
]


@pytest.mark.parametrize(("name", "titles", "lines", "channel_title"), FIXTURES)
def test_fixtures_parse_into_items(
    data_dir: Path, name: str, titles: list[str], lines: list[int], channel_title: str | None
) -> None:
    items, parser = parse((data_dir / name).read_bytes())

    assert parser.error is None
    assert [item.find("title").text for item in items] == titles  # type: ignore[union-attr]
    assert [item.position for item in items] == list(range(len(titles)))
    assert [item.line for item in items] == lines
    assert parser.channel_title == channel_title


def test_jobicy_structure_keeps_namespaces_attributes_and_raw_text(data_dir: Path) -> None:
    items, _ = parse((data_dir / "jobicy-structure-example.xml").read_bytes())
    first, second = items

    assert names(first) == [
        "title", "id", "link", "pubDate", "guid", "description", "content:encoded",
        "media:content", "job_listing:location", "job_listing:job_type", "job_listing:category",
        "job_listing:company",
    ]  # fmt: skip
    assert "media:content" not in names(second)
    assert first.find("company", JOBICY) == RawElement(
        "company", JOBICY, "job_listing", "Northwind Analytics"
    )
    assert first.find("company") is None  # namespaces are real: no match without the URI
    logo = first.find("content", MEDIA)
    assert logo is not None
    assert (logo.prefix, logo.text, logo.children) == ("media", "", ())
    assert logo.attrs == {
        "url": "https://jobicy.com/data/server-nyc0409/galaxy/mercury/2026/11/example-logo.png",
        "medium": "image",
    }
    guid = first.find("guid")
    assert guid is not None
    assert guid.attrs == {"isPermaLink": "false"}
    assert guid.text == "https://jobicy.com/?post_type=job_listing&p=151002"  # &#038; decoded
    html = first.find("encoded", CONTENT)
    assert html is not None
    assert html.prefix == "content"
    assert html.text.startswith("<p><strong>About the role</strong></p>")
    assert "<script>alert(1)</script>" in html.text  # sanitizing is normalize's job
    category = first.find("category", JOBICY)
    assert category is not None
    assert category.text == "Data Science &amp; Analytics"  # CDATA stays verbatim
    assert first.find("id") == RawElement("id", text="151002")


def test_jobicy_two_items_without_optional_elements(data_dir: Path) -> None:
    items, _ = parse((data_dir / "jobicy-fixture-namespaced-two-items.xml").read_bytes())

    assert names(items[1]) == [
        "title", "link", "pubDate", "description", "job_listing:location", "job_listing:company",
    ]  # fmt: skip
    description = items[0].find("description")
    assert description is not None
    assert "₱50,000 – ₱60,000" in description.text
    assert items[1].find("job_type", JOBICY) is None


def test_higheredjobs_items_keep_their_gaps(data_dir: Path) -> None:
    excerpt, _ = parse((data_dir / "higheredjobs-categoryfeed-catid148-excerpt.xml").read_bytes())
    ops, _ = parse((data_dir / "higheredjobs-categoryfeed-fixture-career-ops.xml").read_bytes())

    assert [item.find("guid") is not None for item in excerpt] == [True, False, False]
    assert excerpt[0].find("pubDate") == RawElement("pubDate", text="Wed, 10 Jun 2026 17:04:44 EDT")
    assert ops[2].find("link") is None
    assert ops[3].find("link") == RawElement("link", text="/details.cfm?JobCode=bad-relative")


def test_raw_json_keeps_prefixed_names(data_dir: Path) -> None:
    items, _ = parse((data_dir / "jobicy-structure-example.xml").read_bytes())
    raw = json.loads(json.dumps(items[0].to_json()))

    assert raw["job_listing:company"] == "Northwind Analytics"
    assert raw["media:content"]["@url"].endswith("/example-logo.png")
    assert raw["media:content"]["@medium"] == "image"
    assert raw["guid"] == {
        "@isPermaLink": "false",
        "#text": "https://jobicy.com/?post_type=job_listing&p=151002",
    }
    assert raw["content:encoded"].startswith("<p><strong>")


def test_nested_children_mixed_content_and_namespaced_attributes() -> None:
    items, parser = parse(
        rss(
            "<item><title>Role</title>"
            '<media:group><media:content url="a.png"/><media:content url="b.png"/></media:group>'
            "<description>Hello <b>bold</b> world<!-- hidden -->!</description>"
            '<note xmlns:x="urn:x" x:kind="k" xml:lang="en" plain="p">n</note></item>'
        )
    )

    assert parser.error is None
    group = items[0].find("group", MEDIA)
    assert group is not None
    assert [(c.name, c.attrs) for c in group.children] == [
        ("media:content", {"url": "a.png"}),
        ("media:content", {"url": "b.png"}),
    ]
    description = items[0].find("description")
    assert description is not None
    assert description.text == "Hello bold world!"
    assert description.children == (RawElement("b", text="bold"),)
    note = items[0].find("note")
    assert note is not None
    assert note.attrs == {"x:kind": "k", "xml:lang": "en", "plain": "p"}
    assert items[0].to_json()["media:group"] == {
        "media:content": [{"@url": "a.png"}, {"@url": "b.png"}]
    }


def test_rss_1_0_items_under_rdf_root() -> None:
    doc = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>RDF jobs</title></channel>'
        b'<item rdf:about="https://e.org/1"><title>One</title><link>https://e.org/1</link></item>'
        b"<item><title>Two</title></item></rdf:RDF>"
    )
    items, parser = parse(doc)

    assert parser.error is None
    assert parser.channel_title == "RDF jobs"
    assert [item.find("title", "http://purl.org/rss/1.0/") for item in items] == [
        RawElement("title", "http://purl.org/rss/1.0/", None, "One"),
        RawElement("title", "http://purl.org/rss/1.0/", None, "Two"),
    ]


def test_only_items_of_the_channel_count() -> None:
    doc = (
        b"<rss><channel><item><title>kept</title></item><extra><item><title>nested</title></item>"
        b"</extra><item><title>kept too</title></item></channel><item><title>root</title></item>"
        b"</rss>"
    )
    items, parser = parse(doc)

    assert parser.error is None
    assert [(i.position, i.elements[0].text) for i in items] == [(0, "kept"), (1, "kept too")]


def test_empty_channel_is_zero_items_and_no_error() -> None:
    items, parser = parse(rss("", channel="<title>Nothing yet</title><link>https://e.org</link>"))

    assert (items, parser.error, parser.channel_title) == ([], None, "Nothing yet")


def test_fast_element_constructor_builds_equal_elements() -> None:
    args = ("content", MEDIA, "media", "t", {"url": "u"}, (RawElement("a"),))

    assert make_element(*args) == RawElement(*args)
    assert repr(make_element(*args)) == repr(RawElement(*args))


# -- entities and DTDs --------------------------------------------------------------------------

LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE_ENTITIES = {
    "billion-laughs": f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{LAUGHS}]>',
    "quadratic-blowup": f'<!DOCTYPE rss [<!ENTITY big "{"x" * 100_000}">]>',
    "xxe-file": '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    "xxe-http": '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>',
    "parameter-entity-xxe": (
        '<!DOCTYPE rss [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>'
    ),
    "parameter-entity-file": '<!DOCTYPE rss [<!ENTITY % ext SYSTEM "file:///etc/hostname"> %ext;]>',
    "internal-parameter-entity": "<!DOCTYPE rss [<!ENTITY % decl \"<!ENTITY x 'y'>\"> %decl;]>",
    "harmless-looking": '<!DOCTYPE rss [<!ELEMENT rss ANY><!ENTITY company "Acme">]>',
}
REFERENCES = {
    "billion-laughs": "&lol9;",
    "quadratic-blowup": "&big;" * 10_000,
    "xxe-file": "&xxe;",
    "xxe-http": "&xxe;",
}


@pytest.mark.parametrize("case", HOSTILE_ENTITIES)
def test_entity_declarations_are_refused(case: str) -> None:
    title = REFERENCES.get(case, "plain")
    doc = rss(f"<item><title>{title}</title></item>", prologue=HOSTILE_ENTITIES[case])

    with peak_memory() as peak:
        items, parser = parse(doc)

    assert items == []
    assert (failure(parser).info.reason, failure(parser).info.line) == ("entities_forbidden", 1)
    assert_bounded(peak, 16 * MiB)


def test_entity_declaration_split_across_chunks_at_every_byte() -> None:
    doc = rss(
        "<item><title>&e;</title></item>",
        prologue='<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY % p "x">\n<!ENTITY e "y">\n]>\n',
    )
    prologue_end = doc.index(b"<rss")
    for cut in range(1, prologue_end + 6):
        items, parser = parse_chunks([doc[:cut], doc[cut:]])
        assert (items, failure(parser).info.reason) == ([], "entities_forbidden"), cut


NETSCAPE_DOCTYPE = (
    '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
    '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
)


def test_rss_091_doctype_is_accepted_and_its_html_entities_read() -> None:
    doc = rss(
        "<item><title>Caf&eacute;&nbsp;Chef &amp; &bogus;</title></item>", prologue=NETSCAPE_DOCTYPE
    )
    for cut in (10, 60, len(NETSCAPE_DOCTYPE) - 3, len(doc)):  # DOCTYPE split across chunks
        items, parser = parse_chunks([doc[:cut], doc[cut:]])
        assert parser.error is None
        assert items[0].elements[0].text == "Café\xa0Chef & &bogus;"


def test_external_dtd_over_http_is_never_fetched(listener: tuple[int, list[str]]) -> None:
    # The libxml2 in lxml 6.1.3's wheel has no HTTP client at all; this guards against a build
    # that has one (no_network=True must then hold) and against anyone fetching DTDs for it.
    port, connections = listener
    prologue = (
        f'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        f'"http://127.0.0.1:{port}/rss-0.91.dtd">'
    )
    items, parser = parse(rss("<item><title>ok</title></item>", prologue=prologue))

    assert parser.error is None
    assert [item.elements[0].text for item in items] == ["ok"]
    assert connections == []


def test_external_dtd_file_is_never_loaded(tmp_path: Path) -> None:
    # If libxml2 read this file it would fail the parse ("Content error in the external subset").
    dtd = tmp_path / "broken.dtd"
    dtd.write_text("<!GARBAGE this is not a DTD")
    prologue = f'<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">'
    items, parser = parse(rss("<item><title>ok</title></item>", prologue=prologue))

    assert parser.error is None
    assert len(items) == 1


# -- size caps ----------------------------------------------------------------------------------

ITEM_HEAD = f'<rss xmlns:media="{MEDIA}"><channel><item><title>ok</title></item><item>'.encode()
ITEM_TAIL = b"</item></channel></rss>"


def test_deep_nesting_is_too_large_without_walking_it() -> None:
    depth = 100_000
    doc = ITEM_HEAD + b"<a>" * depth + b"</a>" * depth + ITEM_TAIL
    with peak_memory() as peak:
        items, parser = parse(doc)

    assert len(items) == 1  # the item before the bomb
    assert failure(parser).info.reason == "too_large"
    assert "deeper than 64" in failure(parser).info.message
    assert_bounded(peak, 16 * MiB)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<item><a><b>ok</b></a></item>", None),  # rss, channel, item, a, b: depth 5
        ("<item><a><b><c>deep</c></b></a></item>", "too_large"),
        ("<x><y><z><w>outside items</w></z></y></x>", "too_large"),
    ],
)
def test_depth_cap_boundary(body: str, reason: str | None) -> None:
    _, parser = parse(rss(body, channel=""), max_depth=5)

    assert (parser.error and parser.error.info.reason) == reason


@pytest.mark.parametrize("cdata", [False, True], ids=["text", "cdata"])
def test_20_mb_text_node_is_too_large_in_bounded_memory(cdata: bool) -> None:
    head, tail = (b"<title><![CDATA[", b"]]></title>") if cdata else (b"<title>", b"</title>")
    chunks = repeated(ITEM_HEAD + head, b"a", 20 * MiB, tail + ITEM_TAIL)
    with peak_memory() as peak:
        items, parser = parse_chunks(chunks)

    assert len(items) == 1
    assert failure(parser).info.reason == "too_large"
    assert failure(parser).info.line == 1
    assert_bounded(peak, 64 * MiB)


def test_4_mb_attribute_is_too_large_in_bounded_memory() -> None:
    chunks = repeated(ITEM_HEAD + b'<media:content url="', b"a", 4 * MiB, b'"/>' + ITEM_TAIL)
    with peak_memory() as peak:
        items, parser = parse_chunks(chunks)

    assert len(items) == 1
    assert failure(parser).info.reason == "too_large"
    assert "media:content" in failure(parser).info.message
    assert_bounded(peak, 64 * MiB)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (f"<item><title>{'é' * 50}</title></item>", None),  # 100 bytes
        (f"<item><title>{'é' * 51}</title></item>", "too_large"),  # 51 characters, 102 bytes
        (f"<item><title>{'x' * 101}</title></item>", "too_large"),
        (f"<description>{'x' * 101}</description>", "too_large"),  # outside items too
        (f"<item><title>x<b>{'y' * 60}</b>{'z' * 60}</title></item>", "too_large"),  # mixed
    ],
)
def test_text_cap_counts_utf8_bytes(body: str, reason: str | None) -> None:
    _, parser = parse(rss(body, channel=""), max_text_bytes=100)

    assert (parser.error and parser.error.info.reason) == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('<item><media:content url="0123456789"/></item>', None),
        ('<item><media:content url="0123456789!"/></item>', "too_large"),
        ('<item><media:content url="01234" medium="567890"/></item>', "too_large"),  # together
        ('<item about="0123456789!"><title>t</title></item>', "too_large"),  # the item itself
        ('<image href="0123456789!"/>', "too_large"),  # outside items
    ],
)
def test_attribute_cap(body: str, reason: str | None) -> None:
    _, parser = parse(rss(body, channel=""), max_attr_bytes=10)

    assert (parser.error and parser.error.info.reason) == reason


def test_item_element_cap() -> None:
    many = "<category>c</category>" * (MAX_ITEM_ELEMENTS - 1)
    ok, ok_parser = parse(rss(f"<item><title>t</title>{many}</item>"))
    _, big_parser = parse(rss(f"<item><title>t</title>{many}<category>c</category></item>"))

    assert ok_parser.error is None
    assert len(ok[0].elements) == MAX_ITEM_ELEMENTS
    assert failure(big_parser).info.reason == "too_large"


def test_huge_prologue_is_too_large() -> None:
    chunks = repeated(b"<!--", b"-x", 2 * MAX_PROLOGUE_BYTES, b"--><rss/>")
    items, parser = parse_chunks(chunks)

    assert (items, failure(parser).info.reason) == ([], "too_large")


@pytest.mark.slow  # a 20 MB document, to measure memory
def test_large_feed_streams_in_flat_memory() -> None:
    count = 0
    with peak_memory() as peak:
        parser = FeedParser()
        for chunk in jobicy_chunks(3000):  # about 8.5 MB
            count += len(parser.feed(chunk))
        count += len(parser.close())

    assert (count, parser.error) == (3000, None)
    assert_bounded(peak, 4 * MiB)


# -- broken documents, formats, encodings -------------------------------------------------------


def test_truncated_document_keeps_items_before_the_break(data_dir: Path) -> None:
    doc = (data_dir / "jobicy-structure-example.xml").read_bytes()
    cut = doc.index(b"<job_listing:location><![CDATA[Anywhere")

    items, parser = parse(doc[:cut])

    assert [item.find("id").text for item in items] == ["151002"]  # type: ignore[union-attr]
    error = failure(parser)
    assert error.info.reason == "malformed_xml"
    assert (error.info.line, error.info.column) == (38, 3)  # where the body stops


@pytest.mark.parametrize(
    ("tail", "reason", "message"),
    [
        (b"<item><title>b</titel></item>", "malformed_xml", "mismatch"),
        (b"<item><title>b&#0;c</title></item>", "malformed_xml", "invalid xmlChar value 0"),
        (b"<item><title>b</title></item></channel></rss><rss/>", "malformed_xml", "Extra content"),
    ],
    ids=["mismatched-tag", "invalid-character-reference", "two-roots"],
)
def test_broken_documents_are_malformed_after_the_good_items(
    tail: bytes, reason: str, message: str
) -> None:
    doc = b"<rss><channel>\n<item><title>a</title></item>\n" + tail + b"</channel></rss>"
    items, parser = parse(doc)

    assert items[0].elements == (RawElement("title", text="a"),)
    error = failure(parser)
    assert error.info.reason == reason
    assert message.lower() in error.info.message.lower()
    assert error.info.line is not None
    assert error.info.column is not None


@pytest.mark.parametrize(
    ("doc", "title"),
    [
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><title>caf\xe9', "café"),
        (
            b'<?xml version="1.0" encoding="windows-1252"?><rss><channel><item><title>\x93q\x94',
            "“q”",
        ),
        (b"\xef\xbb\xbf<rss><channel><item><title>caf\xc3\xa9", "café"),
        (b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><rss><channel><item><title>x', "x"),
    ],
    ids=["latin-1-declared", "windows-1252-declared", "bom", "bom-and-declaration"],
)
def test_encodings(doc: bytes, title: str) -> None:
    items, parser = parse(doc + b"</title></item></channel></rss>")

    assert parser.error is None
    assert items[0].elements[0].text == title


def test_html_block_page_is_not_a_feed(data_dir: Path) -> None:
    # Not well-formed either (`&incident_id=`), but the root is seen before the break.
    _, parser = parse((data_dir / "higheredjobs-incapsula-block-excerpt.html").read_bytes())

    assert failure(parser).info.reason == "not_a_feed"
    assert "<html>" in failure(parser).info.message


@pytest.mark.parametrize(
    ("doc", "reason", "words"),
    [
        (b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not_a_feed", "web page"),
        (b"<jobs><job/></jobs>", "not_a_feed", "<jobs>"),
        (b"<feed><entry/></feed>", "unsupported_format", "Atom"),
        (b"Service Unavailable", "malformed_xml", "Start tag expected"),
        (b"", "malformed_xml", "empty document"),
    ],
    ids=["xhtml", "other-xml", "feed-without-atom-namespace", "plain-text", "empty"],
)
def test_documents_that_are_not_rss(doc: bytes, reason: str, words: str) -> None:
    items, parser = parse(doc)

    assert items == []
    assert failure(parser).info.reason == reason
    assert words in failure(parser).info.message


def test_feed_outside_atom_names_the_expected_namespaces() -> None:
    _, parser = parse(b'<feed xmlns="http://example.org/x"/>')

    assert "http://www.w3.org/2005/Atom" in failure(parser).info.message


# -- chunking and the error contract ------------------------------------------------------------


def test_chunk_boundaries_do_not_change_the_items() -> None:
    doc = b"".join(jobicy_chunks(300))
    expected, parser = parse(doc, chunk_size=len(doc))

    assert parser.error is None
    assert len(expected) == 300
    for size in (1024, 4096, 7919, CHUNK):
        assert parse(doc, chunk_size=size)[0] == expected, size


def test_chunk_boundaries_do_not_change_a_break() -> None:
    doc = b"".join(jobicy_chunks(100))
    doc = doc[: doc.index(b"<title>Data Scientist &#8211; 57<")] + b"<title>oops</titel>"

    results = set()
    for size in (1024, 4096, CHUNK, len(doc)):
        items, parser = parse(doc, chunk_size=size)
        error = failure(parser)
        results.add((len(items), error.info.reason, error.info.line, error.info.column))
    assert results == {(57, "malformed_xml", 57 * 10 + 6, 22)}


def test_after_an_error_input_is_ignored() -> None:
    parser = FeedParser()
    first = parser.feed(b"<rss><channel><item><title>a</title></item><item><title>b</titel>")
    error = parser.error

    assert [item.position for item in first] == [0]
    assert error is not None
    assert error.info.reason == "malformed_xml"
    assert parser.feed(b"</item><item><title>c</title></item></channel></rss>") == []
    assert parser.close() == []
    assert parser.error is error
    assert parser.items_seen == 1


def test_iter_items_yields_then_raises() -> None:
    good = list(iter_items([rss("<item><title>a</title></item><item><title>b</title></item>")]))
    assert [item.position for item in good] == [0, 1]

    seen: list[RawItem] = []
    with pytest.raises(FeedError) as raised:
        seen.extend(iter_items([b"<rss><channel><item><title>a</title></item><item><tit"]))
    assert len(seen) == 1
    assert raised.value.info.reason == "malformed_xml"


def test_limits_pass_through_iter_items() -> None:
    with pytest.raises(FeedError) as raised:
        list(iter_items([rss("<item><a><b/></a></item>")], max_depth=4))
    assert raised.value.info.reason == "too_large"
