"""The stored forms of the domain types are frozen: SQLite keeps them as JSON text and MongoDB as
documents, so what is written must stay what was always written, and old documents must load."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from jobimport.models import Enclosure, FeedErrorInfo, FetchInfo, ItemFailure, Job, SeenItem
from jobimport.store import codec

JOB = Job(
    source="jobicy",
    external_id="42",
    title="Ingénieur",
    content_hash="abc",
    company="ACME",
    categories=("dev", "ops"),
    description_html="<p>x</p>",
    description_text="x",
    url="https://x.test/42",
    published_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    raw={"title": "Ingénieur", "n": [1, 2]},
    position=7,
)
FAILURE = ItemFailure(reason="invalid_url", message="bad", position=3, url="x")
ERROR = FeedErrorInfo(reason="http_5xx", message="503", status=503, retry_after_s=30.0)
FETCH = FetchInfo(status=200, bytes=10, etag='"e"', duration_ms=5)


def test_staged_entries_are_written_as_always() -> None:
    expected = {
        "kind": "job",
        "source": "jobicy",
        "external_id": "42",
        "title": "Ingénieur",
        "content_hash": "abc",
        "company": "ACME",
        "location": None,
        "job_type": None,
        "categories": ["dev", "ops"],
        "summary": None,
        "description_html": "<p>x</p>",
        "description_text": "x",
        "url": "https://x.test/42",
        "logo_url": None,
        "published_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "author": None,  # schema v5
        "enclosures": [],  # schema v5
        "raw": {"title": "Ingénieur", "n": [1, 2]},
        "position": 7,
    }
    job = codec.entry_to_dict(JOB)
    assert job == expected
    assert list(job) == list(expected)  # SQLite keeps the JSON text: its key order too
    failure = codec.entry_to_dict(FAILURE)
    assert json.dumps(failure) == (
        '{"kind": "failure", "reason": "invalid_url", "message": "bad", "position": 3,'
        ' "identity": null, "url": "x", "title": null}'
    )
    assert codec.failure_to_dict(FAILURE) == failure


def test_run_parts_are_written_as_always() -> None:
    assert json.dumps(codec.error_to_dict(ERROR)) == (
        '{"reason": "http_5xx", "message": "503", "status": 503, "line": null, "column": null,'
        ' "retry_after_s": 30.0}'
    )
    assert json.dumps(codec.fetch_to_dict(FETCH)) == (
        '{"status": 200, "not_modified": false, "bytes": 10, "etag": "\\"e\\"",'
        ' "last_modified": null, "final_url": null, "content_type": null, "duration_ms": 5}'
    )
    assert codec.error_to_dict(None) is None
    assert codec.fetch_to_dict(None) is None


def test_enclosures_are_written_as_dicts_and_read_back() -> None:
    job = dataclasses.replace(
        JOB,
        author="Jane Roe",
        enclosures=(
            Enclosure("https://x.test/a.pdf", "application/pdf", 12),
            Enclosure("https://x.test/b"),
        ),
    )
    doc = codec.entry_to_dict(job)
    assert doc["author"] == "Jane Roe"
    assert json.dumps(doc["enclosures"]) == (
        '[{"url": "https://x.test/a.pdf", "type": "application/pdf", "length": 12},'
        ' {"url": "https://x.test/b", "type": null, "length": null}]'
    )
    assert (
        codec.entry_from_dict(
            json.loads(json.dumps(doc, default=str)) | {"published_at": job.published_at}
        )
        == job
    )


def test_what_is_written_reads_back() -> None:
    assert codec.entry_from_dict(codec.entry_to_dict(JOB)) == JOB
    assert codec.entry_from_dict(codec.entry_to_dict(FAILURE)) == FAILURE
    assert codec.failure_from_dict(codec.failure_to_dict(FAILURE)) == FAILURE
    assert codec.error_from_dict(codec.error_to_dict(ERROR)) == ERROR
    assert codec.fetch_from_dict(codec.fetch_to_dict(FETCH)) == FETCH


def test_sparse_and_naive_documents_load_with_defaults() -> None:
    """Older documents lack later fields or hold nulls; MongoDB hands back naive UTC dates."""
    job = codec.entry_from_dict(
        {
            "kind": "job",
            "source": "s",
            "external_id": "e",
            "title": "t",
            "content_hash": "h",
            "categories": None,
            "description_html": None,
            "raw": None,
            "position": None,
            "published_at": datetime(2026, 1, 2),
        }
    )
    assert job == Job(
        source="s",
        external_id="e",
        title="t",
        content_hash="h",
        published_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    assert codec.entry_from_dict({"reason": "lost", "message": "m"}) == ItemFailure("lost", "m")
    assert codec.error_from_dict({"reason": "r", "message": "m"}) == FeedErrorInfo("r", "m")
    assert codec.fetch_from_dict({"status": 304, "not_modified": True, "bytes": None}) == (
        FetchInfo(status=304, not_modified=True)
    )
    assert codec.error_from_dict(None) is None
    assert codec.error_from_dict({}) is None
    assert codec.fetch_from_dict(None) is None


def test_a_sighting_and_a_fingerprint_are_staged_not_stored() -> None:
    sighting = SeenItem("jobicy", "42", "fp", position=3, warnings=("date_unparsed",))
    doc = codec.entry_to_dict(sighting)
    assert json.dumps(doc) == (
        '{"kind": "seen", "source": "jobicy", "external_id": "42", "fingerprint": "fp",'
        ' "position": 3, "warnings": ["date_unparsed"]}'
    )
    assert codec.entry_from_dict(doc) == sighting
    printed = dataclasses.replace(JOB, fingerprint="fp")
    staged = codec.entry_to_dict(printed)
    assert staged["fingerprint"] == "fp"
    loaded = codec.entry_from_dict(staged)
    assert isinstance(loaded, Job)
    assert loaded.fingerprint == "fp"
    assert "fingerprint" not in codec.job_to_dict(printed)  # kept on the link, not the job
