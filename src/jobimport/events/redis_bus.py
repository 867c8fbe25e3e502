"""Run events through a capped Redis Stream, so every replica sees every replica's events.

`publish` appends to the stream (`XADD … MAXLEN ~ N`); the stream id is the event id. One reader
task per process follows the stream (`XREAD BLOCK`) and hands each entry to the local subscribers
through the same bounded, never-waiting fan-out as the in-process hub. A subscriber that resumes
with Last-Event-ID first gets the entries after that id from the stream itself (`XRANGE`), so any
replica can resume any client, as far back as the stream is kept.

Events are not the source of truth (the import logs are): when Redis is unreachable, `publish`
logs and drops the event instead of holding up an import, and the reader retries with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobimport.events.hub import Envelope, Fanout, Subscription
from jobimport.events.types import RunEvent

log = structlog.get_logger(__name__)
_STREAM_ID = re.compile(r"^([0-9]{1,20})-([0-9]{1,20})$")
_U64 = 2**64 - 1  # Redis refuses a stream id part past this
READ_BLOCK_MS = 1000
REPLAY_MAX = 1000


def stream_key(queue_name: str) -> str:
    """The events stream of the deployment that shares this queue."""
    return f"{queue_name}:events"


def parse_stream_id(value: str | None) -> tuple[int, int] | None:
    """`1700000000000-3` → (1700000000000, 3); None for anything that is not a stream id."""
    if value is None:
        return None
    match = _STREAM_ID.match(value.strip())
    if match is None:
        return None
    ms, seq = int(match.group(1)), int(match.group(2))
    return (ms, seq) if ms <= _U64 and seq <= _U64 else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _envelope(entry_id: Any, fields: dict[Any, Any]) -> Envelope | None:
    sid = _text(entry_id)
    order = parse_stream_id(sid)
    decoded = {_text(k): _text(v) for k, v in fields.items()}
    try:
        data = json.loads(decoded["data"])
        kind = decoded["type"]
    except (KeyError, ValueError):
        log.warning("skipping a malformed event in the stream", id=sid)
        return None
    if order is None or not isinstance(data, dict):
        return None
    return Envelope(id=sid, type=kind, data=data, order=order)


class RedisBus:
    """The EventBus of a deployment with Redis. `start()` inside the running loop."""

    def __init__(
        self,
        redis_url: str,
        key: str,
        *,
        max_len: int = 1000,
        queue_size: int = 256,
        publish_timeout_s: float = 2.0,
    ) -> None:
        self.key = key
        self._max_len = max_len
        self._fanout = Fanout(queue_size)
        # Two clients: a blocking XREAD holds its connection for up to READ_BLOCK_MS, and its
        # socket timeout must outlast that, while publishing must give up quickly. A stopped
        # (frozen) Redis never answers: the timeouts end each wait, and the reader retries from
        # the last id it delivered, so it catches up when Redis resumes.
        self._writer: Redis = Redis.from_url(
            redis_url, socket_timeout=publish_timeout_s, socket_connect_timeout=publish_timeout_s
        )
        self._reader: Redis = Redis.from_url(
            redis_url,
            socket_timeout=READ_BLOCK_MS / 1000 + publish_timeout_s,
            socket_connect_timeout=publish_timeout_s,
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.published = 0
        self.dropped = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout.subscribers)

    async def start(self) -> None:
        """Start following the stream from its current end: every event published after this
        returns reaches the local subscribers. Redis down: the reader starts when it is back."""
        if self._task is not None:
            return
        start: str | None = None
        try:
            newest = await self._reader.xrevrange(self.key, count=1)
            start = _text(newest[0][0]) if newest else "0-0"
        except (RedisError, OSError) as exc:
            log.warning("event stream unavailable at start", error=str(exc))
        self._task = asyncio.create_task(self._follow(start), name="events-reader")

    async def publish(self, event: RunEvent) -> None:
        """Matches `events.types.Publish`. Waits at most the publish timeout."""
        fields = {"type": event.type, "data": json.dumps(event.to_json(), separators=(",", ":"))}
        try:
            await self._writer.xadd(self.key, fields, maxlen=self._max_len, approximate=True)  # type: ignore[arg-type]
            self.published += 1
        except (RedisError, OSError) as exc:
            self.dropped += 1
            log.warning("event not published; Redis unavailable", type=event.type, error=str(exc))

    async def subscribe(self, last_event_id: str | None = None) -> Subscription:
        await self.start()
        sub = self._fanout.add(0)  # first: live events from now on are queued, none missed
        after = parse_stream_id(last_event_id)
        if after is not None:
            try:
                entries = await self._writer.xrange(
                    self.key, min=f"({after[0]}-{after[1]}", count=REPLAY_MAX
                )
            except (RedisError, OSError) as exc:
                log.warning("cannot replay events; Redis unavailable", error=str(exc))
                entries = []
            backlog = [e for e in (_envelope(i, f) for i, f in entries) if e is not None]
            sub.replay(backlog)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._fanout.subscribers.discard(sub)

    async def ping(self) -> bool:
        try:
            return bool(await self._writer.ping())
        except (RedisError, OSError):
            return False

    async def aclose(self) -> None:
        self._fanout.end_all()
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            # Cancelling a task blocked in XREAD can wait on redis-py's connection for as long
            # as the block lasts, or longer; dropping the connection ends the read at once.
            await self._reader.connection_pool.disconnect()
            done, _ = await asyncio.wait({task}, timeout=READ_BLOCK_MS / 1000 + 2)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._reader.aclose()
        await self._writer.aclose()

    async def _follow(self, last: str | None) -> None:
        """Follow the stream after `last` (None: from its end), delivering each entry once."""
        delay = 0.5
        while not self._stopping:
            try:
                if last is None:
                    newest = await self._reader.xrevrange(self.key, count=1)
                    last = _text(newest[0][0]) if newest else "0-0"
                reply = await self._reader.xread({self.key: last}, block=READ_BLOCK_MS, count=500)
                delay = 0.5
            except (RedisError, OSError) as exc:
                if self._stopping:
                    return
                log.warning("event stream unavailable; retrying", error=str(exc), delay_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            for _key, entries in reply or []:
                for entry_id, fields in entries:
                    last = _text(entry_id)
                    envelope = _envelope(entry_id, fields)
                    if envelope is not None:
                        self._fanout.deliver(envelope)
