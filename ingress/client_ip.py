"""Who is really calling: the direct peer, or X-Forwarded-For when the peer is our own proxy.

X-Forwarded-For is trivially forged, so it is read only when the direct peer is a configured
trusted proxy, and then from the right (the hop our proxy appended) leftwards, skipping further
trusted proxies. A malformed hop stops the walk at the last address we could trust.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from domain.signals import SourceSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

TRADINGVIEW_IPS: tuple[str, ...] = (
    "52.89.214.238",
    "34.212.75.30",
    "54.218.53.128",
    "52.32.178.7",
)
PRESETS: dict[str, tuple[str, ...]] = {"tradingview": TRADINGVIEW_IPS}


@lru_cache(maxsize=4096)
def parse_address(text: str | None) -> Address | None:
    """The address in ``text`` (IPv4-mapped IPv6 as IPv4; a port is dropped), None if none.
    Cached: a webhook sender calls from the same few addresses, and parsing costs more than
    the rest of the client check."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def source_allowlist(settings: SourceSettings) -> tuple[Network, ...]:
    """The source's allowed networks (preset plus its own list); empty means anyone."""
    preset = PRESETS[settings.ip_preset] if settings.ip_preset else ()
    return networks((*preset, *settings.ip_allowlist))


def _within(address: Address, nets: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def resolve_client_ip(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address as text (the raw peer string if it is not an IP address)."""
    current = parse_address(peer)
    if current is None:
        return peer
    if not trusted or not _within(current, trusted):
        return _text(current)
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not _within(address, trusted):
            break
    return _text(current)


@lru_cache(maxsize=4096)
def _text(address: Address) -> str:
    return str(address)


def is_allowed(client_ip: str | None, allowlist: Sequence[Network]) -> bool:
    if not allowlist:
        return True
    address = parse_address(client_ip)
    return address is not None and _within(address, allowlist)
