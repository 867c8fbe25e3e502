"""The alert webhook: a JSON POST to ALERT_WEBHOOK_URL for every `FeedAlert` event.

`AlertSender.publish` is a `Publish` target. It returns at once: each alert is delivered by a
background task, so a slow or dead receiver never holds up an import. Delivery retries network
errors, 5xx and 429 with exponential backoff (a longer Retry-After wins, up to a cap) and gives
up on other answers. It goes through `make_client_session`, so the webhook obeys the feeds'
address rules (no private or loopback address unless ALLOW_PRIVATE_ADDRESSES). Alerts of one feed
leave in the order they were published. Every outcome is logged, with the webhook's URL reduced
to its scheme and host: the rest often holds a secret.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
import structlog
from aiohttp import hdrs
from yarl import URL

from jobimport.errors import FeedError
from jobimport.events.types import FeedAlert, RunEvent
from jobimport.models import feed_id, utc_now
from jobimport.reader.fetch import make_client_session
from jobimport.reader.httperrors import parse_retry_after
from jobimport.reader.netguard import check_url
from jobimport.settings import Settings

log = structlog.get_logger(__name__)

RETRY_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0)
"""Pauses between the tries of one delivery: 4 tries in all by default."""
TIMEOUT_S = 10.0
"""Bound of one try, connection included."""
MAX_REPLY_BYTES = 64 * 1024
"""At most this much of a receiver's answer is read."""
MAX_RETRY_AFTER_S = 60.0
"""A receiver's Retry-After is honoured up to this long."""
RUN_PAGE = "/imports/{id}"
"""The admin page of a run (web/admin/routes.py), linked from every alert."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def redact(url: str) -> str:
    """`https://hooks.example.com/T0/B1/secret?x=1` → `https://hooks.example.com/…`."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return "<invalid url>"
    if not parsed.host:
        return "<invalid url>"
    port = "" if parsed.explicit_port is None else f":{parsed.explicit_port}"
    return f"{parsed.scheme}://{parsed.host}{port}/…"


def _describe(exc: BaseException, target: URL) -> str:
    """A network error as text, without the webhook's path or query (some errors quote the URL)."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    for secret in (str(target), target.raw_path_qs):
        if len(secret) > 1:
            text = text.replace(secret, redact(str(target)) if secret == str(target) else "/…")
    return text


def alert_body(event: FeedAlert, base_url: str, sent_at: datetime) -> dict[str, Any]:
    """The JSON document POSTed for `event`."""
    run = event.run
    feed = event.feed
    error = run.error
    return {
        "event": f"feed.{event.kind}",
        "feed": {
            "id": feed.id if feed is not None else feed_id(run.feed_url),
            "url": feed.url if feed is not None else run.feed_url,
            "name": feed.name if feed is not None else None,
        },
        "consecutiveFailures": feed.consecutive_failures if feed is not None else 0,
        "lastError": None
        if error is None
        else {"reason": error.reason, "message": error.message, "status": error.status},
        "run": {
            "id": run.id,
            "status": run.status.value,
            "finishedAt": _iso(run.finished_at),
            "url": base_url.rstrip("/") + RUN_PAGE.format(id=run.id),
        },
        "sentAt": _iso(sent_at),
    }


class AlertSender:
    """Sends `FeedAlert` events to ALERT_WEBHOOK_URL (nothing when it is unset).

    `retry_delays` are the pauses between tries (tests pass tiny ones); `session` may be shared
    (it is then not closed here); by default one is made at the first delivery with
    `make_client_session`, and closed by `aclose`.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS_S,
        timeout_s: float = TIMEOUT_S,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        secret = settings.alert_webhook_url
        self._url = None if secret is None else secret.get_secret_value()
        self._settings = settings
        self._delays = tuple(retry_delays)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = session
        self._own_session = session is None
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_of_feed: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    @property
    def enabled(self) -> bool:
        return self._url is not None

    @property
    def pending(self) -> int:
        """Deliveries under way (queued behind another alert of their feed included)."""
        return len(self._tasks)

    async def publish(self, event: RunEvent) -> None:
        """Start delivering `event` if it is a FeedAlert; ignore anything else. Never blocks,
        never raises."""
        if not isinstance(event, FeedAlert) or self._url is None:
            return
        try:
            if self._closing:
                log.warning("alert dropped; shutting down", run_id=event.run.id, kind=event.kind)
                return
            key = event.feed.id if event.feed is not None else feed_id(event.run.feed_url)
            before = self._last_of_feed.get(key)
            task = asyncio.create_task(
                self._deliver(event, self._url, before), name=f"alert-{event.run.id}"
            )
            self._tasks.add(task)
            self._last_of_feed[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        except Exception:  # a Publish target must not break the pipeline
            log.exception("alert not started", run_id=event.run.id)

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last_of_feed.get(key) is task:
            del self._last_of_feed[key]

    async def aclose(self, timeout_s: float) -> None:
        """Take no new alert; let deliveries under way finish for up to `timeout_s` seconds,
        cancel the rest; close the session made here."""
        self._closing = True
        tasks = set(self._tasks)
        if tasks and timeout_s > 0:
            await asyncio.wait(tasks, timeout=timeout_s)
        late = [task for task in tasks if not task.done()]
        for task in late:
            task.cancel()
        if late:
            log.warning("alerts cancelled at shutdown", alerts=len(late))
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, event: FeedAlert, url: str, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait({before})  # keep a feed's alerts in order
        fields = {
            "kind": event.kind,
            "run_id": event.run.id,
            "feed": event.run.feed_url,
            "webhook": redact(url),
        }
        try:
            await self._send(event, url, fields)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("alert not delivered: unexpected error", **fields)

    async def _send(self, event: FeedAlert, url: str, fields: dict[str, Any]) -> None:
        try:
            target = check_url(url, allow_private=self._settings.allow_private_addresses)
        except FeedError as exc:
            log.error("alert not delivered: webhook refused", reason=exc.info.reason, **fields)
            return
        body = alert_body(event, self._settings.base_url, self._clock())
        headers = {
            hdrs.ACCEPT: "*/*",
            "X-Jobimport-Delivery": uuid.uuid4().hex,  # the same on every try: receivers dedupe
        }
        tries = len(self._delays) + 1
        for attempt in range(1, tries + 1):
            status, retry_after, problem = await self._try(target, body, headers)
            if status is not None and 200 <= status < 300:
                log.info("alert delivered", attempt=attempt, status=status, **fields)
                return
            if problem == "refused":
                return  # logged by _try; the address rules will not change between tries
            retryable = status is None or status >= 500 or status == 429
            if not retryable:
                log.error("alert not delivered: rejected", attempt=attempt, status=status, **fields)
                return
            if attempt == tries:
                log.error(
                    "alert not delivered: giving up",
                    attempts=tries,
                    status=status,
                    error=problem,
                    **fields,
                )
                return
            delay = self._delays[attempt - 1]
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
            log.warning(
                "alert failed; will retry",
                attempt=attempt,
                status=status,
                error=problem,
                delay_s=delay,
                **fields,
            )
            await asyncio.sleep(delay)

    async def _try(
        self, target: URL, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int | None, float | None, str | None]:
        """One POST: (status, Retry-After seconds, problem). `problem` is "refused" when the
        address rules refused the webhook, a network error's text, or None."""
        session = self._get_session()
        try:
            async with session.post(
                target,
                json=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,  # a redirect is an answer, not a new place to send to
            ) as response:
                # Read a little (lets a small answer's connection be reused); a receiver's
                # big answer is not ours to hold: the connection is dropped instead.
                await response.content.read(MAX_REPLY_BYTES)
                retry_after = None
                if response.status in (429, 503):
                    retry_after = parse_retry_after(response.headers.get(hdrs.RETRY_AFTER))
                return response.status, retry_after, None
        except FeedError as exc:  # the guard refused the address (literal or resolved)
            log.error(
                "alert not delivered: webhook refused",
                reason=exc.info.reason,
                error=exc.info.message,
                webhook=redact(str(target)),
            )
            return None, None, "refused"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, None, _describe(exc, target)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = make_client_session(self._settings)
        return self._session
