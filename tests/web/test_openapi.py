"""The OpenAPI document: it covers the route table, and schemathesis, generating requests from it
against a live server on loopback (real SQLite, feeds imported from the bundled samples), finds
no server error and no response that breaks the document; bodies also leave slowly, in small
pieces, and chunked."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from jobimport.settings import load_settings
from jobimport.web.api.routes import ROUTES
from jobimport.web.app import create_app
from jobimport.web.demo import SAMPLES, samples_app
from jobimport.web.openapi import build_openapi
from tests.support import examples
from tests.web.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
# What of schemathesis' transport arguments makes a requests.Request (the rest is send options).
REQUEST_ARGS = {"method", "url", "headers", "params", "data", "json", "cookies", "auth", "files"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_document_covers_every_route_once() -> None:
    document = build_openapi(ROUTES)
    operations = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    assert operations == {(r.method, r.path) for r in ROUTES}
    assert len({op["operationId"] for ops in document["paths"].values() for op in ops.values()})
    for ops in document["paths"].values():
        for op in ops.values():
            assert "400" in op["responses"]


class LiveServer:
    """The app on 127.0.0.1 in a thread of its own (schemathesis calls it synchronously), with
    the demo's sample feeds served beside it as the configured feeds."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.base_url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(20):
            raise AssertionError("live server did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced to the test through __enter__
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        feeds = web.AppRunner(samples_app())
        await feeds.setup()
        await web.TCPSite(feeds, "127.0.0.1", 0).start()
        feed_port = feeds.addresses[0][1]
        settings_ = load_settings(
            database_url=f"sqlite:///{self.db}",
            feeds=tuple(f"http://127.0.0.1:{feed_port}{s.path}" for s in SAMPLES),
            allow_private_addresses=True,
            admin_token=TOKEN,
            batch_size=25,
        )
        runner = web.AppRunner(create_app(settings_, "all"), shutdown_timeout=2)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await feeds.cleanup()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("live") / "api.db") as server:
        deadline = time.monotonic() + 30
        while True:  # wait until the start-up imports are done, so listings hold real data
            page = requests.get(f"{server.base_url}/api/imports?limit=100", timeout=5).json()
            busy = [r for r in page["items"] if r["status"] in ("queued", "running")]
            if page["total"] >= len(SAMPLES) and not busy:
                break
            assert time.monotonic() < deadline, page
            time.sleep(0.1)
        yield server


@pytest.mark.slow  # a fuzzer: hundreds of generated requests over a live server
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_conforms_to_its_document(live: LiveServer, mode: str) -> None:
    """Every operation, a bounded number of generated requests each (valid ones, then invalid
    ones): no 5xx, every status and body as documented. Driven through schemathesis' Python
    API with hypothesis directly (its pytest plugin does not run under pytest 9)."""
    schema = schemathesis.openapi.from_url(f"{live.base_url}/api/openapi.json")
    # An event stream never ends; /api/events is tested by tests/web/test_events_sse.py.
    schema = schema.exclude(path="/api/events")
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    tested = []
    calls: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(operation.label)
        definition = operation.definition.raw
        if mode == "negative" and not (definition["parameters"] or "requestBody" in definition):
            continue  # nothing to get wrong

        @given(case=operation.as_strategy(generation_mode=generation))
        @settings(
            max_examples=max(4, examples(8)),  # 4 under `make test-fast`
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure here reproduces
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            response = case.call_and_validate(
                base_url=live.base_url,
                headers=AUTH,
                checks=CHECKS,
                allow_redirects=False,
                timeout=10,
            )
            calls[response.status_code] += 1

        try:
            conforms()
        except Unsatisfiable:
            # e.g. a string path parameter: no value is invalid for it. Positive mode ran it.
            assert mode == "negative", operation.label
    # schemathesis leaves out the document's own URL; /api/events is excluded above.
    expected = {f"{r.method} {r.path}" for r in ROUTES if r.name not in ("events", "openapi")}
    assert set(tested) == expected
    assert sum(calls.values()) >= 2 * len(expected), calls
    if mode == "negative":
        assert calls[400] > 0, calls


class SlowBody:
    """A body that leaves in small pieces with a turn of the other threads between them, under
    its full Content-Length (requests sends an iterable with a length as it is, not chunked)."""

    PIECE = 7

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __len__(self) -> int:
        return len(self.body)

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), self.PIECE):
            time.sleep(0)  # let the server's thread take what came so far
            yield self.body[start : start + self.PIECE]


def chunked(body: bytes) -> Iterator[bytes]:
    """The body as chunked transfer-encoding (a generator has no length): one chunk per piece."""
    for start in range(0, len(body), SlowBody.PIECE):
        time.sleep(0)
        yield body[start : start + SlowBody.PIECE]


@pytest.mark.slow  # a fuzzer, like the test above
@pytest.mark.parametrize("way", ["slowly", "chunked"])
def test_bodies_sent_in_pieces_conform(live: LiveServer, way: str) -> None:
    """Every operation with a body, valid generated bodies sent a second way: in small pieces
    under Content-Length, or chunked. The server reads them whole: never `invalid_json` for
    what is JSON, and every answer as documented, as when the body leaves in one piece."""
    schema = schemathesis.openapi.from_url(f"{live.base_url}/api/openapi.json")
    session = requests.Session()
    tested = []
    calls: Counter[int] = Counter()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if "requestBody" not in operation.definition.raw:
            continue
        tested.append(operation.label)

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(
            max_examples=max(3, examples(5)),
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=live.base_url, headers=AUTH)
            request = requests.Request(
                **{k: v for k, v in kwargs.items() if k in REQUEST_ARGS}
            ).prepare()
            body = request.body or b""
            body = body.encode() if isinstance(body, str) else body
            if way == "slowly":
                request.body = SlowBody(body)
            else:
                request.body = chunked(body)
                del request.headers["Content-Length"]
            response = session.send(request, allow_redirects=False, timeout=10)
            if body.strip() and response.status_code == 400:
                assert response.json()["error"]["code"] != "invalid_json", (body, response.text)
            case.validate_response(response, checks=CHECKS)
            calls[response.status_code] += 1

        conforms()
    expected = {f"{r.method} {r.path}" for r in ROUTES if r.body is not None}
    assert set(tested) == expected
    assert sum(calls.values()) >= len(expected), calls
    assert time.monotonic() - started < 120  # bounded: a few examples each, no waits
