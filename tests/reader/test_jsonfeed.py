"""JSON Feed 1.0 and 1.1: detected by DocumentReader from the first `{`, read whole at close(),
each item mapped to the job fields RSS and Atom give."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from jobimport.models import ItemFailure, Job, StagedEntry
from jobimport.reader import jsonfeed
from jobimport.reader.document import DocumentReader
from tests.reader.chunked import SIZES

FEED_URL = "https://example.org/feeds/jobs.json"
V1 = "https://jsonfeed.org/version/1"
V11 = "https://jsonfeed.org/version/1.1"


def read_in(body: bytes, size: int) -> tuple[list[StagedEntry], str | None]:
    reader = DocumentReader(FEED_URL)
    entries: list[StagedEntry] = []
    for start in range(0, len(body), size):
        entries += reader.feed(body[start : start + size])
    entries += reader.close()
    return entries, None if reader.error is None else reader.error.info.reason


def read_every_way(body: bytes) -> tuple[list[StagedEntry], str | None]:
    """The outcome of `body` read whole, the same as in chunks of every size in SIZES."""
    whole = read_in(body, max(len(body), 1))
    for size in SIZES:
        assert read_in(body, size) == whole, f"chunks of {size} bytes differ"
    return whole


def feed(version: str, *items: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"version": version, "title": "Jobs", **top, "items": list(items)}).encode()


FULL_ITEM = {
    "id": "job-1",
    "url": "/jobs/1",
    "external_url": "https://elsewhere.example/1",
    "title": "Rust &amp; Go engineer",
    "content_html": "<p>Build <a href='apply'>it</a></p><script>x()</script>",
    "content_text": "ignored: content_html wins",
    "summary": "Build it",
    "date_published": "2024-05-01T10:00:00+02:00",
    "date_modified": "2024-06-01T00:00:00Z",
    "tags": ["Ops", "dev", "ops"],
    "image": "/logos/acme.png",
}


@pytest.mark.parametrize("version", [V1, V11])
def test_every_mapped_field(version: str) -> None:
    body = feed(version, FULL_ITEM, home_page_url="https://example.org/careers/")
    entries, error = read_every_way(body)

    assert error is None
    [job] = entries
    assert isinstance(job, Job)
    assert (job.source, job.external_id) == ("example.org", "job-1")
    assert job.title == "Rust &amp; Go engineer"  # plain text: not decoded as HTML
    assert job.url == "https://example.org/jobs/1"
    assert job.description_html == (
        '<p>Build <a href="https://example.org/careers/apply" rel="noopener noreferrer nofollow">'
        "it</a></p>"
    )
    assert job.summary == "Build it"
    assert job.published_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert job.categories == ("dev", "Ops")
    assert job.logo_url == "https://example.org/logos/acme.png"
    assert job.raw == FULL_ITEM
    assert job.warnings == ()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        # content_text only: escaped, and the teaser is its text
        (
            {"id": "a", "url": "https://e.org/a", "title": "A", "content_text": "1 < 2 & 3"},
            {"description_html": "1 &lt; 2 &amp; 3", "summary": "1 < 2 & 3"},
        ),
        # a numeric id is its text; no url: the external_url; no date_published: date_modified
        (
            {
                "id": 42,
                "external_url": "https://e.org/42",
                "title": "N",
                "date_modified": "2024-06-01T00:00:00Z",
            },
            {
                "external_id": "42",
                "url": "https://e.org/42",
                "published_at": datetime(2024, 6, 1, tzinfo=UTC),
            },
        ),
        # a relative url resolves against home_page_url
        (
            {"id": "r", "url": "7", "title": "R"},
            {"url": "https://example.org/careers/7"},
        ),
        # tags become categories, deduplicated case-insensitively and sorted
        (
            {"id": "t", "title": "T", "tags": ["b", "A", "a", 3]},
            {"categories": ("A", "b")},
        ),
        # an unreadable date: the job imports without published_at, with a warning
        (
            {"id": "d", "title": "D", "date_published": "someday"},
            {"published_at": None, "warnings": ("date_unparsed",)},
        ),
    ],
)
def test_item_mapping(item: dict[str, Any], expected: dict[str, Any]) -> None:
    body = feed(V11, item, home_page_url="https://example.org/careers/")
    [job], error = read_every_way(body)

    assert error is None
    assert isinstance(job, Job)
    assert {key: getattr(job, key) for key in expected} == expected


def test_a_missing_title_fails_the_item_as_in_rss() -> None:
    body = feed(V1, {"id": "x", "content_html": "<p>no title</p>"}, {"id": "y", "title": "Y"})
    [failure, job], error = read_every_way(body)

    assert error is None
    assert isinstance(failure, ItemFailure)
    assert (failure.reason, failure.position) == ("missing_title", 0)
    assert isinstance(job, Job)
    assert job.position == 1


def test_a_repeated_id_is_a_duplicate_in_feed() -> None:
    body = feed(V11, {"id": 1, "title": "One"}, {"id": "1", "title": "Again"})
    [_, repeat], _ = read_every_way(body)

    assert isinstance(repeat, ItemFailure)
    assert repeat.reason == "duplicate_in_feed"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (feed(V11, {"id": "a", "title": "A"})[:-5], "malformed_json"),  # broke off
        (b'{"version": ', "malformed_json"),
        (b'{"version": "something else", "items": []}', "not_a_feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "not_a_feed"),  # no items
        (b'\xef\xbb\xbf {"jobs": []}', "not_a_feed"),
    ],
)
def test_document_errors(body: bytes, reason: str) -> None:
    assert read_every_way(body) == ([], reason)


def test_a_bom_and_whitespace_before_the_object_are_skipped() -> None:
    entries, error = read_every_way(b"\xef\xbb\xbf\r\n " + feed(V1, {"id": "a", "title": "A"}))

    assert error is None
    assert [e.title for e in entries] == ["A"]


def test_over_the_cap_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    body = feed(V11, {"id": "a", "title": "A", "content_text": "x" * 200})
    monkeypatch.setattr(jsonfeed, "MAX_JSON_FEED_BYTES", len(body) - 1)
    assert read_every_way(body) == ([], "too_large")
    monkeypatch.setattr(jsonfeed, "MAX_JSON_FEED_BYTES", len(body))
    assert read_every_way(body)[1] is None


def test_xml_still_goes_to_the_xml_parser() -> None:
    entries, error = read_every_way(
        b"\n <rss><channel><item><title>X</title></item></channel></rss>"
    )

    assert error is None
    assert [e.title for e in entries] == ["X"]


def test_an_empty_body_is_still_the_parser_s_empty_document() -> None:
    assert read_every_way(b"")[1] == read_every_way(b" \n")[1] == "malformed_xml"


def test_malformed_json_says_where() -> None:
    reader = DocumentReader(FEED_URL)
    reader.feed(b'{"version": "https://jsonfeed.org/version/1",\n  "items": [}')
    reader.close()

    assert reader.error is not None
    assert (reader.error.info.reason, reader.error.info.line, reader.error.info.column) == (
        "malformed_json",
        2,
        13,
    )


def test_bytes_that_do_not_decode_are_malformed_json() -> None:
    assert read_every_way(b'{"version": "\xff"}') == ([], "malformed_json")


def test_without_home_page_url_a_relative_url_resolves_against_the_feed_url() -> None:
    [job], _ = read_every_way(feed(V1, {"id": "a", "url": "a.html", "title": "A"}))

    assert isinstance(job, Job)
    assert job.url == "https://example.org/feeds/a.html"


def test_the_cap_is_32_mib() -> None:
    assert jsonfeed.MAX_JSON_FEED_BYTES == 32 * 1024 * 1024
