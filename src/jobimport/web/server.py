"""Running an app on a socket until told to stop, and the rule for which addresses are safe
without a token."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import structlog
from aiohttp import web

from jobimport.web import keys
from jobimport.web.connections import (
    ConnectionLimits,
    GuardedRunner,
    default_max_connections,
    raise_descriptor_limit,
)

log = structlog.get_logger(__name__)
SHUTDOWN_GRACE_S = 3.0
"""In-flight requests get this long at shutdown; SSE streams are stopped at once, task
processing stops after. Together well inside the 10 s an orchestrator allows."""
SSE_CLIENTS_PLANNED = 1000
"""The SSE clients a process is sized for (the benchmarks hold this many)."""


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback address (127.0.0.0/8, ::1)."""
    if host in ("", "*"):
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


@contextlib.asynccontextmanager
async def serving(
    app: web.Application, host: str, port: int, stop: asyncio.Event | None = None
) -> AsyncIterator[list[tuple[str, int]]]:
    """Serve `app` (made by create_app) on host:port with the connection limits of its settings,
    yielding the bound addresses; on exit shut down gracefully: stop accepting, stop SSE streams,
    let requests finish (SHUTDOWN_GRACE_S), close the resources. `stop` set during start-up
    cancels it (yields no address); a start-up that fails raises. Either way the resources
    opened so far are closed."""
    settings = app[keys.SETTINGS]
    soft = raise_descriptor_limit()
    limits = ConnectionLimits.from_settings(settings)
    if settings.max_connections is None and limits.max_connections <= SSE_CLIENTS_PLANNED:
        log.warning(
            "descriptor limit leaves room for few connections; raise `ulimit -n`",
            descriptor_limit=soft,
            max_connections=default_max_connections(),
        )
    runner = GuardedRunner(
        app,
        limits,
        app.get(keys.METRICS),
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_GRACE_S,
    )
    try:
        if stop is None:
            await runner.setup()
        elif not await _unless_stopped(runner.setup(), stop):
            log.info("stopped during start-up")
            yield []
            return
        site = web.TCPSite(runner, host, port)
        await site.start()
        addresses = [addr[:2] for addr in runner.addresses]
        log.info(
            "listening",
            host=host,
            port=port,
            addresses=[f"{h}:{p}" for h, p in addresses],
            max_connections=limits.max_connections,
        )
        yield addresses
        log.info("shutting down")
    finally:
        await runner.cleanup()


async def serve_until(
    app: web.Application, host: str, port: int, stop: asyncio.Event
) -> list[tuple[str, int]]:
    """Serve `app` on host:port until `stop` is set (see `serving`); no address when `stop` came
    during start-up."""
    async with serving(app, host, port, stop) as addresses:
        if addresses:
            await stop.wait()
        return addresses


async def _unless_stopped(starting: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run `starting` to its end (True), or cancel it when `stop` is set first (False)."""
    task = asyncio.ensure_future(starting)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
        # Also when we are cancelled: start-up must end before the clean-up can close it.
        await asyncio.gather(task, stopped, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()  # a start-up that failed raises here
    return True
