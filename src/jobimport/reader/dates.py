"""Feed dates → aware UTC datetimes: RFC 822/2822 (what RSS uses) and ISO 8601 (dc:date, Atom)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

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

# Offsets in minutes. North-American names are what RFC 822 defines (HigherEdJobs uses them);
# a few other unambiguous ones are common in the wild. Ambiguous names (IST, BST in some
# places) are left out: a wrong offset would be silently wrong, an unknown one fails visibly.
_ZONES: dict[str, int] = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5 * 60,
    "EDT": -4 * 60,
    "CST": -6 * 60,
    "CDT": -5 * 60,
    "MST": -7 * 60,
    "MDT": -6 * 60,
    "PST": -8 * 60,
    "PDT": -7 * 60,
    "AKST": -9 * 60,
    "AKDT": -8 * 60,
    "HST": -10 * 60,
    "WET": 0,
    "WEST": 60,
    "CET": 60,
    "CEST": 2 * 60,
    "EET": 2 * 60,
    "EEST": 3 * 60,
    "JST": 9 * 60,
    "AEST": 10 * 60,
    "AEDT": 11 * 60,
    "NZST": 12 * 60,
    "NZDT": 13 * 60,
}
# RFC 822 got the signs of the military letters backwards; RFC 2822 §4.3 says to read them
# as -0000 (UTC, offset unknown). J is not a zone.
_ZONES.update({chr(c): 0 for c in range(ord("A"), ord("Z") + 1) if chr(c) != "J"})

_RFC822 = re.compile(
    r"""
    (?:[a-z]{2,9}\.?\s*,?\s*)?                    # weekday: ignored, feeds often get it wrong
    (?P<day>[0-9]{1,2})[\s-]+(?P<month>[a-z]{3,9})\.?[\s-]+(?P<year>[0-9]{4}|[0-9]{2})
    (?:\s+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.[0-9]+)?)?)?
    \s*(?:(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2})|(?P<zone>[a-z]{1,5}))?
    (?:\s*\([^()]*\))?                            # a comment such as "(EDT)"
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)


# The common case of the above, `Mon, 23 Nov 2026 06:10:00 +0000` (or GMT), read the same way
# for a third of the cost; anything else (other zones, a leap second, odd case or spacing) takes
# the general path.
_RFC822_COMMON = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]) (?:\+0000|GMT)",
    re.ASCII,
)
_MONTH_ABBR = {name[:3].capitalize(): number for number, name in enumerate(_MONTHS, start=1)}


# Extended ISO 8601 only: `datetime.fromisoformat` alone also takes odd shapes (a run of
# digits reads as a basic-format date-time), so the shape is checked first.
_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?",
    re.ASCII | re.IGNORECASE,
)


def parse_date(value: str) -> datetime | None:
    """`value` as an aware UTC datetime, or None when it is not a date we can read exactly.

    No zone at all is read as UTC (RFC 822 requires one; ISO 8601 without one is local time of
    an unknown place, and UTC is the least surprising guess). An unknown zone name is None.
    """
    value = value.strip()
    try:
        if value[:4].isascii() and value[:4].isdigit():
            return _iso(value)
        return _rfc822(value)
    except (ValueError, OverflowError):  # out-of-range fields, or a shift past year 1/9999
        return None


def _iso(value: str) -> datetime | None:
    if _ISO.fullmatch(value) is None:
        return None
    if value[-1:] in ("z", "Z"):
        value = value[:-1] + "+00:00"
    value = value.replace(",", ".")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _rfc822(value: str) -> datetime | None:
    common = _RFC822_COMMON.fullmatch(value)
    if common is not None:  # what nearly every feed writes: read it without the general regex
        day, month, year, hour, minute, second = common.groups()
        return datetime(
            int(year), _MONTH_ABBR[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    match = _RFC822.fullmatch(value)
    if match is None:
        return None
    month = _month(match["month"])
    if month is None:
        return None
    year = int(match["year"])
    if len(match["year"]) == 2:  # RFC 2822 §4.3
        year += 2000 if year < 50 else 1900
    second = int(match["second"] or 0)
    if second == 60:  # a leap second is read as :59 rather than rejected
        second = 59
    hour, minute = int(match["hour"] or 0), int(match["minute"] or 0)  # no time: midnight
    naive = datetime(year, month, int(match["day"]), hour, minute, second)
    offset = _offset(match)
    if offset is None:
        return None
    return naive.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)


def _month(name: str) -> int | None:
    lowered = name.lower()
    for number, full in enumerate(_MONTHS, start=1):
        if full.startswith(lowered):  # "Jun", "June", "Sept"
            return number
    return None


def _offset(match: re.Match[str]) -> int | None:
    if match["sign"]:
        hours, minutes = int(match["oh"]), int(match["om"])
        if hours > 23 or minutes > 59:
            return None
        total = hours * 60 + minutes
        return -total if match["sign"] == "-" else total
    if match["zone"]:
        return _ZONES.get(match["zone"].upper())
    return 0
