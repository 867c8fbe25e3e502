"""`Job.warnings`: the leniencies an item was imported with. They travel with staged batches (so a
batch can count them when it applies) and never with the stored job, nor in its content hash."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jobimport.models import Job, RunStatus, WarningReason
from jobimport.reader.identity import HASHED_FIELDS, content_hash_of
from jobimport.reader.normalize import Normalizer
from jobimport.reader.raw import RawElement, RawItem
from jobimport.store import codec
from jobimport.store.base import Store
from jobimport.store.mongo.docs import job_content
from jobimport.store.sqlite.queries import JOB_CONTENT_COLUMNS
from tests.store.test_contract import begin

FEED = "https://jobs.example.org/feed"


def item(*elements: tuple[str, str], position: int = 0) -> RawItem:
    return RawItem(position, tuple(RawElement(local, text=text) for local, text in elements))


def normalized(*elements: tuple[str, str]) -> Job:
    result = Normalizer(FEED)(item(*elements))
    assert isinstance(result, Job), result
    return result


def test_warning_reasons_are_the_agreed_codes() -> None:
    assert {reason.value for reason in WarningReason} >= {
        "date_unparsed",
        "encoding_replaced",
        "html_entity",
        "undeclared_prefix",
    }


def test_an_unreadable_date_is_a_warning_not_a_failure() -> None:
    job = normalized(("title", "T"), ("link", "https://jobs.example.org/1"), ("pubDate", "soon"))
    assert job.published_at is None
    assert job.warnings == (WarningReason.DATE_UNPARSED.value,)


@pytest.mark.parametrize(
    "elements",
    [
        pytest.param([("title", "T")], id="no-date"),
        pytest.param([("title", "T"), ("pubDate", " ")], id="blank-date"),
        pytest.param([("title", "T"), ("pubDate", "Mon, 23 Nov 2026 09:00:00 +0000")], id="read"),
        pytest.param([("title", "T"), ("pubDate", "soon"), ("date", "2026-11-23")], id="dc-date"),
    ],
)
def test_no_warning_without_a_leniency(elements: list[tuple[str, str]]) -> None:
    raw = RawItem(
        0,
        tuple(
            RawElement(local, ns="http://purl.org/dc/elements/1.1/", prefix="dc", text=text)
            if local == "date"
            else RawElement(local, text=text)
            for local, text in elements
        ),
    )
    result = Normalizer(FEED)(raw)
    assert isinstance(result, Job)
    assert result.warnings == ()
    if len(elements) > 1 and elements[1][1].strip():
        assert result.published_at is not None  # pubDate, or dc:date when pubDate is unreadable


class RawItemWithWarnings(RawItem):
    """What the parser's RawItem will look like once it carries `warnings` (a frozenset)."""

    __slots__ = ("warnings",)

    def __init__(self, position: int, elements: tuple[RawElement, ...], warnings: Any) -> None:
        super().__init__(position, elements)
        object.__setattr__(self, "warnings", warnings)


def test_the_raw_items_warnings_are_merged_once_each_sorted() -> None:
    elements = (RawElement("title", text="T"), RawElement("pubDate", text="soon"))
    raw = RawItemWithWarnings(0, elements, frozenset({"html_entity", "date_unparsed"}))
    result = Normalizer(FEED)(raw)
    assert isinstance(result, Job)
    assert result.warnings == ("date_unparsed", "html_entity")
    clean = RawItemWithWarnings(0, elements[:1], frozenset({"encoding_replaced"}))
    result = Normalizer(FEED)(clean)
    assert isinstance(result, Job)
    assert result.warnings == ("encoding_replaced",)


def test_warnings_are_not_content() -> None:
    job = normalized(("title", "T"), ("pubDate", "soon"))
    assert "warnings" not in HASHED_FIELDS
    assert content_hash_of(job) == content_hash_of(replace(job, warnings=()))
    assert job.content_hash == normalized(("title", "T")).content_hash  # null date either way
    assert "warnings" not in JOB_CONTENT_COLUMNS  # the SQLite jobs table
    assert "warnings" not in job_content(job)  # the MongoDB jobs collection
    assert "warnings" not in codec.job_to_dict(job)


def test_a_staged_job_keeps_its_warnings() -> None:
    job = normalized(("title", "T"), ("pubDate", "soon"))
    doc = codec.entry_to_dict(job)
    assert doc["warnings"] == ["date_unparsed"]
    back = codec.entry_from_dict(doc)
    assert isinstance(back, Job)
    assert back.warnings == ("date_unparsed",)
    assert back == job
    plain = codec.entry_to_dict(normalized(("title", "T")))
    assert "warnings" not in plain  # staged documents stay as they were without warnings
    again = codec.entry_from_dict(plain)
    assert isinstance(again, Job)
    assert again.warnings == ()


async def test_staged_batches_keep_warnings_and_jobs_do_not(store: Store) -> None:
    warned = replace(
        Job(source="example", external_id="1", title="Job 1", content_hash="1:h"),
        warnings=("date_unparsed", "html_entity"),
    )
    run = await begin(store)
    await store.stage_batch(run.id, 0, [warned])
    staged = await store.load_staged_batch(run.id, 0)
    assert staged is not None
    assert [entry.warnings for entry in staged if isinstance(entry, Job)] == [warned.warnings]

    await store.mark_run_staged(run.id, 1)
    await store.apply_batch(run.id, 0, staged)
    final = await store.get_run(run.id)
    assert final is not None
    assert final.status is RunStatus.SUCCEEDED  # a warning is never a failure
    assert (final.counts.new, final.counts.failed) == (1, 0)
    record = await store.get_job(warned.id)
    assert record is not None
    assert record.job.warnings == ()
    assert record.job == warned  # `warnings` does not take part in ==
