"""Figures as results.json records them: median of the runs, min, max, unit, target."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Better = Literal["higher", "lower"]


class BenchError(RuntimeError):
    """A benchmark could not run (missing tool, failed install, wrong item count, ...)."""


@dataclass
class Figure:
    """One measured figure over one or more runs. `target` is None for raw figures."""

    name: str
    samples: list[float]
    unit: str
    target: float | None = None
    better: Better = "higher"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return statistics.median(self.samples)

    @property
    def met(self) -> bool | None:
        if self.target is None or not self.samples:
            return None
        if self.better == "higher":
            return self.value >= self.target
        return self.value <= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "min": _round(min(self.samples)),
            "max": _round(max(self.samples)),
            "unit": self.unit,
            "target": self.target,
            "better": self.better,
            "met": self.met,
            "runs": len(self.samples),
            "note": self.note,
            **self.extra,
        }


def _round(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    digits = max(0, 3 - math.floor(math.log10(abs(value))))
    return round(value, digits)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Pairwise ratios of runs taken side by side (run i of each); the longer list is cut."""
    return [a / b for a, b in zip(numerators, denominators, strict=False) if b > 0]
