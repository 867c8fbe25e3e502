"""The wire shapes stay in step with the dataclasses they mirror, and the import log's two forms
differ only by the failed items."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from jobimport import wire
from jobimport.models import Enclosure, FeedErrorInfo, FetchInfo, ImportRun, ItemFailure
from tests.test_wire import BARE, FULL, NOT_MODIFIED

MIRRORS = {
    wire.FailureOut: ItemFailure,
    wire.FeedErrorOut: FeedErrorInfo,
    wire.HttpOut: FetchInfo,
    wire.EnclosureOut: Enclosure,
}


def test_every_mirroring_shape_is_checked() -> None:
    assert set(wire.Mirror.__subclasses__()) == set(MIRRORS)


@pytest.mark.parametrize(("shape", "dataclass"), MIRRORS.items())
def test_a_mirroring_shape_has_its_dataclass_fields_in_order(
    shape: type[BaseModel], dataclass: type
) -> None:
    assert list(shape.model_fields) == [to_camel(f.name) for f in fields(dataclass)]


@pytest.mark.parametrize("run", [FULL, BARE, NOT_MODIFIED])
def test_a_summary_is_the_log_without_its_failures(run: ImportRun) -> None:
    log = wire.ImportLog.of(run).model_dump(mode="json")
    assert len(log["failures"]) == len(run.failures)
    del log["failures"]
    assert wire.ImportSummary.of(run).model_dump(mode="json") == log
    schema = wire.ImportSummary.model_json_schema(mode="serialization")
    assert "failures" not in schema["properties"]
    assert "failures" not in schema["required"]
