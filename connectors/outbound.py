"""Which hosts a connector may send a request to: the connector's declared hosts, checked per request.

A connector declares the hosts of its vendor in ``Connector.allowed_hosts``: exact names
(``api.hubapi.com``) or a leading-wildcard pattern (``*.my.salesforce.com`` matches
``acme.my.salesforce.com``, never ``my.salesforce.com.evil.example``). The platform passes the
operator's extra allow-list (``DSR_OUTBOUND_ALLOW_HOSTS``: host names, ``host:port`` or CIDR ranges)
when it builds the connector; the SDK never reads settings itself.

:meth:`HostPolicy.check` is called by :class:`connectors.http.HttpClient` before every request and
refuses, with :class:`OutboundRefused` (a ``PermanentError``, so the job fails at once):

- a host that is neither declared by the connector nor on the operator's allow-list;
- a declared host whose name resolves to a loopback, private, link-local, multicast, reserved or
  unspecified address (a DNS record pointing ``api.vendor.com`` at ``127.0.0.1`` or the cloud
  metadata address), unless that address lies in an allowed CIDR range.

An operator entry allows the name (any port, or only ``host:port``) without the address check:
the operator named it on purpose (a local fake, an on-premises vendor proxy).
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from connectors.errors import PermanentError

__all__ = ["HostPolicy", "OutboundRefused", "parse_allow_hosts"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class OutboundRefused(PermanentError):
    """A request to a host the connector may not call was refused before a byte was sent."""


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True, slots=True)
class AllowList:
    """The operator's ``DSR_OUTBOUND_ALLOW_HOSTS``, parsed."""

    names: frozenset[str] = frozenset()  # any port
    name_ports: frozenset[tuple[str, int]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    def allows_name(self, host: str, port: int) -> bool:
        return host in self.names or (host, port) in self.name_ports

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.names or self.name_ports or self.networks)


def parse_allow_hosts(entries: str | Iterable[str]) -> AllowList:
    """Parse ``"127.0.0.1,localhost:8025,10.0.0.0/8"`` (or a list of such entries).

    An IP address is a one-address range; ``[::1]:8080`` is an IPv6 ``host:port``. Raises
    ``ValueError`` naming the entry that is not understood.
    """
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    names: set[str] = set()
    name_ports: set[tuple[str, int]] = set()
    networks: list[IPNetwork] = []
    for raw in items:
        item = raw.strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
            continue
        except ValueError:
            pass
        host, port = item, None
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else None
        elif item.count(":") == 1:
            host, port = item.split(":")
        if not host or "/" in host or " " in host:
            raise ValueError(f"DSR_OUTBOUND_ALLOW_HOSTS: cannot read entry {raw.strip()!r}")
        if port is None:
            try:
                networks.append(ipaddress.ip_network(host))
            except ValueError:
                names.add(host.rstrip("."))
            continue
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"DSR_OUTBOUND_ALLOW_HOSTS: bad port in {raw.strip()!r}")
        name_ports.add((host.rstrip("."), int(port)))
    return AllowList(frozenset(names), frozenset(name_ports), tuple(networks))


def _matches(host: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The hosts one connector instance may call.

    ``hosts``: the connector's declared patterns. ``allow``: the operator's allow-list.
    ``vendor``: named in error messages. ``resolve``: ``(host, port) -> [address, ...]``
    (``socket.getaddrinfo`` by default; tests may pass their own).
    """

    hosts: tuple[str, ...] = ()
    allow: AllowList = field(default_factory=AllowList)
    vendor: str = "connector"
    resolve: Resolver = _resolve

    def check(self, url: str, *, resolve: bool = True) -> str | None:
        """Raise :class:`OutboundRefused` unless a request to ``url`` is allowed.

        ``resolve=False`` checks the name only (no DNS), for validating a config when it is applied.

        Returns the checked address to connect to when the host name was resolved here (a declared
        host), so the caller can pin the connection to it and a second DNS answer cannot differ;
        ``None`` when the host is an IP literal, an operator-allowed name, or did not resolve.
        """
        split = urllib.parse.urlsplit(url)
        host = (split.hostname or "").lower().rstrip(".")
        try:
            port = split.port or (443 if split.scheme == "https" else 80)
        except ValueError:
            raise OutboundRefused(f"{self.vendor}: refused a request with an invalid port") from None
        if not host:
            raise OutboundRefused(f"{self.vendor}: refused a request without a host")
        if self.allow.allows_name(host, port):
            return None
        literal = _ip_literal(host)
        if literal is not None and self.allow.allows_address(literal):
            return None
        if not any(_matches(host, pattern) for pattern in self.hosts):
            declared = ", ".join(self.hosts) or "none"
            raise OutboundRefused(
                f"{self.vendor}: refused a request to {host}: not a host this connector may call "
                f"(declared: {declared}); an operator can allow it with DSR_OUTBOUND_ALLOW_HOSTS"
            )
        if literal is None and not resolve:
            return None
        addresses = [literal] if literal is not None else self._addresses(host, port)
        for address in addresses:
            if not address.is_global and not self.allow.allows_address(address):
                raise OutboundRefused(
                    f"{self.vendor}: refused a request to {host}: it resolves to a loopback or "
                    f"private address ({address}); an operator can allow it with "
                    "DSR_OUTBOUND_ALLOW_HOSTS"
                )
        return str(addresses[0]) if addresses and literal is None else None

    def _addresses(self, host: str, port: int) -> Sequence[IPAddress]:
        found = []
        for value in self.resolve(host, port):
            address = _ip_literal(value.split("%", 1)[0])
            if address is not None:
                found.append(address)
        # An unresolvable name is left to the HTTP client, which reports a transient network error.
        return found


def _ip_literal(host: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
