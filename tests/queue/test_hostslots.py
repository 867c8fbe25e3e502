"""Per-host fetch slots (queue/hostslots.py), the same contract in the process and in Redis (the
real Redis, keys under this test's queue name, deleted by its fixture): at most `limit` leases
per host, never waiting, hosts apart; in Redis also atomic across clients, and leases that
expire on their own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from jobimport.queue.hostslots import (
    HostSlots,
    LocalHostSlots,
    RedisHostSlots,
    SlotsUnavailable,
    host_of,
)
from tests.support import REDIS_URL, free_port, wait_until


def test_the_host_is_the_lowercased_hostname_without_port() -> None:
    assert host_of("https://Jobs.Example.COM:8443/feed?x=1") == "jobs.example.com"
    assert host_of("http://127.0.0.1:8080/a") == host_of("http://127.0.0.1:9090/b") == "127.0.0.1"
    assert host_of("http://[::1]:80/x") == "::1"
    assert host_of("not a url") == ""


@pytest.fixture(params=["local", "redis"])
async def slots(request: pytest.FixtureRequest, queue_name: str) -> AsyncIterator[HostSlots]:
    if request.param == "local":
        yield LocalHostSlots(2)
        return
    client: Redis = Redis.from_url(REDIS_URL)  # keys under queue_name: deleted by its fixture
    try:
        yield RedisHostSlots(client, queue_name, 2, lease_ttl_s=30)
    finally:
        await client.aclose()


async def test_at_most_limit_leases_per_host_and_hosts_are_apart(slots: HostSlots) -> None:
    first = await slots.acquire("a.example")
    second = await slots.acquire("a.example")
    assert first is not None
    assert second not in (None, first)
    assert await slots.acquire("a.example") is None  # full: no wait, just None
    other = await slots.acquire("b.example")
    assert other is not None  # another host has slots of its own

    await slots.release("a.example", first)
    third = await slots.acquire("a.example")
    assert third is not None
    assert await slots.acquire("a.example") is None

    # Giving a lease back twice frees one slot only.
    await slots.release("a.example", second)
    await slots.release("a.example", second)
    assert await slots.acquire("a.example") is not None
    assert await slots.acquire("a.example") is None


@pytest.mark.redis
async def test_redis_slots_are_shared_and_atomic_across_clients(queue_name: str) -> None:
    clients: list[Redis] = [Redis.from_url(REDIS_URL) for _ in range(4)]
    try:
        # Four "workers", each with its own connection, race 40 acquisitions of one host.
        each = [RedisHostSlots(c, queue_name, 3, lease_ttl_s=30) for c in clients]
        leases = await asyncio.gather(*(each[i % 4].acquire("h.example") for i in range(40)))
        taken = [lease for lease in leases if lease is not None]
        assert len(taken) == 3
        assert await each[0].held("h.example") == 3
        # A lease taken by one client is given back by another (a different worker process).
        await each[1].release("h.example", taken[0])
        assert await each[2].held("h.example") == 2
        assert await each[3].acquire("h.example") is not None
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.redis
async def test_a_lease_of_a_killed_worker_expires(queue_name: str) -> None:
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        dead = RedisHostSlots(client, queue_name, 1, lease_ttl_s=0.3)
        assert await dead.acquire("h.example") is not None  # never given back
        alive = RedisHostSlots(client, queue_name, 1, lease_ttl_s=30)
        assert await alive.acquire("h.example") is None

        async def free() -> str | None:
            return await alive.acquire("h.example")

        await wait_until(free, within=5, what="the dead worker's lease to expire")
        assert 0 < await client.pttl(dead.key("h.example")) <= 30_000  # the key expires too
    finally:
        await client.aclose()


async def test_an_unreachable_redis_is_a_transient_error() -> None:
    client: Redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    try:
        with pytest.raises(SlotsUnavailable):
            await RedisHostSlots(client, "q", 2, lease_ttl_s=30).acquire("h.example")
    finally:
        await client.aclose()
