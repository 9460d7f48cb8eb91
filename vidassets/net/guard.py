"""SSRF guard: decide whether an address may be connected to.

The check runs at *connect* time on every address a name resolves to (see ``fetch.py``), so DNS
names that resolve to private ranges and redirects to them are refused just like literal IPs.
URLs whose host *is* an address (or a cloud metadata name) are also refused at submit time, by
:meth:`AddressPolicy.check_url`, so a plan that can never run is a 422, not a failed job later.
Cloud metadata endpoints are refused always, even in the development mode that allows private
addresses and even when an allowlist entry covers them: nothing a client sends should reach them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Cloud metadata endpoints that are not covered by the private/link-local checks on every platform.
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}
# Names the clouds give their metadata service (GCE resolves the first three; AWS the last two).
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata",
                            "instance-data", "instance-data.ec2.internal"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why this policy refuses ``ip`` (what ``host`` names), or None when it may be used."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip in _METADATA:
            return f"a cloud metadata address ({ip})"
        if self.allow_private or self._allowlisted(host, ip):
            return None
        if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)):
            return f"a non-public address ({ip})"
        return None

    def check_ip(self, host: str, ip_text: str) -> None:
        reason = self.refusal(host, ipaddress.ip_address(ip_text.split("%", 1)[0]))
        if reason:
            raise BlockedAddressError(f"{host} resolves to {reason}; refused")

    def check_url(self, url: str) -> None:
        """Submit-time check of a URL's host, without resolving it: a metadata name, or a literal
        address this policy refuses, raises :class:`BlockedAddressError`. Other names pass here
        and are checked on every address they resolve to when connecting (:meth:`resolve`).
        Only http(s) hosts are network addresses: an ``s3://`` host is a bucket name, fetched
        through the configured S3 endpoint."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return  # not a URL this guard can judge; the static URL checks refuse it
        if not host or parts.scheme.lower() not in ("http", "https"):
            return
        name = host.rstrip(".").lower()
        if name in METADATA_HOSTS:
            raise BlockedAddressError(f"host {host} is a cloud metadata endpoint; refused")
        ip = literal_address(name)
        reason = self.refusal(host, ip) if ip is not None else None
        if reason:
            private = "" if "metadata" in reason else " (this server does not fetch private URLs)"
            raise BlockedAddressError(f"host {host} is {reason}; refused{private}")

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve and check every address; refuse the host if any one is not allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
        # sockaddr[0] is the address string for AF_INET/AF_INET6 (typeshed also allows an int, for
        # an interpreter built without IPv6 support).
        addresses = _unique(str(info[4][0]) for info in infos)
        for address in addresses:
            self.check_ip(host, address)
        return addresses


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host spells literally, or None for a name.

    Besides dotted quads and IPv6 (with or without a zone), the forms the C resolver also reads as
    IPv4 count: ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1`` all mean 127.0.0.1, and
    an HTTP client handed them connects there without any DNS lookup.
    """
    text = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not _LEGACY_IPV4.match(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
