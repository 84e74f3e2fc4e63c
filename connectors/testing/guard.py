"""A socket-level guard that records (and refuses) connections to hosts a test did not allow.

It patches ``socket.socket.connect``/``connect_ex`` and (unless ``check_names=False``)
``socket.getaddrinfo``, so it works for any client library (httpx, requests, an official vendor SDK,
a database driver), not only for :class:`connectors.http.HttpClient`. The patch is in-process only:
subprocesses (a Celery worker, Chromium) are not affected. Guards nest: an inner guard checks first,
then hands the call to the outer one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["NetworkGuard", "guard_network"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1
    return address.is_loopback


class NetworkGuard:
    """Collects every refused destination in ``violations`` (``host`` or ``host:port``)."""

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self.allowed = {h.lower() for h in allowed_hosts}
        self.violations: list[str] = []
        self.connections: list[str] = []

    def allows(self, host: str) -> bool:
        return _is_loopback(host) or host.lower() in self.allowed

    def _check_address(self, address: Any) -> None:
        if isinstance(address, (str, bytes)):  # a Unix socket path
            return
        if isinstance(address, tuple) and address:
            host = str(address[0])
            port = address[1] if len(address) > 1 else "?"
            self.connections.append(f"{host}:{port}")
            if not self.allows(host):
                self.violations.append(f"{host}:{port}")
                raise ConnectionRefusedError(f"test network guard: connection to {host} refused")

    def _check_name(self, host: Any) -> None:
        if host is None:
            return
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not self.allows(name):
            self.violations.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: {name} is not allowed")


@contextmanager
def guard_network(allowed_hosts: Iterable[str] = (), *, check_names: bool = True) -> Iterator[NetworkGuard]:
    """Within the block, only loopback, Unix sockets and ``allowed_hosts`` can be connected to, and
    (with ``check_names``) only loopback and ``allowed_hosts`` names resolved."""
    guard = NetworkGuard(allowed_hosts)
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        guard._check_address(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard._check_address(address)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard._check_name(host)
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    if check_names:
        socket.getaddrinfo = getaddrinfo
    try:
        yield guard
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
