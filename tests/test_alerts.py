"""The alert webhook, against a real receiver on 127.0.0.1 (the `feeds` server): body, retries with
backoff, giving up, the address rules, and never holding up the caller."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from jobimport.alerts import AlertSender, redact
from jobimport.events.types import FeedAlert, FeedFailed, RunEvent, RunFinished
from jobimport.models import FeedErrorInfo, FeedOrigin, FeedState, ImportRun, RunStatus
from jobimport.settings import Settings
from tests.feedserver import Doc, FeedServer
from tests.support import wait_until

FEED_URL = "https://feeds.example.org/jobs.xml"
SECRET = "T0KEN-secret-part"
NOW = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
TINY = (0.01, 0.01, 0.01)


HOOK = f"/hooks/{SECRET}"


def answers(*statuses: int) -> list[Doc]:
    """A webhook's answers to the i-th request (the last one repeats)."""
    return [Doc(b"", status=status, content_type="text/plain") for status in statuses]


def sent(receiver: FeedServer) -> list[tuple[Any, dict[str, str]]]:
    """The JSON body and the headers of every request the receiver got, in order."""
    return [(request.json(), request.headers) for request in receiver.received(HOOK)]


@pytest.fixture
def receiver(feeds: FeedServer) -> FeedServer:
    """The webhook receiver on 127.0.0.1: answers 204 unless a test scripts other answers."""
    feeds.script(HOOK, answers(204))
    return feeds


@pytest.fixture
def alert_settings(
    make_settings: Callable[..., Settings], receiver: FeedServer
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "alert_webhook_url": receiver.url(HOOK),
            "public_url": "https://jobs.example.org/",
        }
        values.update(overrides)
        return make_settings(**values)

    return make


def failing_alert(kind: str = "failing") -> FeedAlert:
    run = ImportRun(
        id="run-42",
        feed_url=FEED_URL,
        status=RunStatus.FAILED if kind == "failing" else RunStatus.SUCCEEDED,
        created_at=datetime(2026, 3, 1, 11, 59, tzinfo=UTC),
        finished_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        error=FeedErrorInfo(reason="http_5xx", message="answered 503", status=503)
        if kind == "failing"
        else None,
    )
    feed = FeedState(
        url=FEED_URL,
        name="Example jobs",
        consecutive_failures=3 if kind == "failing" else 0,
        origin=FeedOrigin.CONFIG,
    )
    return FeedAlert(run, kind=kind, feed=feed)  # type: ignore[arg-type]


def sender(settings: Settings, **kwargs: Any) -> AlertSender:
    kwargs.setdefault("retry_delays", TINY)
    return AlertSender(settings, clock=lambda: NOW, **kwargs)


async def drained(alerts: AlertSender, within: float = 5.0) -> None:
    async def idle() -> bool:
        return alerts.pending == 0

    await wait_until(idle, within=within, what="deliveries to end")


async def test_a_failing_alert_is_delivered_with_its_body(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    settings = alert_settings()
    alerts = sender(settings)
    with capture_logs() as logs:
        await alerts.publish(failing_alert())
        await drained(alerts)
        await alerts.aclose(1)

    assert len(sent(receiver)) == 1
    body, headers = sent(receiver)[0]
    assert body == {
        "event": "feed.failing",
        "feed": {"id": failing_alert().feed.id, "url": FEED_URL, "name": "Example jobs"},  # type: ignore[union-attr]
        "consecutiveFailures": 3,
        "lastError": {"reason": "http_5xx", "message": "answered 503", "status": 503},
        "run": {
            "id": "run-42",
            "status": "failed",
            "finishedAt": "2026-03-01T12:00:00Z",
            "url": "https://jobs.example.org/imports/run-42",
        },
        "sentAt": "2026-03-01T12:00:05Z",
    }
    assert headers["User-Agent"] == settings.user_agent
    assert headers["Content-Type"].startswith("application/json")
    delivered = [e for e in logs if e["event"] == "alert delivered"]
    assert len(delivered) == 1
    assert delivered[0]["attempt"] == 1
    assert SECRET not in json.dumps(logs, default=str)


async def test_a_recovery_alert_has_no_error(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    alerts = sender(alert_settings())
    await alerts.publish(failing_alert("recovered"))
    await drained(alerts)
    await alerts.aclose(1)
    body = sent(receiver)[0][0]
    assert (body["event"], body["lastError"], body["run"]["status"]) == (
        "feed.recovered", None, "succeeded",
    )  # fmt: skip


async def test_retries_after_two_503s_then_succeeds(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    receiver.script(HOOK, answers(503, 503, 200))
    alerts = sender(alert_settings())
    with capture_logs() as logs:
        await alerts.publish(failing_alert())
        await drained(alerts)
    await alerts.aclose(1)

    assert len(sent(receiver)) == 3
    deliveries = {headers["X-Jobimport-Delivery"] for _, headers in sent(receiver)}
    assert len(deliveries) == 1  # one alert, tried three times
    assert [e["event"] for e in logs] == [
        "alert failed; will retry", "alert failed; will retry", "alert delivered",
    ]  # fmt: skip
    assert logs[-1]["attempt"] == 3


async def test_gives_up_after_the_last_try_without_raising(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    receiver.script(HOOK, answers(500))
    alerts = sender(alert_settings())
    with capture_logs() as logs:
        await alerts.publish(failing_alert())
        await drained(alerts)
    await alerts.aclose(1)

    assert len(sent(receiver)) == 4  # the first try and three retries
    assert logs[-1]["event"] == "alert not delivered: giving up"
    assert logs[-1]["attempts"] == 4
    assert logs[-1]["log_level"] == "error"
    assert SECRET not in json.dumps(logs, default=str)


async def test_a_4xx_is_not_retried(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    receiver.script(HOOK, answers(404))
    alerts = sender(alert_settings())
    with capture_logs() as logs:
        await alerts.publish(failing_alert())
        await drained(alerts)
    await alerts.aclose(1)
    assert len(sent(receiver)) == 1
    assert logs[-1]["event"] == "alert not delivered: rejected"
    assert logs[-1]["status"] == 404


async def test_network_errors_are_retried(make_settings: Callable[..., Settings]) -> None:
    """Nothing listens on port 9 of loopback: every try fails to connect."""
    settings = make_settings(alert_webhook_url=f"http://127.0.0.1:9/hooks/{SECRET}")
    alerts = sender(settings)
    with capture_logs() as logs:
        await alerts.publish(failing_alert())
        await drained(alerts)
    await alerts.aclose(1)
    assert [e["event"] for e in logs].count("alert failed; will retry") == 3
    assert logs[-1]["event"] == "alert not delivered: giving up"
    assert "Connect" in logs[-1]["error"]
    assert SECRET not in json.dumps(logs, default=str)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_loopback_webhook_is_refused_without_private_addresses(
    alert_settings: Callable[..., Settings], receiver: FeedServer, host: str
) -> None:
    url = receiver.url(HOOK).replace("127.0.0.1", host)
    alerts = sender(alert_settings(alert_webhook_url=url, allow_private_addresses=False))
    with capture_logs() as logs:
        await alerts.publish(failing_alert())
        await drained(alerts)
    await alerts.aclose(1)
    assert sent(receiver) == []
    refused = [e for e in logs if e["event"] == "alert not delivered: webhook refused"]
    assert len(refused) == 1
    assert refused[0]["reason"] == "ssrf_refused"
    assert [e["event"] for e in logs].count("alert failed; will retry") == 0


async def test_publish_returns_before_a_slow_receiver_answers(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    gate = receiver.gate(HOOK)
    alerts = sender(alert_settings())
    try:
        started = time.monotonic()
        await asyncio.wait_for(alerts.publish(failing_alert()), 1)
        assert time.monotonic() - started < 0.5

        async def received() -> bool:
            return len(sent(receiver)) == 1

        await wait_until(received, within=5, what="the alert to arrive")
        assert alerts.pending == 1  # still waiting for the answer
        gate.set()
        await drained(alerts)
        assert len(sent(receiver)) == 1
    finally:
        gate.set()
        await alerts.aclose(1)


async def test_aclose_cancels_deliveries_still_stuck_after_the_bound(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    gate = receiver.gate(HOOK)
    alerts = sender(alert_settings())
    await alerts.publish(failing_alert())

    async def received() -> bool:
        return len(sent(receiver)) == 1

    await wait_until(received, within=5, what="the alert to arrive")
    started = time.monotonic()
    with capture_logs() as logs:
        await alerts.aclose(0.1)
    assert time.monotonic() - started < 2
    assert alerts.pending == 0
    assert any(e["event"] == "alerts cancelled at shutdown" for e in logs)
    await alerts.publish(failing_alert())  # after close: dropped, not started
    assert alerts.pending == 0
    gate.set()


async def test_other_events_are_ignored(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    alerts = sender(alert_settings())
    run = failing_alert().run
    events: list[RunEvent] = [RunFinished(run), FeedFailed(run)]
    for event in events:
        await alerts.publish(event)
    assert alerts.pending == 0
    await alerts.aclose(1)
    assert sent(receiver) == []


async def test_no_webhook_means_no_alerts(make_settings: Callable[..., Settings]) -> None:
    alerts = sender(make_settings())
    assert not alerts.enabled
    await alerts.publish(failing_alert())
    assert alerts.pending == 0
    await alerts.aclose(1)


async def test_alerts_of_one_feed_leave_in_order(
    alert_settings: Callable[..., Settings], receiver: FeedServer
) -> None:
    receiver.script(HOOK, answers(503, 200))  # the first alert needs a retry; the second must wait
    alerts = sender(alert_settings())
    await alerts.publish(failing_alert("failing"))
    await alerts.publish(failing_alert("recovered"))
    await drained(alerts)
    await alerts.aclose(1)
    assert [body["event"] for body, _ in sent(receiver)] == [
        "feed.failing", "feed.failing", "feed.recovered",
    ]  # fmt: skip


def test_redact_keeps_scheme_and_host_only() -> None:
    assert (
        redact(f"https://hooks.example.com/services/{SECRET}?k=1") == "https://hooks.example.com/…"
    )
    assert redact(f"http://user:pw@10.0.0.1:8080/{SECRET}") == "http://10.0.0.1:8080/…"
    assert redact("not a url") == "<invalid url>"
