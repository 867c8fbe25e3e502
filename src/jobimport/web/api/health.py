"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers and
passed its last integrity check, Redis and a worker answer). Readiness is 503 with every check's
outcome when one fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from aiohttp import web
from redis.exceptions import RedisError

from jobimport.errors import JobImportError
from jobimport.queue.names import health_check_key
from jobimport.web import keys
from jobimport.web.api.params import parse_query
from jobimport.web.api.schemas import Check, Health, NoQuery, Readiness
from jobimport.web.respond import json_model

CHECK_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    return json_model(Health(status="ok"))


async def _check(probe: Awaitable[object], what: str, timeout_s: float = CHECK_TIMEOUT_S) -> Check:
    try:
        async with asyncio.timeout(timeout_s):
            ok = await probe
    except TimeoutError:
        return Check(ok=False, detail=f"{what} did not answer within {timeout_s:g} s")
    except (JobImportError, RedisError, OSError) as exc:
        return Check(ok=False, detail=f"{what}: {exc}")
    return Check(ok=bool(ok), detail=None if ok else f"{what} is not available")


async def _store_ok(request: web.Request) -> bool:
    await request.app[keys.STORE].schema_version()
    return True


async def readyz(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    app = request.app
    role = app[keys.ROLE]
    queue = app[keys.QUEUE]
    checks = {"store": await _check(_store_ok(request), "the store")}
    health = app[keys.STORE_HEALTH]
    if health.problem is not None and checks["store"].ok:
        # It answers, but a damaged page fails whatever touches it: not ready.
        at = health.checked_at.isoformat() if health.checked_at else "start-up"
        detail = f"the store failed its integrity check (quick_check) at {at}: {health.problem}"
        checks["store"] = Check(ok=False, detail=detail)
    if queue.pool is not None:
        checks["redis"] = await _check(queue.pool.ping(), "Redis (the queue)", queue.timeout_s)
    processing = app[keys.PROCESSING]
    if processing.runs_tasks:
        healthy = processing.healthy()
        checks["worker"] = Check(
            ok=healthy, detail=None if healthy else "the embedded worker is not running"
        )
    elif queue.pool is not None:  # a web replica: some worker must be alive on this queue
        alive = queue.pool.exists(health_check_key(queue.queue_name))
        checks["worker"] = await _check(
            alive, "a worker on this queue (arq health key)", queue.timeout_s
        )
    ready = all(check.ok for check in checks.values())
    body = Readiness(status="ok" if ready else "unavailable", role=role, checks=checks)
    return json_model(body, status=200 if ready else 503)
