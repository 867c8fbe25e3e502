"""The SQLite backend of the Store protocol: the embedded default. One module per concern, named
as in the MongoDB backend: runs, jobs (applying batches), feeds, staging, expiry, queries (rows
and filters), schema (migrations); `store.py` binds them to the protocol."""

from jobimport.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
