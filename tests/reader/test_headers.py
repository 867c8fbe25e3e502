"""Per-feed header values as RFC 9110 field values, table-driven: the one check the API, the
fetch and the start-up check share. Pure."""

from __future__ import annotations

import pytest

from jobimport.reader.headers import check_feed_headers, field_value_problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Bearer abc.DEF-123_~+/=", None),
        ("a b\tc", None),  # SP and HTAB inside
        ("!~", None),  # the edges of visible ASCII
        ("café €", None),  # non-ASCII text: sent UTF-8 encoded, every byte obs-text
        ("\xa0", None),  # the first code point past the C1 controls
        ("", None),
        ("a\x01b", "a control character (U+0001) at position 1"),
        ("a\x0bb", "a control character (U+000B) at position 1"),
        ("a\x7f", "a control character (U+007F) at position 1"),
        ("\x00", "a control character (U+0000) at position 0"),
        ("\x85", "a control character (U+0085) at position 0"),  # C1
        ("\x9f", "a control character (U+009F) at position 0"),
        ("a\rb", "a line break (U+000D) at position 1"),
        ("a\nb", "a line break (U+000A) at position 1"),
        ("a\ud800", "a lone surrogate (U+D800) at position 1"),
        ("\udfff", "a lone surrogate (U+DFFF) at position 0"),
    ],
)
def test_field_value_problem(value: str, problem: str | None) -> None:
    assert field_value_problem(value) == problem


@pytest.mark.parametrize(
    ("headers", "stored"),
    [
        ({"X-Token": "  t1\t"}, {"X-Token": "t1"}),  # edges of SP/HTAB are stripped, not refused
        ({"Authorization": "Bearer x"}, {"Authorization": "Bearer x"}),
        ({}, {}),
    ],
)
def test_check_feed_headers_keeps_good_headers(
    headers: dict[str, str], stored: dict[str, str]
) -> None:
    assert check_feed_headers(headers) == stored


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Token": "a\x01b"}, "the value of X-Token is not a valid header value"),
        ({"X-Token": "t\x0b"}, "U\\+000B"),  # a trailing control is refused, not stripped
        ({"X-Token": "\x7f"}, "U\\+007F"),
        ({"X-Token": "a\ud800"}, "lone surrogate"),
        ({"X-Token": "a\r\nInjected: 1"}, "line break"),
        ({"Bad Name": "x"}, "not a valid header name"),
        ({"X-T\x01": "x"}, "not a valid header name"),
        ({"Host": "x"}, "set by jobimport itself"),
        ({"X-A": "1", "x-a": "2"}, "given twice"),
    ],
)
def test_check_feed_headers_refuses_with_a_reason(headers: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_feed_headers(headers)


def test_a_refused_value_is_never_echoed() -> None:
    with pytest.raises(ValueError, match="Authorization") as caught:
        check_feed_headers({"Authorization": "Bearer s3cret\x01"})
    assert "s3cret" not in str(caught.value)
