"""Exceptions of jobimport. Each one says when it is raised; none carries I/O state."""

from __future__ import annotations


class JobImportError(Exception):
    """Base of every error jobimport raises on purpose."""


class SettingsError(JobImportError):
    """A setting has a bad value; the message names the environment variable."""


class FeedError(JobImportError):
    """A whole feed could not be read: the run fails (or ends partial) with `reason`.

    `reason` is a stable code from `models.FeedFailureReason`. `transient` marks errors worth
    retrying (network trouble, 5xx, 429). `retry_after_s` carries a server's Retry-After.
    """

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int | None = None,
        transient: bool = False,
        retry_after_s: float | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.status = status
        self.transient = transient
        self.retry_after_s = retry_after_s
        self.line = line
        self.column = column


class StoreError(JobImportError):
    """The store refused an operation for a reason that retrying will not fix."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or is busy; retrying later may succeed."""
