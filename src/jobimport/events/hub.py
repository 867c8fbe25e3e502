"""In-process event hub: numbered events, a short replay buffer, a bounded queue per subscriber.

Publishing never waits: a subscriber whose queue is full is cut off (its stream ends, the browser
reconnects with Last-Event-ID and catches up from the replay buffer), so a slow client never
blocks an import or the other clients.

`Fanout` is the delivery half (subscribers, bounded queues, cut-offs); `Hub` numbers events and
keeps the replay buffer itself, `events.redis_bus.RedisBus` takes both from a Redis Stream.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from jobimport.events.types import RunEvent

# An id this hub gave: ASCII digits, a count that fits 64 bits. Anything else (a 5,000-digit
# number int() refuses, `²`) is an unknown id: a live-only stream.
_HUB_ID = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)  # no slots: `text` caches its JSON in the instance dict
class Envelope:
    """An event as delivered: its id (increasing), wire type and JSON payload.

    `order` compares ids: (n, 0) for the hub's counter, (ms, seq) for Redis Stream ids."""

    id: str
    type: str
    data: dict[str, Any]
    order: tuple[int, int] = (0, 0)

    @cached_property
    def text(self) -> str:
        """The payload as compact JSON: serialized once, however many streams send it."""
        return json.dumps(self.data, separators=(",", ":"))


class SubscriberDropped(Exception):
    """Raised to a subscriber that fell too far behind; it should reconnect and replay."""


class Subscription:
    """One listener: replayed events first, then live ones (never one twice, never out of order)."""

    def __init__(self, maxsize: int, backlog: Iterable[Envelope] = ()) -> None:
        self.queue: asyncio.Queue[Envelope | None] = asyncio.Queue(maxsize)
        self.dropped = False
        self._backlog: deque[Envelope] = deque(backlog)
        self._last: tuple[int, int] | None = None

    def replay(self, backlog: Iterable[Envelope]) -> None:
        """Events to deliver before anything queued live (a resume from Last-Event-ID)."""
        self._backlog.extend(backlog)

    async def get(self) -> Envelope | None:
        """The next event; None when the subscription ended (raises if it was dropped)."""
        while True:
            if self._backlog:
                item: Envelope | None = self._backlog.popleft()
            else:
                item = await self.queue.get()
            if item is None:
                if self.dropped:
                    raise SubscriberDropped("subscriber fell behind")
                return None
            # A live event may also have been replayed: skip what was already delivered.
            if self._last is not None and item.order <= self._last:
                continue
            self._last = item.order
            return item

    async def __aiter__(self) -> AsyncIterator[Envelope]:
        while (item := await self.get()) is not None:
            yield item


class EventBus(Protocol):
    """What publishers and the SSE endpoint need from an event bus (Hub or RedisBus)."""

    async def publish(self, event: RunEvent) -> None: ...

    async def subscribe(self, last_event_id: str | None = None) -> Subscription:
        """Subscribe; events after `last_event_id` (when still kept) are delivered first."""

    def unsubscribe(self, sub: Subscription) -> None: ...

    @property
    def subscriber_count(self) -> int: ...

    async def aclose(self) -> None:
        """End every subscription and release the bus's resources (shutdown)."""


class Fanout:
    """Delivers envelopes to subscribers without ever waiting on one."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscription] = set()

    def add(self, backlog_room: int) -> Subscription:
        sub = Subscription(self.queue_size + backlog_room)
        self.subscribers.add(sub)
        return sub

    def deliver(self, envelope: Envelope) -> None:
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(envelope)
            except asyncio.QueueFull:
                sub.dropped = True
                self.subscribers.discard(sub)
                _put_end(sub)

    def end_all(self) -> None:
        for sub in list(self.subscribers):
            self.subscribers.discard(sub)
            _put_end(sub)


def _put_end(sub: Subscription) -> None:
    # Make room for the end marker: the subscriber is leaving, its backlog is moot.
    while True:
        try:
            sub.queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            sub.queue.get_nowait()


class Hub:
    """Fan-out of run events to subscribers in this process, with replay by event id."""

    def __init__(self, *, replay: int = 1000, queue_size: int = 256) -> None:
        self._seq = 0
        self._replay: deque[Envelope] = deque(maxlen=replay)
        self._fanout = Fanout(queue_size)

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout.subscribers)

    async def publish(self, event: RunEvent) -> None:
        """Matches `events.types.Publish`; never blocks."""
        self._seq += 1
        envelope = Envelope(
            id=str(self._seq), type=event.type, data=event.to_json(), order=(self._seq, 0)
        )
        self._replay.append(envelope)
        self._fanout.deliver(envelope)

    async def subscribe(self, last_event_id: str | None = None) -> Subscription:
        """A new subscription, first fed the buffered events after `last_event_id` (if given)."""
        sub = self._fanout.add(0)
        if last_event_id is not None and _HUB_ID.fullmatch(last_event_id):
            after = int(last_event_id)
            sub.replay(e for e in self._replay if e.order[0] > after)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._fanout.subscribers.discard(sub)

    def close(self) -> None:
        """End every subscription (shutdown)."""
        self._fanout.end_all()

    async def aclose(self) -> None:
        self.close()
