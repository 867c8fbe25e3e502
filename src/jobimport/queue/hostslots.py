"""Per-host fetch slots: at most MAX_PER_HOST fetches run against one feed host at once.

A fetch task takes a slot for its feed's host (the URL's hostname, lowercased) before it fetches,
and gives it back when it ends. Taking one never waits: with no free slot the task is deferred
(`base.DeferTask`) and tried again shortly, so it neither holds a worker nor eats JOB_TIMEOUT_S.

Two implementations: `LocalHostSlots` counts in the process (the in-process queue); with Redis,
`RedisHostSlots` counts across every worker of the queue: one sorted set per host of lease ids
scored by when they expire, taken by a Lua script (atomic across processes). Leases expire on
their own (after JOB_TIMEOUT_S + 10 s, when a fetch task is over whatever happened), so a killed
worker cannot hold a slot for ever.
"""

from __future__ import annotations

import random
import uuid
from typing import Protocol
from urllib.parse import urlsplit

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobimport.errors import JobImportError

log = structlog.get_logger(__name__)

SLOT_WAIT_S = 1.0
"""About how long a fetch that found its host busy waits before it is tried again."""

LEASE_MARGIN_S = 10.0
"""A lease outlives the task's timeout by this much (as arq's in-progress key does)."""


class SlotsUnavailable(JobImportError):
    """The slot count could not be read (Redis unreachable): a transient error."""


def host_of(url: str) -> str:
    """The host whose slots a fetch of `url` takes: its hostname, lowercased (no port)."""
    return (urlsplit(url).hostname or "").lower()


def slot_wait_s() -> float:
    """SLOT_WAIT_S with jitter, so deferred fetches of one host do not all come back at once."""
    return SLOT_WAIT_S * (0.5 + random.random())


class HostSlots(Protocol):
    async def acquire(self, host: str) -> str | None:
        """A lease on one of `host`'s slots, or None when they are all taken. Never waits."""

    async def release(self, host: str, lease: str) -> None:
        """Give the lease back (a lease already expired or given back changes nothing)."""


class LocalHostSlots:
    """Slots counted in this process: for the in-process queue, which serves one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, set[str]] = {}

    async def acquire(self, host: str) -> str | None:
        held = self._held.setdefault(host, set())
        if len(held) >= self.limit:
            return None
        lease = uuid.uuid4().hex
        held.add(lease)
        return lease

    async def release(self, host: str, lease: str) -> None:
        held = self._held.get(host)
        if held is not None:
            held.discard(lease)
            if not held:
                del self._held[host]

    def held(self, host: str) -> int:
        return len(self._held.get(host, ()))


# KEYS[1]: the host's set; ARGV: limit, lease ttl (ms), lease id. Redis's own clock, so workers
# whose clocks disagree still agree on which leases expired.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


class RedisHostSlots:
    """Slots counted in Redis, shared by every worker of the queue `prefix` names."""

    def __init__(self, redis: Redis, prefix: str, limit: int, *, lease_ttl_s: float) -> None:
        self.limit = limit
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = max(1, int(lease_ttl_s * 1000))
        self._acquire = redis.register_script(_ACQUIRE)

    def key(self, host: str) -> str:
        return f"{self._prefix}:host-slots:{host}"

    async def acquire(self, host: str) -> str | None:
        lease = uuid.uuid4().hex
        try:
            taken = await self._acquire(
                keys=[self.key(host)], args=[self.limit, self._ttl_ms, lease]
            )
        except (RedisError, OSError) as exc:
            raise SlotsUnavailable(f"cannot take a slot for {host}: {exc}") from exc
        return lease if taken == 1 else None

    async def release(self, host: str, lease: str) -> None:
        try:
            await self._redis.zrem(self.key(host), lease)
        except (RedisError, OSError) as exc:  # the lease expires on its own
            log.warning("host slot not given back", host=host, error=str(exc))

    async def held(self, host: str) -> int:
        """Leases not yet expired (for tests and diagnostics)."""
        now_s, now_us = await self._redis.time()
        now_ms = now_s * 1000 + now_us // 1000
        return int(await self._redis.zcount(self.key(host), f"({now_ms}", "+inf"))
