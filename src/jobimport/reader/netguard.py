"""Where a feed may be fetched from: http(s) URLs whose every address is public.

Two checks share one address policy (`address_refusal`):

- `GuardedResolver` checks what a host name resolves to, inside the connector. aiohttp connects to
  exactly the addresses the resolver returned, so a name cannot resolve to a public address for the
  check and to a private one for the connection (DNS rebinding).
- `check_url` checks the scheme and IP-literal hosts, which never reach a resolver. `fetch` calls it
  on every redirect hop, and the session middleware from `url_guard` calls it on every request the
  session sends, so a literal is refused before any packet leaves.
"""

from __future__ import annotations

import ipaddress
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from jobimport.errors import FeedError
from jobimport.models import FeedErrorInfo, FeedFailureReason

ALLOWED_SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_REFUSED_KINDS = (
    "loopback",
    "private",
    "link_local",
    "multicast",
    "reserved",
    "unspecified",
)


def address_refusal(address: str) -> str | None:
    """Why a connection to `address` (an IP address in text form) is refused, or None when it is a
    public unicast address. IPv4 addresses embedded in IPv6 ones (mapped, 6to4, NAT64) are judged
    as the IPv4 address they lead to."""
    try:
        ip: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    for candidate in _addresses_behind(ip):
        for kind in _REFUSED_KINDS:
            if getattr(candidate, f"is_{kind}"):
                return f"{candidate} is {kind.replace('_', '-')}"
        # Catches ranges none of the flags above name, e.g. 100.64.0.0/10 (carrier-grade NAT).
        if not candidate.is_global:
            return f"{candidate} is not globally routable"
    return None


def _addresses_behind(ip: IPAddress) -> list[IPAddress]:
    """`ip` itself and any IPv4 address a packet to it would really reach."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def check_url(url: str | URL, *, allow_private: bool) -> URL:
    """Parse `url` and return it if a feed may be fetched from it.

    Raises FeedError `invalid_url` for anything but an absolute http(s) URL with a host (including
    legacy numeric IPv4 forms such as `http://2130706433/`), and `ssrf_refused` for an IP-literal
    host that `address_refusal` refuses, unless `allow_private`. Host names are left to
    `GuardedResolver`.
    """
    try:
        parsed = url if isinstance(url, URL) else URL(url)
        scheme, host = parsed.scheme, parsed.host
    except (ValueError, TypeError) as exc:
        raise _invalid(f"{url!s} is not a valid URL ({exc})") from exc
    if scheme not in ALLOWED_SCHEMES:
        raise _invalid(f"{parsed} is not an http(s) URL")
    if not host:
        raise _invalid(f"{parsed} has no host")
    if _is_ip_literal(host):
        if not allow_private and (why := address_refusal(host)):
            raise ssrf_refused(host, why)
    elif _is_legacy_ipv4(host):
        # socket would read these as addresses; aiohttp refuses them too, so refuse them clearly.
        raise _invalid(f"{host} is not a canonical IPv4 address")
    return parsed


def url_guard(*, allow_private: bool) -> aiohttp.ClientMiddlewareType:
    """A client middleware that runs `check_url` on every request, redirect hops included, before
    the connector is asked for a connection."""

    async def guard(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        check_url(request.url, allow_private=allow_private)
        return await handler(request)

    return guard


class GuardedResolver(AbstractResolver):
    """Wraps a resolver; refuses (FeedError `ssrf_refused`) a host when ANY address it resolves to
    is refused by `address_refusal`, unless `allow_private`. Resolution errors pass through, so
    aiohttp still reports them as DNS errors."""

    def __init__(self, inner: AbstractResolver, *, allow_private: bool) -> None:
        self._inner = inner
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            for result in results:
                if why := address_refusal(result["host"]):
                    raise ssrf_refused(host, why)
        return results

    async def close(self) -> None:
        await self._inner.close()


def ssrf_refused(host: str, why: str) -> FeedError:
    return FeedError(
        FeedErrorInfo(
            FeedFailureReason.SSRF_REFUSED,
            f"refusing to fetch from {host}: {why} (JOBIMPORT_ALLOW_PRIVATE_ADDRESSES is off)",
        )
    )


def _invalid(message: str) -> FeedError:
    return FeedError(FeedErrorInfo(FeedFailureReason.INVALID_URL, message))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_legacy_ipv4(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True
