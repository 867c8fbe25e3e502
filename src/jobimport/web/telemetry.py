"""Prometheus metrics of one app, in its own registry (several apps may live in one process).

Totals that must agree across replicas come from the store at scrape time (runs by status,
items by outcome, jobs); fetch durations are observed from the event bus, so a `web` replica
sees the fetches of every worker; queue depth and SSE clients are read live.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jobimport import __version__
from jobimport.events.hub import EventBus, SubscriberDropped
from jobimport.models import RunCounts, RunStatus

log = structlog.get_logger(__name__)
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 240)


@dataclass(slots=True)
class Snapshot:
    """What the scrape read from the store and the queue just before rendering."""

    runs: dict[str, int] = field(default_factory=dict)
    items: RunCounts = field(default_factory=RunCounts)
    jobs: int = 0
    queue_depth: int | None = None
    sse_clients: int = 0


class _SnapshotCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        snap = self._metrics.snapshot
        runs = GaugeMetricFamily(
            "jobimport_runs", "Import runs in the store, by status.", labels=["status"]
        )
        for status in RunStatus:
            runs.add_metric([status.value], snap.runs.get(status.value, 0))
        yield runs
        items = CounterMetricFamily(
            "jobimport_items",
            "Feed items over every run in the store, by outcome.",
            labels=["outcome"],
        )
        for outcome in ("new", "updated", "unchanged", "failed", "expired"):
            items.add_metric([outcome], getattr(snap.items, outcome))
        yield items
        yield GaugeMetricFamily("jobimport_jobs", "Jobs in the store.", value=snap.jobs)
        if snap.queue_depth is not None:
            yield GaugeMetricFamily(
                "jobimport_queue_depth",
                "Tasks waiting or deferred on the queue.",
                value=snap.queue_depth,
            )
        yield GaugeMetricFamily(
            "jobimport_sse_clients", "Open /api/events streams.", value=snap.sse_clients
        )
        info = GaugeMetricFamily(
            "jobimport_info", "Version and role of this process.", labels=["version", "role"]
        )
        info.add_metric([__version__, self._metrics.role], 1)
        yield info


class Metrics:
    def __init__(self, role: str) -> None:
        self.role = role
        self.registry = CollectorRegistry(auto_describe=False)
        self.snapshot = Snapshot()
        self.fetch_duration = Histogram(
            "jobimport_fetch_duration_seconds",
            "Download time of finished runs' feeds (from run.finished events).",
            buckets=FETCH_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_SnapshotCollector(self))
        # Set by the server's connection guard (web/connections.py) and the SSE endpoint.
        self.http_connections = Gauge(
            "jobimport_http_connections", "Open HTTP connections.", registry=self.registry
        )
        self.connections_refused = Counter(
            "jobimport_http_connections_refused",
            "Connections refused at MAX_CONNECTIONS.",
            registry=self.registry,
        )
        self.header_timeouts = Counter(
            "jobimport_http_header_timeouts",
            "Connections closed for not sending a request's headers within HEADER_TIMEOUT_S.",
            registry=self.registry,
        )
        self.sse_streams_cut = Counter(
            "jobimport_sse_streams_cut",
            "SSE streams closed because their client fell behind, by reason"
            " (buffer: SSE_STREAM_BUFFER_BYTES unsent; queue: its event queue overflowed).",
            labelnames=["reason"],
            registry=self.registry,
        )

    def observe(self, event_type: str, data: dict[str, object]) -> None:
        if event_type != "run.finished":
            return
        run = data.get("run")
        http = run.get("http") if isinstance(run, dict) else None
        duration = http.get("durationMs") if isinstance(http, dict) else None
        if isinstance(duration, int | float):
            self.fetch_duration.observe(duration / 1000)

    async def follow(self, bus: EventBus) -> None:
        """Observe every event on the bus until cancelled; resume after falling behind."""
        last: str | None = None
        while True:
            sub = await bus.subscribe(last)
            try:
                while (envelope := await sub.get()) is not None:
                    last = envelope.id
                    self.observe(envelope.type, envelope.data)
                return  # the bus closed
            except SubscriberDropped:
                continue
            finally:
                bus.unsubscribe(sub)


@contextlib.asynccontextmanager
async def following(metrics: Metrics, bus: EventBus) -> AsyncIterator[None]:
    """Run `metrics.follow(bus)` in the background while the block runs."""
    task = asyncio.create_task(metrics.follow(bus), name="metrics-follow")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
