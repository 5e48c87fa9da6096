"""The never-ban list: addresses and networks no decision may touch.

fail2ban calls it ``ignoreip`` (default ``127.0.0.1/8``), CrowdSec an allowlist. It holds the
service's own addresses, health checkers and the configured CIDRs; loopback (IPv4 and IPv6)
is always on it. Lookups use :mod:`ipaddress`, so ``10.0.0.0/8`` covers ``10.1.2.3`` and an
IPv4-mapped IPv6 address matches its IPv4 network.

>>> never = NeverBanList(["10.0.0.0/8", "2001:db8::1"])
>>> [never.covers(a) for a in ("10.1.2.3", "127.0.0.1", "::1", "::ffff:10.0.0.9", "192.0.2.1")]
[True, True, True, True, False]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOOPBACK = ("127.0.0.0/8", "::1/128")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(value: str) -> Address | None:
    """``value`` as an address (IPv4-mapped IPv6 unwrapped), or ``None`` if it is not one."""
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class NeverBanList:
    """Networks that are never banned; loopback is always included."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        networks: list[Network] = []
        for entry in (*LOOPBACK, *entries):
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(
                    f"never_ban: expected an address or CIDR network, got {entry!r}"
                ) from exc
        self.networks = tuple(networks)

    def covers(self, value: str) -> bool:
        """Whether ``value`` (an address) falls in a never-ban network."""
        address = parse_address(value)
        if address is None:
            return False
        return any(address in network for network in self.networks)
