"""The MongoDB backend of the Store protocol (PyMongo's AsyncMongoClient). One module per concern,
named as in the SQLite backend: runs, jobs (applying batches), feeds, staging, expiry, queries
(listings and indexes), schema; docs (documents ↔ models) and errors; `store.py` binds them to
the protocol."""

from jobimport.store.mongo.docs import database_name
from jobimport.store.mongo.store import MongoStore

__all__ = ["MongoStore", "database_name"]
