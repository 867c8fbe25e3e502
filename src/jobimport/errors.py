"""Exceptions of jobimport. Each one says when it is raised; none carries I/O state."""

from __future__ import annotations

from jobimport.models import FeedErrorInfo


class JobImportError(Exception):
    """Base of every error jobimport raises on purpose."""


class SettingsError(JobImportError):
    """A setting has a bad value; the message names the environment variable."""


class FeedError(JobImportError):
    """A whole feed could not be read: the run fails (or ends partial) with `info`, recorded on
    the run as it is (`info.reason` is a stable code from `models.FeedFailureReason`).
    `transient` marks errors worth retrying (network trouble, 5xx, 429); a server's Retry-After
    is `info.retry_after_s`."""

    def __init__(self, info: FeedErrorInfo, *, transient: bool = False) -> None:
        super().__init__(f"{info.reason}: {info.message}")
        self.info = info
        self.transient = transient


class StoreError(JobImportError):
    """The store refused an operation for a reason that retrying will not fix."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or is busy; retrying later may succeed. The HTTP API answers
    503 `store_unavailable`."""


class StoreDamaged(StoreUnavailable):
    """The database is damaged: a corrupt page, or a file that is not a database. What touches
    the damage fails until the file is restored; the rest still works, so it stays a kind of
    StoreUnavailable (503, retried by tasks), but opening a store never waits on it."""


class ResourceUnavailable(JobImportError):
    """At start-up, a valid setting names something that cannot be used (a Redis that does not
    answer or refuses); the CLI prints the message as one line and exits 1."""
