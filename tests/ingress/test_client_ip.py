from __future__ import annotations

from domain.signals import SourceSettings
from ingress.client_ip import (
    TRADINGVIEW_IPS,
    is_allowed,
    networks,
    resolve_client_ip,
    source_allowlist,
)

PROXIES = networks(["10.0.0.0/8", "::1"])


def test_direct_peer_is_the_client_when_not_a_proxy() -> None:
    assert resolve_client_ip("203.0.113.9", ["52.89.214.238"], PROXIES) == "203.0.113.9"
    assert resolve_client_ip("203.0.113.9", ["52.89.214.238"], ()) == "203.0.113.9"


def test_forwarded_for_is_read_from_a_trusted_proxy_right_to_left() -> None:
    assert resolve_client_ip("10.0.0.2", ["52.89.214.238"], PROXIES) == "52.89.214.238"
    spoofed = ["1.1.1.1, 52.89.214.238, 10.0.0.7"]
    assert resolve_client_ip("10.0.0.2", spoofed, PROXIES) == "52.89.214.238"
    assert resolve_client_ip("::1", ["52.89.214.238"], PROXIES) == "52.89.214.238"


def test_malformed_hop_stops_at_the_last_trusted_address() -> None:
    assert resolve_client_ip("10.0.0.2", ["not-an-ip"], PROXIES) == "10.0.0.2"
    assert resolve_client_ip("10.0.0.2", ["52.89.214.238, junk"], PROXIES) == "10.0.0.2"


def test_ports_and_mapped_addresses() -> None:
    assert resolve_client_ip("10.0.0.2", ["52.89.214.238:5555"], PROXIES) == "52.89.214.238"
    assert resolve_client_ip("::ffff:52.89.214.238", [], PROXIES) == "52.89.214.238"


def test_tradingview_preset() -> None:
    allow = source_allowlist(SourceSettings(secret="x" * 8, ip_preset="tradingview"))
    assert all(is_allowed(ip, allow) for ip in TRADINGVIEW_IPS)
    assert not is_allowed("52.89.214.239", allow)
    assert not is_allowed("testclient", allow)
    assert not is_allowed(None, allow)
    assert is_allowed("anything", source_allowlist(SourceSettings(secret="x" * 8)))


def test_allowlist_networks() -> None:
    allow = source_allowlist(
        SourceSettings(secret="x" * 8, ip_allowlist=("192.168.0.0/16", "2001:db8::/32"))
    )
    assert is_allowed("192.168.4.4", allow)
    assert is_allowed("2001:db8::1", allow)
    assert not is_allowed("10.1.1.1", allow)
