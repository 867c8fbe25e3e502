"""PyMongo's errors translated into jobimport's, so callers never import the driver."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from bson.errors import BSONError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from jobimport.errors import StoreError, StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")

# Server error codes that say the server cannot answer now, not that the operation is wrong:
# HostUnreachable, HostNotFound, ExceededTimeLimit, MaxTimeMSExpired, NetworkTimeout,
# ShutdownInProgress, PrimarySteppedDown, SocketException, NotWritablePrimary,
# InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk,
# NotPrimaryOrSecondary.
SERVER_UNAVAILABLE_CODES = frozenset(
    {6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)


def translate_errors(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Driver errors become ours: unreachable server, or a server error that says it cannot
    answer now → StoreUnavailable (retry later; 503 in the API), anything else the driver or
    BSON refuses → StoreError."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except ConnectionFailure as exc:  # AutoReconnect, NetworkTimeout, ServerSelectionTimeout…
            raise StoreUnavailable(f"MongoDB is unavailable: {exc}") from exc
        except PyMongoError as exc:
            if isinstance(exc, OperationFailure) and exc.code in SERVER_UNAVAILABLE_CODES:
                raise StoreUnavailable(f"MongoDB cannot answer now: {exc}") from exc
            if exc.has_error_label("RetryableWriteError"):
                raise StoreUnavailable(f"MongoDB write may succeed on retry: {exc}") from exc
            raise StoreError(f"MongoDB refused the operation: {exc}") from exc
        except BSONError as exc:  # e.g. a staged batch over the 16 MiB document limit
            raise StoreError(f"MongoDB cannot store this document: {exc}") from exc

    return wrapper
