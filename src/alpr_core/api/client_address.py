"""The address a request came from: the peer, or, behind a trusted proxy, what it forwarded.

``X-Forwarded-For`` is believed only when the peer is one of ``API_TRUSTED_PROXIES``; then the
client is the rightmost forwarded address that is not itself a trusted proxy, since everything
left of that was written by the client and may be forged.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import Request

Network = IPv4Network | IPv6Network


def trusted_networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ip_network(proxy, strict=False) for proxy in proxies)


def client_address(request: Request, trusted: Sequence[Network]) -> str | None:
    peer = request.client.host if request.client else None
    if peer is None or not _is_trusted(peer, trusted):
        return _valid(peer)
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return _valid(hop)
    return _valid(hops[0] if hops else peer)


def came_over_tls(request: Request, trusted: Sequence[Network]) -> bool:
    """Whether the client's request came over TLS: to us, or to a trusted proxy that says so in
    ``X-Forwarded-Proto`` (the front door sets it on every request it forwards)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    return (
        peer is not None
        and _is_trusted(peer, trusted)
        and request.headers.get("x-forwarded-proto", "").strip().lower() == "https"
    )


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def _valid(address: str | None) -> str | None:
    """An address PostgreSQL's ``inet`` takes, or None (test clients have names, not IPs)."""
    if address is None:
        return None
    try:
        return str(ip_address(address))
    except ValueError:
        return None
