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
from jobimport.store.base import RunQuery, Store
from jobimport.web.admin.format import absolute, status_label

SERIES: tuple[tuple[str, str], ...] = (("new", "New"), ("updated", "Updated"), ("failed", "Failed"))
"""Stacking order, bottom up, with the legend's names."""

HOUR = timedelta(hours=1)
CHART_PAGE = 100
MAX_CHART_RUNS = 5000
"""The hourly chart reads at most this many runs of its window (newest first); past that it says
so. Plenty for hourly imports of a hundred feeds over three days."""


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


def hourly_buckets(runs: Iterable[ImportRun], now: datetime, hours: int) -> list[Bucket]:
    """One bucket per hour (UTC) of the `hours` up to and including the current one, counting
    each run in the hour it was created."""
    end = floor_hour(now) + HOUR
    start = end - hours * HOUR
    sums: dict[datetime, list[int]] = {start + i * HOUR: [0, 0, 0, 0] for i in range(hours)}
    for run in runs:
        slot = sums.get(floor_hour(run.created_at))
        if slot is not None:
            slot[0] += run.counts.new
            slot[1] += run.counts.updated
            slot[2] += run.counts.failed
            slot[3] += 1
    return [Bucket(hour, *values) for hour, values in sums.items()]


async def load_hourly(store: Store, now: datetime, hours: int) -> tuple[list[Bucket], bool]:
    """The hourly buckets of the window, and whether runs were left out (MAX_CHART_RUNS)."""
    since = floor_hour(now) + HOUR - hours * HOUR
    runs: list[ImportRun] = []
    total = 0
    while len(runs) < MAX_CHART_RUNS:
        page = await store.list_runs(
            RunQuery(created_after=since, limit=CHART_PAGE, offset=len(runs))
        )
        total = page.total
        runs.extend(page.items)
        if not page.items or len(runs) >= total:
            break
    return hourly_buckets(runs, now, hours), total > len(runs)


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
