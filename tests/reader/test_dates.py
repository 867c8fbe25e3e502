"""`parse_date` over the date shapes feeds publish: a table of inputs and the UTC instant each one
means (or None), then properties over any datetime and any text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobimport.reader.dates import parse_date


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


READABLE: list[tuple[str, datetime]] = [
    # RFC 822 / 2822 as RSS writes it
    ("Mon, 23 Nov 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 GMT", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 UT", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 UTC", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 Z", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 -0500", utc(2026, 11, 23, 14)),
    ("Mon, 23 Nov 2026 09:00:00 +0530", utc(2026, 11, 23, 3, 30)),
    ("Mon, 23 Nov 2026 09:00:00 -05:00", utc(2026, 11, 23, 14)),
    ("Mon, 23 Nov 2026 09:00:00 +05", utc(2026, 11, 23, 4)),
    ("Mon, 23 Nov 2026 09:00:00 -0000", utc(2026, 11, 23, 9)),
    # without a day name, a wrong day name, full and odd day names
    ("23 Nov 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Fri, 23 Nov 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),  # 23 Nov 2026 is a Monday
    ("Monday, 23 Nov 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Thurs, 26 Nov 2026 09:00:00 +0000", utc(2026, 11, 26, 9)),
    # days, years, seconds
    ("Fri, 6 Nov 2026 09:00:00 +0000", utc(2026, 11, 6, 9)),
    ("Mon, 23 Nov 26 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 49 09:00:00 +0000", utc(2049, 11, 23, 9)),
    ("Sun, 23 Nov 50 09:00:00 +0000", utc(1950, 11, 23, 9)),
    ("Sun, 23 Nov 99 09:00:00 +0000", utc(1999, 11, 23, 9)),
    ("Thu, 23 Nov 106 09:00:00 +0000", utc(2006, 11, 23, 9)),  # RFC 2822 obs-year: + 1900
    ("Mon, 23 Nov 2026 09:00 +0000", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 9:05 +0000", utc(2026, 11, 23, 9, 5)),
    ("Mon, 23 Nov 2026", utc(2026, 11, 23)),
    ("Tue, 30 Jun 2026 23:59:60 +0000", utc(2026, 6, 30, 23, 59, 59)),  # leap second: :59
    # zone names: RFC 822's, then the common others
    ("Mon, 23 Nov 2026 09:00:00 EST", utc(2026, 11, 23, 14)),
    ("Mon, 23 Nov 2026 09:00:00 EDT", utc(2026, 11, 23, 13)),
    ("Mon, 23 Nov 2026 09:00:00 CST", utc(2026, 11, 23, 15)),  # US Central, not China
    ("Mon, 23 Nov 2026 09:00:00 CDT", utc(2026, 11, 23, 14)),
    ("Mon, 23 Nov 2026 09:00:00 MST", utc(2026, 11, 23, 16)),
    ("Mon, 23 Nov 2026 09:00:00 MDT", utc(2026, 11, 23, 15)),
    ("Mon, 23 Nov 2026 09:00:00 PST", utc(2026, 11, 23, 17)),
    ("Mon, 23 Nov 2026 09:00:00 PDT", utc(2026, 11, 23, 16)),
    ("Mon, 23 Nov 2026 09:00:00 AKST", utc(2026, 11, 23, 18)),
    ("Mon, 23 Nov 2026 09:00:00 HST", utc(2026, 11, 23, 19)),
    ("Mon, 23 Nov 2026 09:00:00 AST", utc(2026, 11, 23, 13)),  # Atlantic, not Arabia
    ("Mon, 23 Nov 2026 09:00:00 NST", utc(2026, 11, 23, 12, 30)),
    ("Mon, 23 Nov 2026 09:00:00 ET", utc(2026, 11, 23, 14)),  # generic: standard time
    ("Mon, 23 Nov 2026 09:00:00 PT", utc(2026, 11, 23, 17)),
    ("Mon, 23 Nov 2026 09:00:00 WET", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 WEST", utc(2026, 11, 23, 8)),
    ("Mon, 23 Nov 2026 09:00:00 BST", utc(2026, 11, 23, 8)),  # British Summer Time
    ("Mon, 23 Nov 2026 09:00:00 CET", utc(2026, 11, 23, 8)),
    ("Mon, 23 Nov 2026 09:00:00 CEST", utc(2026, 11, 23, 7)),
    ("Mon, 23 Nov 2026 09:00:00 MET", utc(2026, 11, 23, 8)),
    ("Mon, 23 Nov 2026 09:00:00 MEST", utc(2026, 11, 23, 7)),
    ("Mon, 23 Nov 2026 09:00:00 EET", utc(2026, 11, 23, 7)),
    ("Mon, 23 Nov 2026 09:00:00 EEST", utc(2026, 11, 23, 6)),
    ("Mon, 23 Nov 2026 09:00:00 MSK", utc(2026, 11, 23, 6)),
    ("Mon, 23 Nov 2026 09:00:00 JST", utc(2026, 11, 23, 0)),
    ("Mon, 23 Nov 2026 09:00:00 AEST", utc(2026, 11, 22, 23)),
    ("Mon, 23 Nov 2026 09:00:00 NZDT", utc(2026, 11, 22, 20)),
    ("Mon, 23 Nov 2026 09:00:00 cest", utc(2026, 11, 23, 7)),
    # military letters: UTC, whatever RFC 822 said (RFC 2822 §4.3)
    ("Mon, 23 Nov 2026 09:00:00 A", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 M", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 N", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00 Y", utc(2026, 11, 23, 9)),
    # an offset wins over a zone name next to it
    ("Mon, 23 Nov 2026 09:00:00 -0400 EDT", utc(2026, 11, 23, 13)),
    ("Mon, 23 Nov 2026 09:00:00 +0530 IST", utc(2026, 11, 23, 3, 30)),
    ("Mon, 23 Nov 2026 09:00:00 GMT+0200", utc(2026, 11, 23, 7)),
    ("Mon, 23 Nov 2026 09:00:00 UTC-5", utc(2026, 11, 23, 14)),
    # comments and broken punctuation
    ("Mon, 23 Nov 2026 09:00:00 -0700 (PDT)", utc(2026, 11, 23, 16)),
    ("Mon, 23 Nov 2026 09:00:00 +0000 (Coordinated Universal Time)", utc(2026, 11, 23, 9)),
    ("Mon,, 23 Nov 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov, 2026, 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Mon 23 Nov 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Mon. 23. Nov. 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("mon, 23 nov 2026 09:00:00 gmt", utc(2026, 11, 23, 9)),
    ("MON, 23 NOV 2026 09:00:00 GMT", utc(2026, 11, 23, 9)),
    ("Mon,  23  Nov  2026  09:00:00  +0000", utc(2026, 11, 23, 9)),
    ("Mon, 23 November 2026 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("Sat, 5 Sept 2026 10:00 EDT", utc(2026, 9, 5, 14)),
    ("Mon, 23 Nov 2026T09:00:00Z", utc(2026, 11, 23, 9)),
    ("Mon, 23 Nov 2026 09:00:00.250 +0000", utc(2026, 11, 23, 9, 0, 0, 250000)),
    ("Mon, 23 Nov 2026 09:00:00 +0300 EAT", utc(2026, 11, 23, 6)),  # a zone we do not know
    # RFC 850, asctime, JavaScript, spelled out, numeric with dots
    ("Sunday, 06-Nov-94 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),
    ("06-Nov-1994 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),
    ("Sun Nov  6 08:49:37 1994", utc(1994, 11, 6, 8, 49, 37)),
    ("Sun Nov 6 08:49:37 +0100 1994", utc(1994, 11, 6, 7, 49, 37)),
    ("Mon Nov 23 2026 09:00:00 GMT+0100 (Central European Standard Time)", utc(2026, 11, 23, 8)),
    ("November 23, 2026", utc(2026, 11, 23)),
    ("November 23rd, 2026 9:00 PM", utc(2026, 11, 23, 21)),
    ("Monday, November 23, 2026 at 12:30 am EST", utc(2026, 11, 23, 5, 30)),
    ("23rd of November 2026 12:00 PM", utc(2026, 11, 23, 12)),
    ("23 Nov 2026 09:00", utc(2026, 11, 23, 9)),  # no zone: UTC
    ("23.11.2026 09:00", utc(2026, 11, 23, 9)),  # dots: day first
    ("23.11.2026", utc(2026, 11, 23)),
    ("2026 Nov 23 09:00 UTC", utc(2026, 11, 23, 9)),
    # ISO 8601 / W3CDTF, reduced precision
    ("2003", utc(2003, 1, 1)),
    ("2003-12", utc(2003, 12, 1)),
    ("2003-12-31", utc(2003, 12, 31)),
    ("2003-12-31T10:14Z", utc(2003, 12, 31, 10, 14)),
    ("2003-12-31T10:14:55Z", utc(2003, 12, 31, 10, 14, 55)),
    ("2003-12-31T10:14:55.7Z", utc(2003, 12, 31, 10, 14, 55, 700000)),
    ("2003-12-31T10:14:55.123456789-05:00", utc(2003, 12, 31, 15, 14, 55, 123456)),
    ("2003-12-31T10:14:55,5+01:00", utc(2003, 12, 31, 9, 14, 55, 500000)),
    ("2003-12-31T10:14:55+0100", utc(2003, 12, 31, 9, 14, 55)),
    ("2003-12-31T10:14:55+01", utc(2003, 12, 31, 9, 14, 55)),
    ("2003-12-31T10:14:55-00:00", utc(2003, 12, 31, 10, 14, 55)),
    ("2003-12-31t10:14:55z", utc(2003, 12, 31, 10, 14, 55)),
    ("2003-12-31T10:14:55", utc(2003, 12, 31, 10, 14, 55)),  # no zone: UTC
    ("2003-12-31T23:59:60Z", utc(2003, 12, 31, 23, 59, 59)),
    # the basic form (20261123T061000Z was asserted unreadable before these leniencies)
    ("20031231T101455Z", utc(2003, 12, 31, 10, 14, 55)),
    ("20261123T061000Z", utc(2026, 11, 23, 6, 10)),
    ("20031231T1014-0500", utc(2003, 12, 31, 15, 14)),
    ("20031231", utc(2003, 12, 31)),
    # what other software writes
    ("2026-11-23 09:00:00", utc(2026, 11, 23, 9)),
    ("2026-11-23 09:00:00 UTC", utc(2026, 11, 23, 9)),
    ("2026-11-23 09:00:00 +0000", utc(2026, 11, 23, 9)),
    ("2026-11-23 09:00:00 -05:00", utc(2026, 11, 23, 14)),
    ("2026-11-23 09:00:00 EST", utc(2026, 11, 23, 14)),
    ("2026-11-23T09:00:00Z (UTC)", utc(2026, 11, 23, 9)),
    ("2026/11/23 09:00", utc(2026, 11, 23, 9)),
    ("2026.11.23", utc(2026, 11, 23)),
    ("2026-1-5", utc(2026, 1, 5)),
    ("  \n 2026-11-23T09:00:00Z \t", utc(2026, 11, 23, 9)),
]

UNREADABLE = [
    "",
    "   ",
    "yesterday",
    "the day after tomorrow",
    "not a date",
    "Mon, 32 Nov 2026 09:00:00 +0000",
    "Mon, 31 Feb 2026 09:00:00 GMT",
    "Mon, 23 Foo 2026 09:00:00 +0000",
    "Mon, 23 Nov 2026 25:00:00 +0000",
    "Mon, 23 Nov 2026 09:61:00 +0000",
    "Mon, 23 Nov 2026 09:00:00 +2500",
    "Mon, 23 Nov 2026 09:00:00 XYZ",  # an unknown zone: no offset to trust
    "Mon, 23 Nov 2026 09:00:00 IST",  # ambiguous: India, Ireland, Israel
    "Mon, 23 Nov 2026 09:00:00 J",  # not a military zone
    "Mon, 23 Nov 09:00:00 +0000",  # no year
    "Mon, 23 2026 09:00:00 +0000",  # no month
    "Mon, 23 Nov Dec 2026 09:00:00 +0000",
    "Mon, 23 Nov 2026 09:00:00 10:00:00 +0000",
    "Mon, 23 Nov 2026 09:00:00 +0000 -0500",
    "Mon, 23 Nov 6 09:00:00 +0000",  # a one-digit year
    "Mon, 23 Nov 2026 13:00 PM",
    "11/23/2026",  # day and month cannot be told apart
    "23/11/2026",
    "2026-13-01",
    "2026-11-31",
    "2026-11-23T24:00:00Z",
    "2026-11-23T09:00:00+24:00",
    "2026-11-23T09:00:00 XYZ",
    "0000-01-01",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "２０２６-11-23",  # not ASCII digits
    "1" * 5000,
    "Mon, 23 Nov 2026 09:00:00 +0000" + " " * 200 + "x",
    "Mon, 23 Nov 2026 09:00:00 +0000 ☃",
    "Mon, 23 Nov 2026 09:00:00 +0000 whatever",
    "202611",
]


@pytest.mark.parametrize(("value", "expected"), READABLE, ids=[v for v, _ in READABLE])
def test_readable_dates(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", UNREADABLE, ids=[v[:40] for v in UNREADABLE])
def test_unreadable_dates(value: str) -> None:
    assert parse_date(value) is None


def test_the_table_is_long_enough() -> None:
    assert len(READABLE) + len(UNREADABLE) >= 60


PROPERTIES = settings(max_examples=300, deadline=None)

# Offsets of whole minutes within ±23:59; instants whose local time stays within years 2-9998.
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31))


@PROPERTIES
@given(moment=instants, zone=offsets)
def test_any_rfc_2822_date_reads_back(moment: datetime, zone: timezone) -> None:
    local = moment.replace(tzinfo=zone)
    assert parse_date(format_datetime(local)) == local.replace(microsecond=0)
    assert parse_date(format_datetime(local.astimezone(UTC), usegmt=True)) == local.replace(
        microsecond=0
    )


@PROPERTIES
@given(moment=instants, zone=st.none() | offsets)
def test_any_isoformat_reads_back(moment: datetime, zone: timezone | None) -> None:
    local = moment.replace(tzinfo=zone)
    expected = local if zone is not None else local.replace(tzinfo=UTC)
    for separator in ("T", " "):
        parsed = parse_date(local.isoformat(separator))
        assert parsed == expected
        assert parsed is not None
        assert parsed.tzinfo is UTC


date_words = st.sampled_from(
    ["Mon", "Nov", "november", "GMT", "EDT", "Z", "J", "IST", "am", "pm", "of", "T", "(", ")"]
)
date_bits = st.sampled_from(
    ["23", "2026", "09:00", "09:00:00.5", "+0000", "-05:00", "-", ",", ".", "/", " ", "23.11.2026"]
)


@PROPERTIES
@given(value=st.text() | st.lists(date_words | date_bits, max_size=12).map("".join))
def test_any_text_reads_as_none_or_an_aware_utc_datetime(value: str) -> None:
    parsed = parse_date(value)
    assert parsed is None or parsed.tzinfo is UTC
