"""Feed dates → aware UTC datetimes, read as leniently as the feeds people publish need.

Read (docs/feeds.md lists them with the rules below):

- RFC 822 / 2822 / 1123, what RSS `pubDate` uses: with or without a day name (a wrong one is
  ignored), days of one or two digits, years of two, three or four digits, month names short or
  full in any case, with or without seconds, a numeric offset (`+0000`, `-05:00`, `+05`) or a zone
  name, a trailing comment such as `(PDT)`, extra commas and dots.
- The other shapes found in the wild: RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`), asctime
  (`Sun Nov  6 08:49:37 1994`), JavaScript's `Date.toString()` (`... GMT+0100 (CET)`), month first
  (`November 23rd, 2026 9:00 PM`), numeric dates with dots, day first (`23.11.2026 09:00`).
- ISO 8601 / W3CDTF (`dc:date`): `2003`, `2003-12`, `2003-12-31`, then a time after `T` or a space
  with minutes, seconds and a fraction, then `Z`, an offset or a zone name; the basic form
  (`20031231T101455Z`, `20031231`); `/` or `.` between year, month and day.

Rules: no zone at all is UTC. A numeric offset wins over a zone name next to it (`GMT+0200`,
`-0400 EDT`). Military letters are UTC (RFC 2822 §4.3: RFC 822 got their signs backwards, so they
carry no information; J is not a zone). Two-digit years: 00-49 are 20xx, 50-99 are 19xx, three
digits add 1900 (RFC 2822 §4.3). Ambiguous zone names read as in `_ZONES`; IST (India, Ireland or
Israel) is not read, since a wrong offset would be silently wrong. A missing day is the 1st, a
missing month January, a missing time midnight; a leap second reads as :59. Numbers-only dates with
slashes (`11/12/2026`) are not read: day and month cannot be told apart.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Every prefix of three letters or more names one month ("Jun", "June", "Sept") or one weekday
# ("Tue", "Tues", "Thurs"): no prefix of that length is shared.
_MONTH_WORDS: dict[str, int] = {
    full[:n]: number
    for number, full in enumerate(_MONTHS, start=1)
    for n in range(3, len(full) + 1)
}
_WEEKDAY_WORDS = frozenset(full[:n] for full in _WEEKDAYS for n in range(2, len(full) + 1))
# Ordinal suffixes ("23rd") and the glue of spelled-out dates ("23rd of November ... at 9:00").
_FILLER_WORDS = frozenset(("st", "nd", "rd", "th", "of", "at"))

_H = 60
# Offsets in minutes, by lower-case name. Ambiguous names read as their most common use in feeds:
# CST is US Central (not China), AST Atlantic (not Arabia), BST British Summer Time (not
# Bangladesh), SAST South Africa; the generic US names (ET, CT, MT, PT) read as standard time.
_ZONES: dict[str, int] = {
    # universal
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "zulu": 0,
    # North America (RFC 822 defines EST ... PDT)
    "nst": -3 * _H - 30,
    "ndt": -2 * _H - 30,
    "ast": -4 * _H,
    "adt": -3 * _H,
    "at": -4 * _H,
    "est": -5 * _H,
    "edt": -4 * _H,
    "et": -5 * _H,
    "cst": -6 * _H,
    "cdt": -5 * _H,
    "ct": -6 * _H,
    "mst": -7 * _H,
    "mdt": -6 * _H,
    "mt": -7 * _H,
    "pst": -8 * _H,
    "pdt": -7 * _H,
    "pt": -8 * _H,
    "akst": -9 * _H,
    "akdt": -8 * _H,
    "hst": -10 * _H,
    "hdt": -9 * _H,
    # Europe
    "wet": 0,
    "west": _H,
    "bst": _H,
    "cet": _H,
    "cest": 2 * _H,
    "met": _H,
    "mest": 2 * _H,
    "mez": _H,
    "mesz": 2 * _H,
    "eet": 2 * _H,
    "eest": 3 * _H,
    "msk": 3 * _H,
    # Africa, Asia, Oceania
    "sast": 2 * _H,
    "pkt": 5 * _H,
    "sgt": 8 * _H,
    "hkt": 8 * _H,
    "awst": 8 * _H,
    "jst": 9 * _H,
    "kst": 9 * _H,
    "acst": 9 * _H + 30,
    "acdt": 10 * _H + 30,
    "aest": 10 * _H,
    "aedt": 11 * _H,
    "nzst": 12 * _H,
    "nzdt": 13 * _H,
}
# Military letters: UTC (see the module docstring). "at" above is Atlantic Time, but as a word
# before the time it is glue ("... at 9:00"): see `_loose`.
_ZONES.update({chr(c): 0 for c in range(ord("a"), ord("z") + 1) if chr(c) != "j"})

_MAX_CHARS = 128
"""Longer text is not a date (and is not scanned)."""


# What nearly every RSS feed writes, `Mon, 23 Nov 2026 06:10:00 +0000` (or GMT, another offset, a
# zone name), read without the general scanner; anything else takes the general path.
_RFC822_COMMON = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]) "
    r"(?:(\+0000|GMT)|([+-])([0-9]{2})([0-9]{2})|([A-Z]{2,4}))",
    re.ASCII,
)
_MONTH_ABBR = {name[:3].capitalize(): number for number, name in enumerate(_MONTHS, start=1)}

# The same for ISO 8601 as written by most software: `2026-11-23T06:10:00Z`, `...:00.250-05:00`.
# `datetime.fromisoformat` reads exactly these (an offset past ±23:59 raises: not a date).
_ISO_COMMON = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)

_ZONE_PART = r"""
    \s*(?:(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?|(?P<zone>[a-z]{1,5}))?
"""
# ISO 8601 extended form (W3CDTF), reduced precision allowed; `/` or `.` also separate the date.
_ISO_EXTENDED = re.compile(
    r"""
    (?P<year>[0-9]{4})
    (?:(?P<sep>[-/.])(?P<month>[0-9]{1,2})
      (?:(?P=sep)(?P<day>[0-9]{1,2})
        (?:(?:\s*T\s*|\s+)
          (?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})
          (?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?
          """
    + _ZONE_PART
    + r"""
        )?
      )?
    )?
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)
# ISO 8601 basic form: `20031231`, `20031231T1014Z`, `20031231T101455.5+0100`.
_ISO_BASIC = re.compile(
    r"""
    (?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})
    (?:T(?P<hour>[0-9]{2})(?P<minute>[0-9]{2})
      (?:(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?
      """
    + _ZONE_PART
    + r"""
    )?
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)
_COMMENT = re.compile(r"\s*\([^()]*\)$")

# The tokens of everything else. Alternatives are tried in order: a time before a number, an
# offset before a number (a `-` before the time may be RFC 850's separator: see `_loose`).
_TOKEN = re.compile(
    r"""
    (?P<time>(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})
      (?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?)
    |(?P<offset>[+-](?P<oh>[0-9]{1,2})(?::?(?P<om>[0-9]{2}))?)(?![0-9])
    |(?P<dmy>(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4}))(?![0-9])
    |(?P<number>[0-9]+)
    |(?P<word>[a-z]+)
    |(?P<skip>[\s,./]+|-)
    |(?P<other>.)
    """,
    re.ASCII | re.VERBOSE,
)


def parse_date(value: str) -> datetime | None:
    """`value` as an aware UTC datetime, or None when it is not a date we can read exactly.

    Never raises. The forms read and the rules chosen are in the module docstring.
    """
    value = value.strip()
    try:
        if value[:4].isascii() and value[:4].isdigit():
            return _iso(value)
        return _rfc822(value)
    except (ValueError, OverflowError):  # out-of-range fields, or a shift past year 1/9999
        return None


def _rfc822(value: str) -> datetime | None:
    common = _RFC822_COMMON.fullmatch(value)
    if common is not None:
        day, month, year, hour, minute, second, utc, sign, oh, om, zone = common.groups()
        moment = datetime(
            int(year), _MONTH_ABBR[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
        if utc is not None:
            return moment
        offset = _offset(sign, oh, om) if sign is not None else _ZONES.get(zone.lower())
        if offset is not None:
            return moment - timedelta(minutes=offset)
    return _loose(value)


def _iso(value: str) -> datetime | None:
    if _ISO_COMMON.fullmatch(value) is not None:
        return datetime.fromisoformat(value).astimezone(UTC)
    if len(value) > _MAX_CHARS:
        return None
    if value[-1:] == ")":
        value = _COMMENT.sub("", value)
    match = _ISO_EXTENDED.fullmatch(value) or _ISO_BASIC.fullmatch(value)
    if match is None:
        return _loose(value)  # such as `2026 Nov 23`
    offset: int | None = 0
    if match["sign"]:
        offset = _offset(match["sign"], match["oh"], match["om"])
    elif match["zone"]:
        offset = _ZONES.get(match["zone"].lower())
    if offset is None:
        return None
    return _moment(
        int(match["year"]),
        int(match["month"] or 1),
        int(match["day"] or 1),
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        _microseconds(match["fraction"]),
        offset,
    )


def _loose(value: str) -> datetime | None:
    """Any other shape: scanned into tokens (day names, month names, numbers, a time, a zone name,
    an offset), whatever their order."""
    if len(value) > _MAX_CHARS:
        return None
    if value[-1:] == ")":
        value = _COMMENT.sub("", value)
    month: int | None = None
    numbers: list[str] = []
    time: re.Match[str] | None = None
    zone: int | None = None
    offset: int | None = None
    unknown: str | None = None  # a word that is no date part nor a zone we know
    meridiem: str | None = None
    for token in _TOKEN.finditer(value.lower()):
        kind = token.lastgroup
        if kind == "skip":
            continue
        if kind == "word":
            word = token["word"]
            if word in _MONTH_WORDS:
                if month is not None:
                    return None
                month = _MONTH_WORDS[word]
            elif word in _WEEKDAY_WORDS or (word in _FILLER_WORDS and time is None):
                continue
            elif word in ("am", "pm"):
                meridiem = word
            elif word == "t" and time is None:  # `23 Nov 2026T09:00`
                continue
            elif word in _ZONES:
                if zone is not None:
                    return None
                zone = _ZONES[word]
            else:
                unknown = word
        elif kind == "number":
            numbers.append(token["number"])
        elif kind == "time":
            if time is not None:
                return None
            time = token
        elif kind == "offset":
            date_complete = month is not None and len(numbers) >= 2
            if token["offset"][0] == "-" and time is None and not date_complete:
                # RFC 850's `06-Nov-94`: a separator, then a number
                numbers.append(token["offset"][1:].replace(":", ""))
                continue
            if offset is not None:
                return None
            offset = _offset(token["offset"][0], token["oh"], token["om"])
            if offset is None:
                return None
        elif kind == "dmy":
            if month is not None:
                return None
            month = int(token["m"])
            numbers[:0] = [token["d"], token["y"]]
        else:
            return None
    if unknown is not None and (offset is None or len(unknown) > 5):
        # An unknown zone name next to a numeric offset is ignored (`+0300 EAT`); alone it gives
        # no offset to trust, and a longer unknown word is no part of a date.
        return None
    if month is None or len(numbers) != 2:
        return None
    day, year = _day_and_year(*numbers)
    if day is None or year is None:
        return None
    hour = minute = second = microsecond = 0
    if time is not None:
        hour, minute = int(time["hour"]), int(time["minute"])
        second = int(time["second"] or 0)
        microsecond = _microseconds(time["fraction"])
    if meridiem is not None:
        if time is None or not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if offset is None:
        offset = 0 if zone is None else zone
    return _moment(year, month, day, hour, minute, second, microsecond, offset)


def _day_and_year(first: str, second: str) -> tuple[int | None, int | None]:
    """Day and year of the two numbers of a date with a month name: the year is the one with
    three or more digits, else the second (`23 Nov 26`, `Nov 23 26`)."""
    if len(first) >= 3 and len(second) <= 2:
        first, second = second, first
    if len(first) > 2 or len(second) > 4:
        return None, None
    return int(first), _year(second)


def _year(digits: str) -> int | None:
    year = int(digits)
    if len(digits) == 1:
        return None
    if len(digits) == 2:  # RFC 2822 §4.3
        return year + (2000 if year < 50 else 1900)
    if len(digits) == 3:
        return year + 1900
    return year


def _offset(sign: str, hours: str, minutes: str | None) -> int | None:
    """An offset in minutes east of UTC, or None past ±23:59."""
    h, m = int(hours), int(minutes or 0)
    if h > 23 or m > 59:
        return None
    total = h * 60 + m
    return -total if sign == "-" else total


def _microseconds(fraction: str | None) -> int:
    return int(fraction[:6].ljust(6, "0")) if fraction else 0


def _moment(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    microsecond: int,
    offset: int,
) -> datetime:
    """The UTC instant of a local time `offset` minutes east of UTC. Raises ValueError for fields
    out of range (a leap second reads as :59) and OverflowError past year 1/9999."""
    if second == 60:
        second = 59
    local = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)
    return local - timedelta(minutes=offset) if offset else local
