"""Plain-dict forms of the domain types, shared by the backends (SQLite keeps them as JSON text,
MongoDB as documents). Datetimes stay datetimes here; each backend decides how to store them.

Each dict is derived from its dataclass: one key per field, under the field's name, in field
order, tuples as lists (a tuple of dataclasses as a list of their dicts), so a new field needs
no edit here. Reading back, a missing or null value takes the field's default: what was stored
before a field existed still loads.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from jobimport.models import FeedErrorInfo, FetchInfo, ItemFailure, Job, SeenItem, StagedEntry

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


def aware(value: datetime | None) -> datetime | None:
    """Backends may hand back naive UTC datetimes (MongoDB, SQLite text); make them aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def to_dict(value: DataclassInstance) -> dict[str, Any]:
    return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [to_dict(v) if is_dataclass(v) and not isinstance(v, type) else v for v in value]
    return value


def from_dict(cls: type[D], doc: dict[str, Any]) -> D:
    """The dataclass `cls` from `to_dict`'s form; keys that are not its fields are ignored."""
    values: dict[str, Any] = {}
    for name, required, kind in _fields(cls):
        value: Any = doc[name] if required else doc.get(name)
        if value is None and not required:
            continue  # the field's default
        if kind is datetime:
            value = aware(value)
        elif kind is tuple:
            value = tuple(value)
        elif kind is not None:  # a tuple of dataclasses
            value = tuple(from_dict(kind, item) for item in value)
        values[name] = value
    return cls(**values)


@functools.cache
def _fields(cls: type[DataclassInstance]) -> tuple[tuple[str, bool, type | None], ...]:
    """(name, required, how the value converts) of each field: datetime, tuple, or the
    dataclass of a tuple's items; None when it needs no converting."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        required = f.default is MISSING and f.default_factory is MISSING
        out.append((f.name, required, _kind(hints[f.name])))
    return tuple(out)


def _kind(hint: Any) -> type | None:
    if datetime in (hint, *typing.get_args(hint)):
        return datetime
    if typing.get_origin(hint) is not tuple:
        return None
    item = typing.get_args(hint)[0]
    return item if isinstance(item, type) and is_dataclass(item) else tuple


def failure_to_dict(failure: ItemFailure) -> dict[str, Any]:
    return {"kind": "failure", **to_dict(failure)}


def failure_from_dict(doc: dict[str, Any]) -> ItemFailure:
    return from_dict(ItemFailure, doc)


def job_to_dict(job: Job) -> dict[str, Any]:
    """The job as stored: every field but `warnings` and `fingerprint`, which describe one
    reading of it (its batch counts the warnings; the fingerprint is kept on the job's link to
    the feed that read it)."""
    doc = to_dict(job)
    del doc["warnings"], doc["fingerprint"]
    return doc


def entry_to_dict(entry: StagedEntry) -> dict[str, Any]:
    """A staged entry: a job keeps its `warnings` (when it has any) and its `fingerprint` here,
    for its batch to count and store."""
    if isinstance(entry, ItemFailure):
        return failure_to_dict(entry)
    if isinstance(entry, SeenItem):
        return {"kind": "seen", **to_dict(entry)}
    doc = {"kind": "job", **job_to_dict(entry)}
    if entry.warnings:
        doc["warnings"] = list(entry.warnings)
    if entry.fingerprint is not None:
        doc["fingerprint"] = entry.fingerprint
    return doc


def entry_from_dict(doc: dict[str, Any]) -> StagedEntry:
    kind = doc.get("kind")
    if kind == "job":
        return from_dict(Job, doc)
    return from_dict(SeenItem, doc) if kind == "seen" else failure_from_dict(doc)


def error_to_dict(error: FeedErrorInfo | None) -> dict[str, Any] | None:
    return None if error is None else to_dict(error)


def error_from_dict(doc: dict[str, Any] | None) -> FeedErrorInfo | None:
    return from_dict(FeedErrorInfo, doc) if doc else None


def fetch_to_dict(fetch: FetchInfo | None) -> dict[str, Any] | None:
    return None if fetch is None else to_dict(fetch)


def fetch_from_dict(doc: dict[str, Any] | None) -> FetchInfo | None:
    return from_dict(FetchInfo, doc) if doc else None
