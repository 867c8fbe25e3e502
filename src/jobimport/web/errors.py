"""The one error type of the HTTP API. The error middleware turns it into the JSON envelope
`{"error": {"code", "message", "details"}}`; handlers raise it for every 4xx they answer."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer other than success, with a stable machine-readable `code`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def bad_parameter(name: str, message: str, **details: Any) -> ApiError:
    """400 naming the query parameter that is wrong."""
    return ApiError(
        400,
        "invalid_parameter",
        f"query parameter {name!r}: {message}",
        {"parameter": name, **details},
    )


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, "not_found", f"no {kind} with id {ident!r}", {"id": ident})


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="jobimport"'}
    )


def queue_unavailable(message: str) -> ApiError:
    """503 from an endpoint that needs Redis, when Redis fails or does not answer within
    REDIS_TIMEOUT_S; worth retrying a little later."""
    return ApiError(503, "queue_unavailable", message, headers={"Retry-After": "5"})
