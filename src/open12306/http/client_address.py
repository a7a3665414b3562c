"""Who is calling: the socket peer, or what trusted proxies say in X-Forwarded-For.

A proxy appends the address it was called from to ``X-Forwarded-For``, so the header reads
left to right from the (claimed) client to the last proxy, and anyone can write anything at
its left end. The client is therefore found from the right: start at the socket peer and,
while the address in hand is one of the configured trusted proxies, step one hop left. The
first address that is not a trusted proxy is the client. Without trusted proxies the header
is never read: a client cannot choose the address it is throttled as.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse addresses or CIDR blocks (``10.0.0.0/8``, ``::1``); ValueError for a bad one."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> Address | None:
    """An address from one hop: bare, ``v4:port`` or ``[v6]:port``; None when it is not one."""
    hop = text.strip()
    if hop.startswith("["):
        hop = hop[1:].partition("]")[0]
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        found = ipaddress.ip_address(hop)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address: ``peer`` itself unless it is a trusted proxy, else the
    right-most hop of ``forwarded_for`` (every header line, in order) that is not one. A
    hop that is not an address ends the walk at the trusted hop to its right."""
    if peer is None:
        return None
    current = _address(peer)
    if current is None or not _trusted(current, trusted):
        return peer if current is None else str(current)
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        found = _address(hop)
        if found is None:
            break
        current = found
        if not _trusted(current, trusted):
            break
    return str(current)
