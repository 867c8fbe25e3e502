"""Chart geometry (admin/charts.py): hourly buckets, the y axis, stacked bars, feed run bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobimport.models import ImportRun, RunCounts, RunStatus
from jobimport.store.base import HourTotals
from jobimport.web.admin.charts import (
    hourly_buckets,
    hourly_chart,
    nice_top,
    runs_chart,
)

NOW = datetime(2026, 11, 23, 9, 40, tzinfo=UTC)


def run(created: datetime, status: RunStatus = RunStatus.SUCCEEDED, **counts: int) -> ImportRun:
    return ImportRun(
        id=f"{int(created.timestamp()):024x}", feed_url="https://x.test/feed", status=status,
        created_at=created, counts=RunCounts(**counts),
    )  # fmt: skip


def totals(start: datetime, runs: int = 1, **counts: int) -> HourTotals:
    return HourTotals(start.replace(minute=0), runs, RunCounts(**counts))


def test_the_store_hours_fill_the_window_and_hours_without_runs_are_zero() -> None:
    hours = [
        totals(NOW - timedelta(hours=3), new=100),  # outside a 3-hour window
        totals(NOW - timedelta(hours=1), new=5),
        totals(NOW, 2, new=5, updated=1, failed=4),
    ]
    buckets = hourly_buckets(hours, NOW, hours=3)
    assert [b.start.hour for b in buckets] == [7, 8, 9]
    assert [(b.new, b.updated, b.failed, b.runs) for b in buckets] == [
        (0, 0, 0, 0), (5, 0, 0, 1), (5, 1, 4, 2),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, (1, 1)), (1, (1, 1)), (3, (3, 1)), (7, (8, 2)), (273, (300, 100)), (1001, (1500, 500))],
)
def test_nice_top(value: int, expected: tuple[int, int]) -> None:
    assert nice_top(value) == expected


def test_bars_stack_new_updated_failed_bottom_up_in_proportion() -> None:
    buckets = hourly_buckets([totals(NOW, new=30, updated=10, failed=0)], NOW, hours=2)
    chart = hourly_chart(buckets, href=lambda b: f"/?hour={b.start.hour}", width=200, height=100)
    empty, full = chart.bars
    assert (empty.segments, empty.href) == ((), None)  # nothing ran: no link
    assert full.href == "/?hour=9"
    assert [s.series for s in full.segments] == ["new", "updated"]
    new, updated = full.segments
    assert new.height == pytest.approx(3 * updated.height)
    assert new.y + new.height == pytest.approx(chart.bottom)  # stands on the axis
    assert updated.y + updated.height == pytest.approx(new.y)  # sits on top of "new"
    assert chart.y_ticks[-1].label == "40"
    assert chart.totals == {"new": 30, "updated": 10, "failed": 0}
    assert "30 new, 10 updated, 0 failed (1 imports)" in full.label


def test_every_feed_run_shows_even_without_changes() -> None:
    runs = [
        run(NOW - timedelta(hours=2), new=10),
        run(NOW - timedelta(hours=1), RunStatus.NOT_MODIFIED),
        run(NOW, RunStatus.FAILED),
    ]
    chart = runs_chart(runs, href=lambda r: f"/imports/{r.id}", width=100, height=40, slots=10)
    assert [b.marker for b in chart.bars] == [None, "quiet", "failed"]
    assert chart.bars[0].segments[0].height == pytest.approx(38)
    assert chart.bars[-1].x > chart.bars[0].x  # oldest left
    assert chart.bars[-1].x + chart.bars[-1].width <= 100  # right-aligned inside the box
    assert chart.bars[1].href == f"/imports/{runs[1].id}"
