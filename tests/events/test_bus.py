"""The event buses: the in-process hub and the Redis Stream bus share one contract (replay after
Last-Event-ID, no duplicates, a slow subscriber is cut off without holding anyone up)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from jobimport.events.hub import EventBus, Hub, SubscriberDropped, Subscription
from jobimport.events.redis_bus import RedisBus, parse_stream_id
from jobimport.events.types import RunFinished, RunProgress, RunQueued
from jobimport.models import ImportRun, RunStatus
from tests.support import REDIS_URL


def run(n: int) -> ImportRun:
    return ImportRun(
        id=f"{n:024x}",
        feed_url="https://example.test/feed",
        status=RunStatus.RUNNING,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


async def drain(sub: Subscription, count: int) -> list[str]:
    """The run ids of the next `count` events; fails after 5 s instead of waiting for ever."""
    out = []
    async with asyncio.timeout(5):
        for _ in range(count):
            envelope = await sub.get()
            assert envelope is not None
            out.append(envelope.data["run"]["id"])
    return out


@pytest.fixture(params=["hub", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "hub":
        hub = Hub(replay=50, queue_size=8)
        yield hub
        await hub.aclose()
        return
    key = f"jobimport-test:{uuid.uuid4().hex}:events"
    redis_bus = RedisBus(REDIS_URL, key, max_len=50, queue_size=8)
    await redis_bus.start()
    yield redis_bus
    await redis_bus.aclose()
    client: Redis = Redis.from_url(REDIS_URL)
    await client.delete(key)
    await client.aclose()


async def test_live_events_in_order_with_increasing_ids(bus: EventBus) -> None:
    sub = await bus.subscribe()
    for n in range(5):
        await bus.publish(RunProgress(run(n)))
    envelopes = []
    async with asyncio.timeout(5):
        for _ in range(5):
            envelope = await sub.get()
            assert envelope is not None
            envelopes.append(envelope)
    assert [e.data["run"]["id"] for e in envelopes] == [run(n).id for n in range(5)]
    assert [e.type for e in envelopes] == ["run.progress"] * 5
    orders = [e.order for e in envelopes]
    assert orders == sorted(orders)
    assert len(set(orders)) == 5


async def test_resume_after_an_id_replays_then_goes_live_without_duplicates(
    bus: EventBus,
) -> None:
    first = await bus.subscribe()
    await bus.publish(RunQueued(run(0)))
    await bus.publish(RunProgress(run(1)))
    await bus.publish(RunProgress(run(2)))
    seen = await first.get()
    assert seen is not None
    resumed = await bus.subscribe(seen.id)
    await bus.publish(RunFinished(run(3)))
    assert await drain(resumed, 3) == [run(n).id for n in (1, 2, 3)]
    bus.unsubscribe(resumed)
    fresh = await bus.subscribe("garbage-id")  # not an id of this bus: live only
    await bus.publish(RunFinished(run(4)))
    assert await drain(fresh, 1) == [run(4).id]


async def test_a_slow_subscriber_is_cut_off_and_the_others_get_everything(bus: EventBus) -> None:
    slow = await bus.subscribe()
    fast = await bus.subscribe()
    started = time.monotonic()
    received = []
    for n in range(20):  # more than a subscriber's queue holds (8)
        await bus.publish(RunProgress(run(n)))
        received += await drain(fast, 1)
    assert time.monotonic() - started < 5  # publishing never waited on the slow one
    assert received == [run(n).id for n in range(20)]
    with pytest.raises(SubscriberDropped):
        await drain(slow, 21)  # what it had queued, then the cut-off
    assert bus.subscriber_count == 1


async def test_close_ends_every_subscription(bus: EventBus) -> None:
    sub = await bus.subscribe()
    await bus.aclose()
    async with asyncio.timeout(5):
        assert await sub.get() is None


@pytest.mark.redis
async def test_redis_stream_is_capped_and_ids_are_stream_ids() -> None:
    key = f"jobimport-test:{uuid.uuid4().hex}:events"
    redis_bus = RedisBus(REDIS_URL, key, max_len=10)
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        for n in range(500):
            await redis_bus.publish(RunProgress(run(n)))
        length = await client.xlen(key)
        assert 10 <= length < 500  # MAXLEN ~: trimmed in whole nodes, never below the cap
        newest = (await client.xrevrange(key, count=1))[0][0].decode()
        assert parse_stream_id(newest) is not None
        resumed = await redis_bus.subscribe("0-0")
        assert await drain(resumed, 1)  # what is kept is replayed
    finally:
        await redis_bus.aclose()
        await client.delete(key)
        await client.aclose()


async def test_publishing_without_redis_drops_the_event_quickly() -> None:
    redis_bus = RedisBus("redis://127.0.0.1:1/0", "nowhere:events", publish_timeout_s=1)
    started = time.monotonic()
    await redis_bus.publish(RunFinished(run(1)))
    assert time.monotonic() - started < 3
    assert (redis_bus.published, redis_bus.dropped) == (0, 1)
    await redis_bus.aclose()


def test_parse_stream_id() -> None:
    assert parse_stream_id("1700000000000-3") == (1700000000000, 3)
    assert parse_stream_id(f"{2**64 - 1}-0") == (2**64 - 1, 0)
    # Past 64 bits Redis refuses the id (XRANGE errors): unknown here, a live-only stream.
    too_big = f"{2**64}-0"
    for bad in (None, "", "12", "a-b", "1-2-3", "-1-2", too_big, "\u0661-1", "9" * 5000):
        assert parse_stream_id(bad) is None, bad
