"""Charts of new / updated / failed items, drawn as SVG on the server (templates/admin/chart.html).

Why SVG from the server rather than a chart library: the page stays readable with scripts off
and in screenshots, nothing third-party runs in the page (the CSP allows our own scripts only),
there is no vendored file to keep current, and the geometry is plain Python that tests can
check. Bars carry `<title>` tooltips and link to the runs they count; an HTML table beside the
chart gives the same numbers to keyboards and screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from jobimport.models import ImportRun, RunStatus
from jobimport.store.base import HourTotals, Store
from jobimport.web.admin.format import absolute, status_label

SERIES: tuple[tuple[str, str], ...] = (("new", "New"), ("updated", "Updated"), ("failed", "Failed"))
"""Stacking order, bottom up, with the legend's names."""

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    new: int = 0
    updated: int = 0
    failed: int = 0
    runs: int = 0

    def value(self, series: str) -> int:
        return int(getattr(self, series))


@dataclass(frozen=True, slots=True)
class Segment:
    series: str
    value: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    label: str
    href: str | None
    segments: tuple[Segment, ...] = ()
    marker: str | None = None  # "quiet" (ran, changed nothing) or "failed" (feed-level failure)
    marker_y: float = 0.0
    marker_height: float = 0.0


@dataclass(frozen=True, slots=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: float
    top: float
    plot_width: float
    plot_height: float
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def bottom(self) -> float:
        return self.top + self.plot_height

    @property
    def empty(self) -> bool:
        return not any(self.totals.values())


def floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_buckets(totals: Iterable[HourTotals], now: datetime, hours: int) -> list[Bucket]:
    """One bucket per hour (UTC) of the `hours` up to and including the current one, from the
    store's hourly totals (runs counted in the hour they were created)."""
    end = floor_hour(now) + HOUR
    start = end - hours * HOUR
    sums: dict[datetime, Bucket] = {
        start + i * HOUR: Bucket(start + i * HOUR) for i in range(hours)
    }
    for total in totals:
        hour = floor_hour(total.hour)
        if hour in sums:
            c = total.counts
            sums[hour] = Bucket(hour, c.new, c.updated, c.failed, total.runs)
    return list(sums.values())


async def load_hourly(store: Store, now: datetime, hours: int) -> list[Bucket]:
    """The hourly buckets of the window, read from the store's per-hour rollups: the same cost
    for ten runs an hour or ten thousand."""
    end = floor_hour(now) + HOUR
    return hourly_buckets(await store.hourly_totals(end - hours * HOUR, end), now, hours)


def nice_top(value: int) -> tuple[int, int]:
    """(top, step) of a y axis that holds `value`: steps of 1, 2 or 5 × 10^k, at most 4 of them."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return step * math.ceil(value / step), step


def _stack(values: Sequence[tuple[str, int]], bottom: float, scale: float) -> tuple[Segment, ...]:
    segments = []
    y = bottom
    for series, value in values:
        if value <= 0:
            continue
        height = value * scale
        y -= height
        segments.append(Segment(series, value, round(y, 2), round(height, 2)))
    return tuple(segments)


def hourly_chart(
    buckets: Sequence[Bucket],
    *,
    href: Callable[[Bucket], str],
    width: int = 1000,
    height: int = 220,
    label_every: int = 6,
) -> Chart:
    """Stacked bars per hour; x labels every `label_every` hours (a date at midnight)."""
    left, top, right, bottom = 44.0, 10.0, 8.0, 26.0
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((b.new + b.updated + b.failed for b in buckets), default=0)
    top_value, step = nice_top(highest)
    scale = plot_h / top_value
    slot = plot_w / max(1, len(buckets))
    bars, x_ticks = [], []
    for i, bucket in enumerate(buckets):
        x = left + i * slot
        values = [(s, bucket.value(s)) for s, _ in SERIES]
        start = bucket.start
        label = (
            f"{start:%b %d, %H:%M}–{start + HOUR:%H:%M} UTC: {bucket.new} new, "
            f"{bucket.updated} updated, {bucket.failed} failed ({bucket.runs} imports)"
        )
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 2),
                width=round(slot * 0.7, 2),
                label=label,
                href=href(bucket) if bucket.runs else None,
                segments=_stack(values, top + plot_h, scale),
            )
        )
        if start.hour % label_every == 0:
            text = f"{start:%b %d}" if start.hour == 0 else f"{start:%H:%M}"
            x_ticks.append(Tick(round(x + slot / 2, 2), text))
    y_ticks = tuple(
        Tick(round(top + plot_h - v * scale, 2), f"{v:,}") for v in range(0, top_value + 1, step)
    )
    totals = {s: sum(b.value(s) for b in buckets) for s, _ in SERIES}
    return Chart(width, height, left, top, plot_w, plot_h, tuple(bars), y_ticks, tuple(x_ticks),
                 totals)  # fmt: skip


def runs_chart(
    runs: Sequence[ImportRun], *, href: Callable[[ImportRun], str], width: int = 168,
    height: int = 40, slots: int = 20,
) -> Chart:  # fmt: skip
    """A feed's recent runs, oldest left: stacked new/updated/failed items; a run that changed
    nothing gets a grey stub and a feed-level failure a red one, so every run shows."""
    runs = list(runs)[-slots:]
    highest = max((r.counts.new + r.counts.updated + r.counts.failed for r in runs), default=0)
    scale = (height - 2) / max(1, highest)
    slot = width / slots
    offset = width - slot * len(runs)  # right-aligned: the newest run always sits at the edge
    bars = []
    for i, run in enumerate(runs):
        c = run.counts
        values = [("new", c.new), ("updated", c.updated), ("failed", c.failed)]
        segments = _stack(values, float(height), scale)
        marker = None
        if not segments:
            marker = "failed" if run.status is RunStatus.FAILED else "quiet"
        marker_height = 6.0 if marker == "failed" else 3.0
        label = (
            f"{absolute(run.created_at)} · {status_label(run.status.value)}: {c.new} new, "
            f"{c.updated} updated, {c.failed} failed"
        )
        bars.append(
            Bar(
                x=round(offset + i * slot + slot * 0.15, 2),
                width=round(slot * 0.7, 2),
                label=label,
                href=href(run),
                segments=segments,
                marker=marker,
                marker_y=height - marker_height,
                marker_height=marker_height,
            )
        )
    totals = {
        "new": sum(r.counts.new for r in runs),
        "updated": sum(r.counts.updated for r in runs),
        "failed": sum(r.counts.failed for r in runs),
    }
    return Chart(width, height, 0.0, 0.0, float(width), float(height), tuple(bars), totals=totals)
