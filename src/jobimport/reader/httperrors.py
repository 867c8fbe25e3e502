"""How HTTP outcomes become FeedErrors: status codes, network exceptions, Retry-After.

Transient (worth a retry): timeout, dns, connect (except a bad certificate), 5xx, 408 and 429.
"""

from __future__ import annotations

import email.utils
import time
from datetime import UTC

import aiohttp
from aiohttp import hdrs
from yarl import URL

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason
from jobimport.settings import Settings

_RETRY_AFTER = frozenset({429, 503})
_TRANSIENT_4XX = frozenset({408, 429})


def blocked(status: int, marker: str, url: URL) -> FeedError:
    """A bot-challenge page instead of the feed: permanent until someone changes something."""
    return FeedError(
        FeedErrorInfo(
            FeedFailureReason.BLOCKED,
            f"{url} answered {status} with a bot-challenge page ({marker}) instead of the feed",
            status=status,
        )
    )


def status_error(response: aiohttp.ClientResponse) -> FeedError:
    """The FeedError for a final response that is neither 2xx nor 304 (nor a challenge page)."""
    status = response.status
    retry_after = None
    if status in _RETRY_AFTER:
        retry_after = parse_retry_after(response.headers.get(hdrs.RETRY_AFTER))
    message = f"{response.url} answered {status} {response.reason or ''}".rstrip()
    if status >= 500:
        reason, transient = FeedFailureReason.HTTP_5XX, True
    elif status >= 400:
        reason, transient = FeedFailureReason.HTTP_4XX, status in _TRANSIENT_4XX
    else:
        # A 1xx/3xx that is not a usable redirect (e.g. no Location): there is no feed here.
        reason, transient = FeedFailureReason.NOT_A_FEED, False
        message += " without a usable redirect"
    info = FeedErrorInfo(reason, message, status=status, retry_after_s=retry_after)
    return FeedError(info, transient=transient)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), never negative;
    None when absent or unreadable. `now` is a Unix time (default: the current time)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC per RFC 5322
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def network_error(exc: BaseException, url: URL, settings: Settings) -> FeedError:
    """The FeedError for an aiohttp/OS/timeout exception raised while connecting to or reading
    from `url`. A plain TimeoutError is the whole-download deadline (`fetch_timeout_s`)."""
    host = url.host or str(url)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return _timeout(f"connecting to {host} took over {settings.fetch_connect_timeout_s} s")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return _timeout(f"{host} sent nothing for {settings.fetch_read_timeout_s} s")
    if isinstance(exc, TimeoutError):
        return total_timeout(url, settings)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FeedError(
            FeedErrorInfo(FeedFailureReason.DNS, f"cannot resolve {host}: {exc.os_error}"),
            transient=True,
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # A bad certificate stays bad on retry.
        return FeedError(
            FeedErrorInfo(FeedFailureReason.CONNECT, f"TLS certificate of {host}: {exc}")
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return FeedError(
            FeedErrorInfo(FeedFailureReason.INVALID_URL, f"{url} is not a valid URL: {exc}")
        )
    return FeedError(
        FeedErrorInfo(
            FeedFailureReason.CONNECT, f"{host}: {type(exc).__name__}: {exc}".rstrip(": ")
        ),
        transient=True,
    )


def _timeout(message: str) -> FeedError:
    return FeedError(FeedErrorInfo(FeedFailureReason.TIMEOUT, message), transient=True)


def total_timeout(url: URL, settings: Settings) -> FeedError:
    return _timeout(f"downloading {url} took over {settings.fetch_timeout_s} s")
