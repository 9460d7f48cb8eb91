"""SSRF guard: decide whether an address may be connected to.

The check runs at *connect* time on every address a name resolves to (see ``fetch.py``), so DNS
names that resolve to private ranges and redirects to them are refused just like literal IPs.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Iterable

# Cloud metadata endpoints that are not covered by the private/link-local checks on every platform.
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}


class BlockedAddressError(ConnectionError):
    code = "url_blocked"


@dataclass(frozen=True)
class AddressPolicy:
    """``allow_private`` is the embedded default's development mode; ``allowlist`` holds CIDRs or hosts."""

    allow_private: bool = False
    allowlist: tuple[str, ...] = field(default_factory=tuple)

    def _allowlisted(self, host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        for entry in self.allowlist:
            if entry == host:
                return True
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def check_ip(self, host: str, ip_text: str) -> None:
        ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if self._allowlisted(host, ip):
            return
        if ip in _METADATA:
            raise BlockedAddressError(f"{host} resolves to a metadata address ({ip}); refused")
        if self.allow_private:
            return
        if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)):
            raise BlockedAddressError(f"{host} resolves to a non-public address ({ip}); refused")

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve and check every address; refuse the host if any one is not allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
        addresses = _unique(info[4][0] for info in infos)
        for address in addresses:
            self.check_ip(host, address)
        return addresses


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
