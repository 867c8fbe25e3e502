"""Typed run events. The pipeline publishes them; the hub and SSE (later) carry them to browsers.

Every event has a `type` (its wire name) and serializes to a flat JSON object with camelCase keys,
in the shapes of `jobimport.wire`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from jobimport.models import FeedState, ImportRun
from jobimport.wire import FeedAlertOut, FeedRef, ImportLog, RunEventOut


@dataclass(frozen=True, slots=True)
class RunEvent:
    """Base of the run events: the run's log as it stands when the event happens."""

    type: ClassVar[str] = "run"
    run: ImportRun

    def to_json(self) -> dict[str, Any]:
        return RunEventOut(type=self.type, run=ImportLog.of(self.run)).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class RunQueued(RunEvent):
    type: ClassVar[str] = "run.queued"


@dataclass(frozen=True, slots=True)
class RunStarted(RunEvent):
    type: ClassVar[str] = "run.started"


@dataclass(frozen=True, slots=True)
class RunProgress(RunEvent):
    """A batch was applied: `batchesDone` of `batchesTotal`, with the running counts."""

    type: ClassVar[str] = "run.progress"


@dataclass(frozen=True, slots=True)
class RunFinished(RunEvent):
    type: ClassVar[str] = "run.finished"


@dataclass(frozen=True, slots=True)
class FeedFailed(RunEvent):
    """The run failed at feed level (fetch or document error); `run.error` says why."""

    type: ClassVar[str] = "feed.failed"


@dataclass(frozen=True, slots=True)
class FeedAlert(RunEvent):
    """A feed reached ALERT_AFTER_FAILURES consecutive failed runs (`failing`, once per streak),
    or a feed alerted before succeeded again (`recovered`). `run` is the run that decided it;
    `feed` is the feed's state after that run. The alert webhook sends these."""

    type: ClassVar[str] = "feed.alert"
    kind: Literal["failing", "recovered"] = "failing"
    feed: FeedState | None = None

    def to_json(self) -> dict[str, Any]:
        feed = self.feed
        payload = FeedAlertOut(
            type=self.type,
            kind=self.kind,
            feed=None if feed is None else FeedRef.of(feed),
            consecutiveFailures=0 if feed is None else feed.consecutive_failures,
            run=ImportLog.of(self.run),
        )
        return payload.model_dump(mode="json")


Publish = Callable[[RunEvent], Awaitable[None]]
"""Where the pipeline sends events. Must never block an import for long."""


async def discard(event: RunEvent) -> None:
    """A Publish that drops every event (no listener)."""
    del event
