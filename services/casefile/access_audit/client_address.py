"""Where a request came from. Pure.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the
connecting peer is a proxy the NGO configured as trusted, and then only as far back as the
chain of trusted proxies goes: the first hop from the right that is not one of them is the
client. From anyone else the header is ignored and the peer is the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from contracts.access_events import Client

Network = IPv4Network | IPv6Network


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> Client:
    """The client of a request from `peer` carrying these X-Forwarded-For header values; its
    address is None for a forwarded hop that is not an IP address."""
    if peer is None or not _trusted(peer, trusted):
        return Client(address=_normal(peer) if peer else None)
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return Client(address=_normal(peer))
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return Client(address=_normal(hop), proxy=_normal(peer))
    return Client(address=_normal(hops[0]), proxy=_normal(peer))  # proxies all the way


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _normal(address: str) -> str | None:
    """The address in its canonical spelling; None for anything that is not an address (it
    came from the client, and is not worth keeping, nor safe to)."""
    try:
        return str(ip_address(address))
    except ValueError:
        return None
