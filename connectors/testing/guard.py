"""A socket-level guard that records (and refuses) connections to hosts a test did not allow.

It patches ``socket.socket.connect``/``connect_ex`` and ``socket.getaddrinfo``, so it works for any
client library (httpx, requests, an official vendor SDK, a database driver), not only for
:class:`connectors.http.HttpClient`.
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
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


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
def guard_network(allowed_hosts: Iterable[str] = ()) -> Iterator[NetworkGuard]:
    """Within the block, only loopback and ``allowed_hosts`` can be resolved or connected to."""
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
    socket.getaddrinfo = getaddrinfo
    try:
        yield guard
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
