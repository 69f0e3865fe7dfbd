"""Who is asking: the socket peer, or the client a trusted proxy reports, as a quota key.

X-Forwarded-For and Forwarded are believed only from TRUSTED_PROXIES and are read right to left
past trusted hops: the leftmost entries are whatever the client wrote and prove nothing (field
note 4). IPv6 visitors are counted per prefix (/64 by default), since one host can hold 2^64
addresses; an IPv4-mapped IPv6 address counts as the IPv4 address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED_FOR = re.compile(r'for\s*=\s*"?\[?([^;,"\]]+)', re.IGNORECASE)


def parse_ip(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_chain(headers: dict[str, str]) -> list[str]:
    """Hop addresses, leftmost first, from X-Forwarded-For, else from Forwarded (RFC 7239)."""
    xff = headers.get("x-forwarded-for")
    if xff:
        return [item.strip() for item in xff.split(",") if item.strip()]
    forwarded = headers.get("forwarded")
    if forwarded:
        return _FORWARDED_FOR.findall(forwarded)
    return []


def client_address(peer: str | None, headers: dict[str, str], trusted: Sequence[IPNetwork]) -> IPAddress | None:
    """The visitor's address: the peer, unless the peer is a trusted proxy that says otherwise."""
    address = parse_ip(peer) if peer else None
    if address is None or not _is_trusted(address, trusted):
        return address
    for hop in reversed(forwarded_chain(headers)):
        hop_address = parse_ip(hop)
        if hop_address is None:
            return address  # garbage in the chain: the last trusted hop is all we know
        address = hop_address
        if not _is_trusted(address, trusted):
            return address
    return address


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def visitor_key(address: IPAddress | None, ipv6_prefix: int) -> str:
    """The quota key: the IPv4 address, or the IPv6 network of `ipv6_prefix` bits."""
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)
