"""HTML named entities and stray ampersands: decoded or kept literally, never through a DTD.

Every document is parsed whole and in chunks of 1, 7 and 65536 bytes (`parse_every_way`), which
must agree on the items, their warnings, the error and the document's warnings.
"""

from __future__ import annotations

import re
from html.entities import html5

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobimport.reader.entities import MAX_REFERENCE, EntityRewriter
from jobimport.reader.parse import FeedParser
from jobimport.reader.raw import RawItem
from tests.reader.chunked import Outcome, parse_every_way, parse_in

HTML = {"html_entity"}


def rss(items: str, *, prologue: str = "", channel: str = "<title>Jobs</title>") -> bytes:
    return f"{prologue}<rss version='2.0'><channel>{channel}{items}</channel></rss>".encode()


def titled(*titles: str) -> bytes:
    return rss("".join(f"<item><title>{title}</title></item>" for title in titles))


# (id, what the feed wrote, the text read, the item's warnings)
TEXT_CASES = [
    ("html5-names", "Caf&eacute;&nbsp;&rsquo;&mdash;", "Café\xa0’—", HTML),
    ("html5-uppercase", "&Eacute;COLE &AMP; co", "ÉCOLE & co", HTML),
    ("html5-two-code-points", "a&NotEqualTilde;b", "a≂̸b", HTML),
    ("html5-longest-name", "&CounterClockwiseContourIntegral;", "∳", HTML),
    ("xml-predefined", "&amp; &lt; &gt; &quot; &apos;", "& < > \" '", set()),
    ("decimal", "&#8211; &#233; &#038;", "– é &", set()),
    ("hex", "&#x2014;&#x41;", "—A", set()),
    ("hex-capital-x", "&#X2014;", "—", HTML),
    ("bare-ampersand", "Tom & Jerry &", "Tom & Jerry &", HTML),
    ("query-string", "/jobs?a=1&b=2&c", "/jobs?a=1&b=2&c", HTML),
    ("no-semicolon", "&copy 2026 &eacute x&nbsp", "&copy 2026 &eacute x&nbsp", HTML),
    ("unknown-name", "&foo; &bogus; &foo-bar;", "&foo; &bogus; &foo-bar;", HTML),
    ("not-a-number", "&#; &#x; &#12a; &#xZ1;", "&#; &#x; &#12a; &#xZ1;", HTML),
    ("too-long", "&" + "a" * 70 + ";", "&" + "a" * 70 + ";", HTML),
    ("ampersands-in-a-row", "&&&amp;&&nbsp;.", "&&&&\xa0.", HTML),
    ("cdata-untouched", "<![CDATA[&nbsp; & &eacute; &foo;]]>", "&nbsp; & &eacute; &foo;", set()),
    ("comment-untouched", "a<!-- &nbsp; & <![CDATA[ -->b&amp;", "ab&", set()),
    ("pi-untouched", 'a<?php echo "&nbsp;&"; ?>b', "ab", set()),
    ("cdata-then-entity", "<![CDATA[x]]]]>&nbsp;.", "x]]\xa0.", HTML),
    ("cdata-with-brackets", "<![CDATA[a]b]]c] ]]]>&nbsp;.", "a]b]]c] ]\xa0.", HTML),
    ("exclamations", "Apply now! <![CDATA[&nbsp;!]]>!&nbsp;?", "Apply now! &nbsp;!!\xa0?", HTML),
]


@pytest.mark.parametrize(
    ("written", "read", "warnings"),
    [pytest.param(*case[1:], id=case[0]) for case in TEXT_CASES],
)
def test_entities_in_text(written: str, read: str, warnings: set[str]) -> None:
    outcome = parse_every_way(titled("before", written, "after"))

    assert outcome.error is None
    assert outcome.texts == [{"title": "before"}, {"title": read}, {"title": "after"}]
    assert outcome.item_warnings == [set(), warnings, set()]
    assert outcome.warnings == ()


@pytest.mark.parametrize(
    ("written", "read", "warnings"),
    [pytest.param(*case[1:], id=case[0]) for case in TEXT_CASES if "<" not in case[1]],
)
def test_entities_in_attribute_values(written: str, read: str, warnings: set[str]) -> None:
    value = written.replace('"', "&quot;")
    outcome = parse_every_way(rss(f'<item><enclosure url="{value}" type="x"/></item>'))

    assert outcome.error is None
    assert outcome.texts == [{"enclosure": {"@url": read, "@type": "x"}}]
    assert outcome.item_warnings == [warnings]


def test_an_item_counts_each_reason_once() -> None:
    outcome = parse_every_way(
        rss(
            "<item><title>a &amp; b</title></item>"
            "<item><title>&nbsp;&nbsp;&eacute; & &</title><link>?a&b</link>"
            '<enclosure url="x&y"/></item>'
            "<item><title>plain</title></item>"
        )
    )

    assert outcome.item_warnings == [set(), HTML, set()]
    assert [item.warnings for item in outcome.items][1] == frozenset({"html_entity"})


def test_an_items_own_attributes_count_for_it() -> None:
    outcome = parse_every_way(
        rss(
            '<item><title>a</title></item><item about="x&y"><title>b</title></item>'
            '<item><title>c</title></item><item about="&eacute;"/>'
        )
    )

    assert outcome.item_warnings == [set(), HTML, set(), HTML]
    assert outcome.warnings == ()


def test_entities_outside_items_are_a_document_warning() -> None:
    doc = rss(
        "<item><title>a</title></item>",
        channel='<title>Caf&eacute; &amp; Co</title><image url="logo.png?a&b"/>',
    )
    parser = FeedParser()
    items = parser.feed(doc) + parser.close()

    assert parser.channel_title == "Café & Co"
    assert [item.warnings for item in items] == [frozenset()]
    assert parser.warnings == {"html_entity": 1}
    assert parse_every_way(doc).warnings == (("html_entity", 1),)


SHORT = (
    b"<rss><channel><title>T&nbsp;</title><item><title>Caf&eacute; &amp; &#233;&#x41; &foo; a&b"
    b"</title><d><![CDATA[&nbsp;]]><!--&x;--></d><e u='&mdash;&'/></item></channel></rss>"
)


def test_a_short_document_split_at_every_offset() -> None:
    whole = parse_in(SHORT, len(SHORT))

    assert whole.error is None
    assert whole.texts == [
        {"title": "Café & éA &foo; a&b", "d": "&nbsp;", "e": {"@u": "—&"}},
    ]
    assert whole.item_warnings == [HTML]
    for cut in range(1, len(SHORT)):
        parser = FeedParser()
        items = parser.feed(SHORT[:cut]) + parser.feed(SHORT[cut:]) + parser.close()
        split = Outcome(tuple(items), None, tuple(parser.warnings.items()), parser.encoding)
        assert split == whole, cut


def test_the_rewriter_holds_a_cut_token_until_the_next_chunk() -> None:
    for comment in (b"", b"<!-- a comment, which takes the slower path -->"):
        rewriter = EntityRewriter()
        pieces = [rewriter.feed(comment + b"a &eac")]
        assert pieces[0] == (comment + b"a ", [])  # `&eac` may become `&eacute;`
        pieces.append(rewriter.feed(b"ute; <![CD"))
        assert pieces[1] == (b"&#00233; ", [8])  # as long as `&eacute;`; `<![CD` held
        pieces.append(rewriter.feed(b"ATA[&nbsp;]"))
        assert pieces[2][0].startswith(b"<![CDATA[&nbsp")  # a `]` may start `]]>`
        pieces += [rewriter.feed(b"]>&"), rewriter.close()]
        assert (
            b"".join(piece[0] for piece in pieces)
            == comment + b"a &#00233; <![CDATA[&nbsp;]]>&amp;"
        )


def test_the_doctype_passes_untouched() -> None:
    prologue = (
        '<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://e.org/rss.dtd?a=1&b=2" '
        "[<!-- it's & > --><?pi & > ?><!ELEMENT rss ANY><!ATTLIST rss v CDATA '>&amp;'>]>"
    )
    rewriter = EntityRewriter()
    data, marks = rewriter.feed(f"{prologue}<rss>&nbsp;</rss>".encode())

    assert data == f"{prologue}<rss>&#160;</rss>".encode()
    assert len(marks) == 1
    outcome = parse_every_way(rss("<item><title>&nbsp;&</title></item>", prologue=prologue))
    assert outcome.error is None
    assert outcome.texts == [{"title": "&"}]  # the non-breaking space is stripped


# -- still strict where attackers are ------------------------------------------------------------


@pytest.mark.parametrize(
    "prologue",
    [
        '<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>',  # an HTML name declared
        '<!DOCTYPE rss [<!ENTITY foo "bar">]>',
        "<!DOCTYPE rss [<!ENTITY foo 'a &amp; b'>]>",
        "<!DOCTYPE rss [<!ENTITY % decl \"<!ENTITY nbsp '&#160;'>\"> %decl;]>",
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_entity_declarations_are_still_refused(prologue: str) -> None:
    outcome = parse_every_way(
        rss("<item><title>&nbsp;&foo;&xxe;</title></item>", prologue=prologue)
    )

    assert outcome.items == ()
    assert outcome.reason == "entities_forbidden"


@pytest.mark.parametrize(
    "tail",
    [
        b"<item><title>b&eac",
        b"<item><title>b &",
        b"<item><title><![CDATA[&nbsp;",
        b"<item><title>b<!-- &nbsp;",
        b"<item><title>b</title>",
        b"<item><title>b</title></item>",
        b"<item><title>b</title></item></channel",
    ],
)
def test_a_body_that_breaks_off_is_malformed_with_the_items_before_it(tail: bytes) -> None:
    outcome = parse_every_way(b"<rss><channel><item><title>a&nbsp;&</title></item>" + tail)

    assert outcome.reason == "malformed_xml"
    assert outcome.texts[0] == {"title": "a\xa0&"}
    assert len(outcome.items) == (2 if tail.endswith((b"</item>", b"</channel")) else 1)


def test_errors_after_rewrites_keep_their_line() -> None:
    outcome = parse_every_way(b"<rss><channel>\n<item><title>&nbsp;a&b</title></item>\n<x></y>")

    assert outcome.error == ("malformed_xml", 3)
    assert len(outcome.items) == 1


def test_text_cap_counts_decoded_entities() -> None:
    doc = titled("&nbsp;" * 60)  # 360 bytes written, 120 bytes of UTF-8 read
    big = FeedParser(max_text_bytes=100)
    big.feed(doc)
    big.close()
    small = FeedParser(max_text_bytes=120)
    small.feed(doc)
    small.close()

    assert big.error is not None
    assert big.error.info.reason == "too_large"
    assert small.error is None


# -- the rewriter against a plain, whole-text model of it ---------------------------------------

_SECTION = re.compile(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)", re.S)
_AMP = re.compile(rb"&(?:(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+)|([A-Za-z][A-Za-z0-9]*));")


def _model(data: bytes) -> bytes:
    """What EntityRewriter should give for a whole text without a DOCTYPE."""

    def text(part: bytes) -> bytes:
        out, pos = [], 0
        while (found := part.find(b"&", pos)) >= 0:
            out.append(part[pos:found])
            ref = _AMP.match(part, found)
            if ref and ref.end() - found <= MAX_REFERENCE and ref.group(1):
                out.append(ref.group())
            elif ref and ref.end() - found <= MAX_REFERENCE and f"{ref[2].decode()};" in html5:
                chars = html5[f"{ref[2].decode()};"]
                out.append("".join(f"&#{ord(c)};" for c in chars).encode())
            else:
                out.append(b"&amp;")
                ref = None
            pos = ref.end() if ref else found + 1
        return b"".join([*out, part[pos:]])

    out, pos = [], 0
    for section in _SECTION.finditer(data):
        out += [text(data[pos : section.start()]), section.group()]
        pos = section.end()
    return b"".join([*out, text(data[pos:])])


FRAGMENTS = [
    "a", " ", "&", "&amp;", "&lt;", "&#233;", "&#x41;", "&#", "&nbsp;", "&eacute;",
    "&NotEqualTilde;", "&foo;", "&copy", ";", "<", "<!", "<![CDATA[", "]]>", "]", "<!--", "-->",
    "-", "<?", "?>", "?", "!", "é", "<b>", "</b>",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30), st.lists(st.integers(1, 12), min_size=1))
def test_the_rewriter_matches_its_model_at_any_cuts(pieces: list[str], sizes: list[int]) -> None:
    data = "".join(pieces).encode()
    expected = _model(data)
    rewriter, out, start = EntityRewriter(), [], 0
    for size in sizes * (len(data) // len(sizes) + 1):
        if start >= len(data):
            break
        out.append(rewriter.feed(data[start : start + size])[0])
        start += size
    out.append(rewriter.close()[0])
    got = b"".join(out)
    numeric = re.compile(rb"&#0*([0-9]+);")  # zero-padded or not: the same reference
    assert numeric.sub(rb"&#\1;", got) == numeric.sub(rb"&#\1;", expected)


# -- any mix of these shapes --------------------------------------------------------------------

PIECES = [
    "plain",
    " ",
    "&",
    "&amp;",
    "&nbsp;",
    "&eacute;",
    "&rsquo;",
    "&mdash;",
    "&foo;",
    "&copy",
    "&#8211;",
    "&#x41;",
    "&#",
    "é",
    "“",
    "<![CDATA[&nbsp;<b>]]>",
    "<!-- & -->",
    "<b>bold</b>",
    "<?pi & ?>",
    "]]",
    "]",
    ";",
    "!",
    "?x",
    "<",  # not well-formed: must fail the same way at every chunk size
]
text_of = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
attr_of = st.lists(st.sampled_from(["&", "&nbsp;", "&amp;", "x", "&foo;", "&#233;"]), max_size=4)
item_of = st.tuples(text_of, attr_of.map("".join), st.booleans())


def _document(items: list[tuple[str, str, bool]], channel_title: str, cut: int | None) -> bytes:
    body = "".join(
        ("<item a='" + attr + "'>" if on_item else "<item>")
        + f'<title>{text}</title><link href="{attr}"/></item>'
        for text, attr, on_item in items
    )
    doc = rss(body, channel=f"<title>{channel_title}</title>")
    return doc if cut is None else doc[: cut % (len(doc) + 1)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(item_of, max_size=4), text_of, st.none() | st.integers(min_value=0))
def test_random_documents_read_alike_at_every_chunk_size(
    items: list[tuple[str, str, bool]], channel_title: str, cut: int | None
) -> None:
    doc = _document(items, channel_title, cut)
    outcome = parse_every_way(doc)  # never raises; the same at every chunk size

    if outcome.error is None and cut is None:
        assert len(outcome.items) == len(items)
        assert all(isinstance(item, RawItem) for item in outcome.items)
