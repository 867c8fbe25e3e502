"""The corpus (tests/reader/corpus.py) through the whole path an import takes: a real HTTP server
on 127.0.0.1 streams each document in writes of 1, 7 and 65536 bytes with its Content-Type as
served, `open_feed` fetches it, `DocumentReader` (with the header's charset) parses and
normalizes it; jobs, failures, run warnings and the feed error must be the table's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from jobimport.errors import FeedError
from jobimport.models import ItemFailure, Job, StagedEntry, add_counts, count_warnings
from jobimport.reader.document import DocumentReader
from jobimport.reader.fetch import make_client_session, open_feed
from jobimport.settings import Settings, load_settings
from tests.reader.corpus import BY_NAME, CORPUS, FEED_PATH, Failed, Item, Shape

WRITE_SIZES = (1, 7, 65536)


async def stream(request: web.Request) -> web.StreamResponse:
    """The named corpus document, chunked, `?write=N` bytes per write (each drained)."""
    shape = BY_NAME[request.match_info["name"]]
    size = int(request.query["write"])
    response = web.StreamResponse(headers={"Content-Type": shape.content_type, **shape.headers})
    response.enable_chunked_encoding()
    await response.prepare(request)
    body = shape.body
    for start in range(0, len(body), size):
        await response.write(body[start : start + size])  # waits for the transport to drain
    await response.write_eof()
    return response


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served() -> AsyncIterator[tuple[str, aiohttp.ClientSession, Settings]]:
    """One server and one client session for the whole module: (origin, session, settings)."""
    app = web.Application()
    app.router.add_get(FEED_PATH + "{name}", stream)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # Only the fetch reads these settings; loopback is what the SSRF guard must let through.
    settings = load_settings(
        database_url="sqlite:///unused.db",
        feeds=(),
        allow_private_addresses=True,
        fetch_connect_timeout_s=2.0,
        fetch_read_timeout_s=5.0,
        fetch_timeout_s=20.0,
    )
    session = make_client_session(settings)
    try:
        yield str(server.make_url("")).rstrip("/"), session, settings
    finally:
        await session.close()
        await server.close()


async def read_over_http(
    session: aiohttp.ClientSession, settings: Settings, url: str
) -> tuple[list[StagedEntry], dict[str, int], str | None]:
    """(entries, run warnings, feed error reason) as the import pipeline would stage them."""
    entries: list[StagedEntry] = []
    error: FeedError | None = None
    warnings: dict[str, int] = {}
    try:
        async with open_feed(session, url, settings) as response:
            reader = DocumentReader(url, charset=response.charset, base_url=response.base_url)
            try:
                async for chunk in response.chunks():
                    entries += reader.feed(chunk)
            except FeedError as exc:
                error = exc
            entries += reader.close()
            error = error or reader.error
            warnings = add_counts(count_warnings(entries), reader.warnings)
    except FeedError as exc:
        error = exc
    return entries, warnings, None if error is None else error.info.reason


def actual(entry: StagedEntry, expected: Item | Failed | None) -> dict[str, Any]:
    """An entry with the fields `expected` names. Description text shows only when a snippet is
    expected, as the snippet when the text holds it (so a mismatch shows the whole text)."""
    if isinstance(entry, ItemFailure):
        title = entry.title if isinstance(expected, Failed) and expected.title else None
        return {"failed": entry.reason, "title": title}
    assert isinstance(entry, Job)
    published = entry.published_at
    fields: dict[str, Any] = {
        "title": entry.title,
        "url": entry.url,
        "id": entry.external_id,
        "published": None if published is None else published.isoformat(),
        "categories": entry.categories,
        "company": entry.company,
        "warnings": entry.warnings,
        "identity": entry.identity,
        "author": entry.author,
        "enclosures": tuple(e.url for e in entry.enclosures),
    }
    if isinstance(expected, Item) and expected.text is not None:
        text = entry.description_text
        fields["text"] = expected.text if expected.text in text else text
    return fields


def wanted(expected: Item | Failed, origin: str) -> dict[str, Any]:
    if isinstance(expected, Failed):
        return {"failed": expected.reason, "title": expected.title}
    url = None if expected.url is None else expected.url.replace("{base}", origin)
    external_id = expected.external_id
    if external_id is not None:
        external_id = external_id.replace("{base}", origin)
    fields: dict[str, Any] = {
        "title": expected.title,
        "url": url,
        "id": external_id,
        "published": expected.published,
        "categories": expected.categories,
        "company": expected.company,
        "warnings": expected.warnings,
        # The source is the feed's host: the same for every item of every corpus document.
        "identity": f"127.0.0.1:{external_id}",
        "author": expected.author,
        "enclosures": tuple(e.replace("{base}", origin) for e in expected.enclosures),
    }
    if expected.text is not None:
        fields["text"] = expected.text
    return fields


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("write", WRITE_SIZES)
@pytest.mark.parametrize("shape", CORPUS, ids=lambda shape: shape.name)
async def test_corpus_document_gives_its_table_row(
    served: tuple[str, aiohttp.ClientSession, Settings], shape: Shape, write: int
) -> None:
    origin, session, settings = served
    url = f"{origin}{FEED_PATH}{shape.name}?write={write}"
    entries, warnings, error = await read_over_http(session, settings, url)
    expected = shape.items
    got = [
        actual(entry, expected[i] if i < len(expected) else None) for i, entry in enumerate(entries)
    ]
    want = [wanted(item, origin) for item in expected]
    assert (got, warnings, error) == (want, shape.warnings, shape.error)


def test_corpus_covers_every_shape_the_issue_names() -> None:
    """Each group of the issue's list has rows, so a shape cannot silently drop out."""
    prefixes = {name.split("-")[0] for name in BY_NAME}
    assert prefixes >= {"entities", "enc", "date", "rss", "atom", "jsonfeed", "xml", "refused"}
    reasons = {shape.error for shape in CORPUS}
    assert reasons >= {
        "entities_forbidden",
        "malformed_xml",
        "not_a_feed",
        "malformed_json",
        "unsupported_format",
    }
