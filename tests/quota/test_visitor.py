"""Visitor identity: the peer, trusted proxies read right to left, IPv6 per prefix."""

from __future__ import annotations

import ipaddress

import pytest

from portfolio_backend.quota.visitor import client_address, visitor_key

PROXY = [ipaddress.ip_network("10.0.0.0/8")]


def identify(peer: str, xff: str = "", forwarded: str = "", trusted=PROXY, prefix: int = 64) -> str:  # type: ignore[no-untyped-def]
    address = client_address(peer, {"x-forwarded-for": xff, "forwarded": forwarded}, trusted)
    return visitor_key(address, prefix)


def test_the_peer_is_the_visitor_without_proxies() -> None:
    assert identify("198.51.100.9") == "198.51.100.9"


def test_a_forged_header_from_an_untrusted_peer_changes_nothing() -> None:
    assert identify("198.51.100.9", xff="1.2.3.4") == "198.51.100.9"
    assert identify("198.51.100.9", forwarded="for=1.2.3.4") == "198.51.100.9"


def test_a_trusted_proxy_names_the_client_read_right_to_left() -> None:
    # the client prepended a forged entry; the proxy appended the real peer
    assert identify("10.0.0.5", xff="6.6.6.6, 203.0.113.50") == "203.0.113.50"


def test_chains_of_trusted_proxies_are_walked_past() -> None:
    assert identify("10.0.0.5", xff="203.0.113.50, 10.1.1.1, 10.2.2.2") == "203.0.113.50"


def test_forwarded_header_is_understood() -> None:
    assert identify("10.0.0.5", forwarded='for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"') == (
        "2001:db8:cafe::/64"
    )


def test_garbage_in_the_chain_stops_at_the_last_trusted_hop() -> None:
    assert identify("10.0.0.5", xff="203.0.113.50, not-an-ip") == "10.0.0.5"


def test_a_trusted_proxy_without_a_header_is_the_visitor() -> None:
    assert identify("10.0.0.5") == "10.0.0.5"


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_ipv6_is_counted_per_prefix_and_mapped_ipv4_as_ipv4(peer: str, key: str) -> None:
    assert identify(peer) == key


def test_the_ipv6_prefix_is_configurable() -> None:
    assert identify("2001:db8:1:2:aaaa::1", prefix=48) == "2001:db8:1::/48"
