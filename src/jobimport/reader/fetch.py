"""Download a feed: one streamed HTTP GET, redirects followed by hand, every failure a FeedError.

Contract of this module (DESIGN §3, §4):

- Only http(s); at most `MAX_REDIRECTS` redirects, each hop checked like the first (`netguard`).
- Timeouts: `fetch_connect_timeout_s` to resolve and connect, `fetch_read_timeout_s` of silence
  from the server (also while waiting for the headers), `fetch_timeout_s` for the whole download.
  The last one is an absolute deadline: time the consumer spends between two `chunks()` steps
  counts, and the next step fails with `timeout` once it has passed. Fetch never cancels the
  consumer's own work.
- The decoded body (after gzip/deflate) is capped by `max_feed_bytes` and is never read whole.
- Reasons are `models.FeedFailureReason` values; `transient` marks what a retry may fix. A
  request that cannot be sent (a feed's header value that is not an RFC 9110 field value) fails
  at once with `invalid_request`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import hdrs
from yarl import URL

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason, FetchInfo
from jobimport.reader.headers import check_feed_headers
from jobimport.reader.httperrors import blocked, network_error, status_error, total_timeout
from jobimport.reader.netguard import GuardedResolver, check_url, url_guard
from jobimport.reader.sniff import challenge_marker, charset_of, not_xml_reason
from jobimport.reader.urls import resolve_http_url
from jobimport.settings import Settings

CHUNK_SIZE = 64 * 1024
"""`chunks()` yields at least this many bytes per chunk, except the last: the XML parser is slow
on small chunks (LIBRARY-NOTES, expat)."""
MAX_REDIRECTS = 5
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json,"
    " application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)
ACCEPT_ENCODING = "gzip, deflate"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def make_client_session(
    settings: Settings, *, trace_configs: list[aiohttp.TraceConfig] | None = None
) -> aiohttp.ClientSession:
    """A session for `open_feed`. Call it inside the running loop; close it when done.

    It carries the address guard (resolver + middleware), the connect and read timeouts, the
    User-Agent and Accept headers; no cookies are kept and no proxy is read from the environment.
    `trace_configs` is for instrumentation (and tests).
    """
    allow_private = settings.allow_private_addresses
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(aiohttp.DefaultResolver(), allow_private=allow_private)
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None,  # the whole-download deadline is ours: it must include consumer time
            connect=settings.fetch_connect_timeout_s,
            sock_read=settings.fetch_read_timeout_s,
        ),
        headers={
            hdrs.USER_AGENT: settings.user_agent,
            hdrs.ACCEPT: ACCEPT,
            hdrs.ACCEPT_ENCODING: ACCEPT_ENCODING,
        },
        # Stateless fetches: a feed's cookies must not follow it to other feeds or later runs.
        cookie_jar=aiohttp.DummyCookieJar(),
        middlewares=(url_guard(allow_private=allow_private),),
        trace_configs=trace_configs,
        trust_env=False,
    )


class FeedResponse:
    """The outcome of `open_feed`: HTTP metadata, and the decoded body through `chunks()`.

    `etag`/`last_modified` are the validators to store for the next conditional GET; on a 304
    without them, the ones that were sent are kept. Valid only inside its `open_feed` block.
    """

    __slots__ = (
        "_body",
        "_first",
        "_started",
        "content_location",
        "content_type",
        "etag",
        "final_url",
        "last_modified",
        "not_modified",
        "status",
    )

    def __init__(
        self,
        *,
        status: int,
        final_url: str,
        content_type: str | None,
        not_modified: bool,
        etag: str | None,
        last_modified: str | None,
        body: _Body | None = None,
        first: bytes = b"",
        content_location: str | None = None,
    ) -> None:
        self.status = status
        self.content_location = content_location
        self.final_url = final_url
        self.content_type = content_type
        self.not_modified = not_modified
        self.etag = etag
        self.last_modified = last_modified
        self._body = body
        self._first = first
        self._started = False

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type names, for `DocumentReader(..., charset=...)`: it
        outranks the body's XML declaration (RFC 7303)."""
        return charset_of(self.content_type)

    @property
    def base_url(self) -> str:
        """What relative links in the body resolve against (below any `xml:base`): the
        response's `Content-Location` (itself resolved against the final URL) when it is an
        http(s) URL, else the final URL after redirects."""
        if self.content_location:
            located = resolve_http_url(self.content_location, self.final_url)
            if located is not None:
                return located
        return self.final_url

    @property
    def bytes_read(self) -> int:
        """Decoded body bytes read from the server so far (the peeked first chunk included)."""
        return 0 if self._body is None else self._body.bytes_read

    async def chunks(self) -> AsyncIterator[bytes]:
        """The decoded body, in chunks of at least `CHUNK_SIZE` bytes except the last; nothing on
        a 304. Raises FeedError `too_large`, `timeout` or `connect`. Iterate it once."""
        if self._started:
            raise RuntimeError("FeedResponse.chunks() can be iterated only once")
        self._started = True
        if self._body is None:
            return
        first, self._first = self._first, b""
        if first:
            yield first
        while chunk := await self._body.next_chunk():
            yield chunk

    def info(self, duration_ms: int | None = None) -> FetchInfo:
        """The download as recorded on a run; `bytes` is `bytes_read` at the time of the call."""
        return FetchInfo(
            status=self.status,
            not_modified=self.not_modified,
            bytes=self.bytes_read,
            etag=self.etag,
            last_modified=self.last_modified,
            final_url=self.final_url,
            content_type=self.content_type,
            duration_ms=duration_ms,
        )


@contextlib.asynccontextmanager
async def open_feed(
    session: aiohttp.ClientSession,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> AsyncIterator[FeedResponse]:
    """GET `url` with `session` (from `make_client_session`) and yield its FeedResponse.

    Sends If-None-Match / If-Modified-Since from the stored validators, and the feed's own
    `extra_headers` (a token, say) to the feed's origin only: a redirect elsewhere drops them.
    A 304 yields a response with `not_modified=True`. Follows up to `MAX_REDIRECTS` redirects.
    Before yielding, reads the first chunk to refuse challenge pages (`blocked`) and bodies that
    are clearly not XML (`not_a_feed`); `chunks()` replays it. Every failure raises FeedError
    (see the module doc).
    """
    deadline = asyncio.get_running_loop().time() + settings.fetch_timeout_s
    extra = _sendable(extra_headers or {})
    headers: dict[str, str] = {}
    if etag:
        headers[hdrs.IF_NONE_MATCH] = etag
    if last_modified:
        headers[hdrs.IF_MODIFIED_SINCE] = last_modified
    response = await _follow(session, url, settings, headers, deadline, extra)
    try:
        yield await _accept(response, settings, deadline, etag=etag, last_modified=last_modified)
    finally:
        # Unread bytes make aiohttp close the connection instead of pooling it.
        response.release()


def _sendable(extra_headers: Mapping[str, str]) -> dict[str, str]:
    """The feed's own headers, checked as the API checks them: a value stored before that check
    existed fails the run at once (`invalid_request`), not in the HTTP client on every try."""
    try:
        return check_feed_headers(extra_headers)
    except ValueError as exc:
        raise _invalid_request(f"the feed's headers cannot be sent: {exc}") from exc


def _invalid_request(message: str) -> FeedError:
    return FeedError(FeedErrorInfo(FeedFailureReason.INVALID_REQUEST, message))


async def _follow(
    session: aiohttp.ClientSession,
    url: str,
    settings: Settings,
    headers: Mapping[str, str],
    deadline: float,
    extra_headers: Mapping[str, str],
) -> aiohttp.ClientResponse:
    """Send the GET and follow redirects; return the first response that is not a redirect."""
    allow_private = settings.allow_private_addresses
    target = check_url(url, allow_private=allow_private)
    origin = target.origin()
    followed = 0
    while True:
        # A feed's credentials go to its own origin only, never to where it redirects.
        sent = {**extra_headers, **headers} if target.origin() == origin else headers
        response = await _send(session, target, sent, settings, deadline)
        location = response.headers.get(hdrs.LOCATION)
        if response.status not in _REDIRECTS or location is None:
            return response
        response.release()
        if followed == MAX_REDIRECTS:
            raise FeedError(
                FeedErrorInfo(
                    FeedFailureReason.TOO_MANY_REDIRECTS,
                    f"more than {MAX_REDIRECTS} redirects, the last one from {target}",
                    status=response.status,
                )
            )
        try:
            next_url = target.join(URL(location))
        except ValueError as exc:
            raise FeedError(
                FeedErrorInfo(
                    FeedFailureReason.INVALID_URL,
                    f"{target} redirects to an unusable Location {location!r}",
                    status=response.status,
                )
            ) from exc
        target = check_url(next_url, allow_private=allow_private)
        followed += 1


async def _send(
    session: aiohttp.ClientSession,
    target: URL,
    headers: Mapping[str, str],
    settings: Settings,
    deadline: float,
) -> aiohttp.ClientResponse:
    try:
        async with asyncio.timeout_at(deadline):
            return await session.get(target, headers=headers, allow_redirects=False)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise network_error(exc, target, settings) from exc
    except ValueError as exc:  # after ClientError: aiohttp's InvalidURL is a ValueError too
        # aiohttp refuses to write a request it finds unsafe (a control character in a header).
        raise _invalid_request(f"the request to {target} cannot be sent: {exc}") from exc


async def _accept(
    response: aiohttp.ClientResponse,
    settings: Settings,
    deadline: float,
    *,
    etag: str | None,
    last_modified: str | None,
) -> FeedResponse:
    """Turn the final response into a FeedResponse, or raise the FeedError its status means."""
    status = response.status
    headers = response.headers
    final_url, content_type = str(response.url), headers.get(hdrs.CONTENT_TYPE)
    if status == 304:
        return FeedResponse(
            status=status,
            final_url=final_url,
            content_type=content_type,
            not_modified=True,
            etag=headers.get(hdrs.ETAG) or etag,
            last_modified=headers.get(hdrs.LAST_MODIFIED) or last_modified,
        )
    body = _Body(response, settings, deadline)
    if 200 <= status < 300:
        body.check_declared_length()
        first = await body.next_chunk()
        if marker := challenge_marker(first, headers):
            raise blocked(status, marker, response.url)
        if why := not_xml_reason(first):
            raise FeedError(
                FeedErrorInfo(
                    FeedFailureReason.NOT_A_FEED,
                    f"{response.url} answered {status} with {why}, not a feed",
                    status=status,
                )
            )
        return FeedResponse(
            status=status,
            final_url=final_url,
            content_type=content_type,
            not_modified=False,
            etag=headers.get(hdrs.ETAG),
            last_modified=headers.get(hdrs.LAST_MODIFIED),
            body=body,
            first=first,
            content_location=headers.get(hdrs.CONTENT_LOCATION),
        )
    if status == 403:
        # A 403 is often a bot wall; its page says which. A body we cannot read is just a 403.
        head = b""
        with contextlib.suppress(FeedError):
            head = await body.next_chunk()
        if marker := challenge_marker(head, headers):
            raise blocked(status, marker, response.url)
    raise status_error(response)


class _Body:
    """Reads a response body in coalesced chunks, enforcing the size cap and the deadline."""

    __slots__ = (
        "_content",
        "_deadline",
        "_declared",
        "_identity",
        "_settings",
        "_url",
        "bytes_read",
    )

    def __init__(self, response: aiohttp.ClientResponse, settings: Settings, deadline: float):
        self._content = response.content
        self._url = response.url
        self._settings = settings
        self._deadline = deadline
        self.bytes_read = 0
        self._declared = response.content_length
        self._identity = hdrs.CONTENT_ENCODING not in response.headers

    def check_declared_length(self) -> None:
        """Fail early when an unencoded body announces more than the cap."""
        declared = self._declared
        if self._identity and declared is not None and declared > self._settings.max_feed_bytes:
            raise self._too_large(f"Content-Length is {declared}")

    async def next_chunk(self) -> bytes:
        """At least CHUNK_SIZE bytes, fewer only at the end of the body; b"" once it ended."""
        buffer = bytearray()
        while len(buffer) < CHUNK_SIZE:
            data = await self._read()
            if not data:
                break
            buffer += data
        return bytes(buffer)

    async def _read(self) -> bytes:
        loop = asyncio.get_running_loop()
        if loop.time() >= self._deadline:
            # Checked first: a buffered read would not wait, so the timeout below never fires.
            raise total_timeout(self._url, self._settings)
        try:
            async with asyncio.timeout_at(self._deadline):
                # At most CHUNK_SIZE per read, so a gzip bomb overshoots the cap by one read.
                data = await self._content.read(CHUNK_SIZE)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise network_error(exc, self._url, self._settings) from exc
        self.bytes_read += len(data)
        if self.bytes_read > self._settings.max_feed_bytes:
            raise self._too_large(f"{self.bytes_read} bytes decoded so far")
        return data

    def _too_large(self, detail: str) -> FeedError:
        return FeedError(
            FeedErrorInfo(
                FeedFailureReason.TOO_LARGE,
                f"{self._url}: body exceeds JOBIMPORT_MAX_FEED_BYTES "
                f"({self._settings.max_feed_bytes} bytes decoded): {detail}",
            )
        )
