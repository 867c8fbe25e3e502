"""How the admin pages write values for people: short URLs, relative and absolute times,
durations, counts, sizes, status labels and badges. static/js/format.js has the first rules for
what it renders live (tests/admin/test_format.py pins both to the same examples); labels and
badges reach the scripts in the page config instead (rules.py status_rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

SHORT_URL_CHARS = 48


def short_url(url: str, limit: int = SHORT_URL_CHARS) -> str:
    """A feed URL without scheme and `www.`, cut in the middle when long: the host and the end
    of the query are what tell feeds apart."""
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    text = host + parts.path + (f"?{parts.query}" if parts.query else "")
    text = text.rstrip("/") or host
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


def web_link(url: str | None) -> str | None:
    """`url` when a page may make a link of it (http or https), else None: feeds say anything,
    and a `javascript:`, `data:` or `vbscript:` link must show as text, never as a link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:  # e.g. an unbalanced `[` in the host
        return None
    return url if scheme in ("http", "https") else None


def ago(when: datetime | None, now: datetime) -> str:
    """`just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; `in 5 min` for the future."""
    if when is None:
        return "—"
    seconds = int((now - when).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 5:
        return "just now" if not future else "in a moment"
    if seconds < 60:
        amount = f"{seconds} s"
    elif seconds < 3600:
        amount = f"{seconds // 60} min"
    elif seconds < 86400:
        amount = f"{seconds // 3600} h"
    else:
        amount = f"{seconds // 86400} d"
    return f"in {amount}" if future else f"{amount} ago"


def absolute(when: datetime | None) -> str:
    """`2026-11-23 09:00:12 UTC`: the exact time, shown on hover."""
    if when is None:
        return ""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(when: datetime | None) -> str:
    """The machine-readable time of a `<time datetime>` attribute."""
    return "" if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration(ms: int | None) -> str:
    """`850 ms`, `12.3 s`, `3 min 4 s`, `1 h 2 min`; `—` when unknown."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    seconds = ms // 1000
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def count(value: int | None) -> str:
    """`12,345`; `—` when unknown."""
    return "—" if value is None else f"{value:,}"


def size(value: int | None) -> str:
    """`512 B`, `1.5 KB`, `12.3 MB` (powers of 1024)."""
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "KB", "MB"):
        if amount < 1024 or unit == "MB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


STATUS_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Succeeded",
    "partial": "Partial",
    "failed": "Failed",
    "not_modified": "Not modified",
    "cancelled": "Cancelled",
}


def status_label(status: str | None) -> str:
    return "—" if status is None else STATUS_LABELS.get(status, status)


def status_badge(status: str | None) -> str:
    """The class of a status's badge (app.css styles one per status; `badge-none` when none)."""
    return f"badge-{status or 'none'}"
