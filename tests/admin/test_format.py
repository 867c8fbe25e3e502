"""How values are written for people (admin/format.py); tests/browser pins format.js to the
same examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobimport.web.admin import format as fmt
from tests.admin.support import AGO, DURATIONS, SHORT_URLS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("url", "short"), SHORT_URLS)
def test_short_url(url: str, short: str) -> None:
    assert fmt.short_url(url) == short
    assert len(fmt.short_url(url)) <= fmt.SHORT_URL_CHARS


@pytest.mark.parametrize(("seconds", "text"), AGO)
def test_ago(seconds: int, text: str) -> None:
    assert fmt.ago(NOW - timedelta(seconds=seconds), NOW) == text


@pytest.mark.parametrize(("ms", "text"), DURATIONS)
def test_duration(ms: int | None, text: str) -> None:
    assert fmt.duration(ms) == text


def test_times_counts_and_sizes() -> None:
    assert fmt.ago(None, NOW) == "—"
    assert fmt.absolute(NOW) == "2026-11-23 09:00:00 UTC"
    assert fmt.iso(NOW) == "2026-11-23T09:00:00Z"
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.count(None) == "—"
    assert [fmt.size(n) for n in (512, 1536, 5 * 1024 * 1024)] == ["512 B", "1.5 KB", "5.0 MB"]
    assert fmt.status_label("not_modified") == "Not modified"
