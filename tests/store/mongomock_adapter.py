"""Test double, not MongoDB: mongomock's in-memory engine behind the async surface of PyMongo's
AsyncMongoClient that MongoStore uses, so MongoStore runs its real queries in tests.

It adds only what mongomock lacks: awaitable methods, async cursors, `bulk_write` of
`UpdateOne` (mongomock 4.3's own fails under pymongo 4.20), which, like a server, reports a
duplicate key as a `BulkWriteError` entry with code 11000, and `create_index` of an index that
already exists with the same keys and options as a no-op, as on a server (mongomock checks
uniqueness again, over every document: a partial unique index then fails on documents its
filter leaves out). Passing tests here say nothing about
a real server's behaviour under concurrency; set JOBIMPORT_TEST_MONGO_URL for that.
"""

from __future__ import annotations

import functools
import types
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import Any

import mongomock
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.results import BulkWriteResult

Doc = dict[str, Any]


@types.coroutine
def _suspend() -> Generator[None, None, None]:
    """Give the event loop a turn before each operation, as a driver waiting on the network does,
    so concurrent tasks interleave between operations (mongomock alone would run each task's
    operations back to back). Scheduling only: no time passes."""
    yield


class MongomockAsyncCursor:
    """`find()`'s cursor: chainable sort/skip/limit, then `async for` or `await to_list(None)`."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, *args: Any, **kwargs: Any) -> MongomockAsyncCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def skip(self, count: int) -> MongomockAsyncCursor:
        self._cursor = self._cursor.skip(count)
        return self

    def limit(self, count: int) -> MongomockAsyncCursor:
        self._cursor = self._cursor.limit(count)
        return self

    def __aiter__(self) -> AsyncIterator[Doc]:
        return self._iterate(iter(self._cursor))

    @staticmethod
    async def _iterate(docs: Iterator[Doc]) -> AsyncIterator[Doc]:
        await _suspend()
        for doc in docs:
            yield doc

    async def to_list(self, length: int | None = None) -> list[Doc]:
        await _suspend()
        if length is not None and length < 1:
            raise ValueError("to_list length must be None or positive")  # as PyMongo's
        docs = list(self._cursor)
        return docs if length is None else docs[:length]


class MongomockAsyncCollection:
    """One collection: the awaitable methods MongoStore calls, delegated to mongomock."""

    _DELEGATED = (
        "insert_one",
        "insert_many",
        "find_one",
        "find_one_and_update",
        "find_one_and_delete",
        "update_one",
        "update_many",
        "delete_one",
        "delete_many",
        "count_documents",
        "estimated_document_count",
    )

    def __init__(self, collection: Any) -> None:
        self.sync = collection  # the mongomock collection, for tests that need to go around

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in self._DELEGATED:
            raise AttributeError(f"the mongomock adapter does not offer {name!r}")
        method = getattr(self.sync, name)

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            await _suspend()
            return method(*args, **kwargs)

        return call

    async def create_index(self, keys: Sequence[tuple[str, int]], **options: Any) -> str:
        await _suspend()
        name = options.get("name")
        existing = self.sync.index_information().get(name) if name else None
        if existing is not None and existing["key"] == list(keys):
            same = all(
                existing.get(option) == options.get(option)
                for option in ("unique", "sparse", "partialFilterExpression")
            )
            if same:
                return str(name)
        return str(self.sync.create_index(list(keys), **options))

    def find(self, *args: Any, **kwargs: Any) -> MongomockAsyncCursor:
        return MongomockAsyncCursor(self.sync.find(*args, **kwargs))

    async def aggregate(self, pipeline: Sequence[Doc], **kwargs: Any) -> MongomockAsyncCursor:
        await _suspend()
        return MongomockAsyncCursor(self.sync.aggregate(list(pipeline), **kwargs))

    async def bulk_write(self, requests: Sequence[Any], ordered: bool = True) -> BulkWriteResult:
        """Apply each UpdateOne through mongomock's update_one and report like a server."""
        await _suspend()
        result: Doc = {
            "writeErrors": [],
            "writeConcernErrors": [],
            "nInserted": 0,
            "nUpserted": 0,
            "nMatched": 0,
            "nModified": 0,
            "nRemoved": 0,
            "upserted": [],
        }
        for index, request in enumerate(requests):
            if not isinstance(request, UpdateOne):
                raise TypeError(
                    f"the mongomock adapter bulk-writes UpdateOne only, not {request!r}"
                )
            try:
                # UpdateOne keeps its arguments in private slots; this double reads them.
                one = self.sync.update_one(request._filter, request._doc, upsert=request._upsert)
            except DuplicateKeyError as exc:
                error = {"index": index, "code": 11000, "errmsg": str(exc), "op": request._doc}
                result["writeErrors"].append(error)
                if ordered:
                    break
                continue
            if one.upserted_id is not None:
                result["nUpserted"] += 1
                result["upserted"].append({"index": index, "_id": one.upserted_id})
            else:
                result["nMatched"] += one.matched_count
                result["nModified"] += one.modified_count
        if result["writeErrors"]:
            raise BulkWriteError(result)
        return BulkWriteResult(result, acknowledged=True)


class MongomockAsyncDatabase:
    def __init__(self, database: Any) -> None:
        self.sync = database

    def __getitem__(self, name: str) -> MongomockAsyncCollection:
        return MongomockAsyncCollection(self.sync[name])

    async def command(self, command: str, **kwargs: Any) -> Doc:
        return dict(self.sync.command(command, **kwargs))


class MongomockAsyncClient:
    """`client[db][collection]` over one mongomock.MongoClient (its own in-memory server)."""

    def __init__(self) -> None:
        self.sync: Any = mongomock.MongoClient(tz_aware=True)
        self.closed = False

    def __getitem__(self, name: str) -> MongomockAsyncDatabase:
        return MongomockAsyncDatabase(self.sync[name])

    @property
    def admin(self) -> MongomockAsyncDatabase:
        return self["admin"]

    async def close(self) -> None:
        self.closed = True
        self.sync.close()
