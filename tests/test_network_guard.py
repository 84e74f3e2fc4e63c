"""The suite-wide socket guard (tests/support/network.py): a test may connect to loopback and Unix
sockets only; a connection anywhere else is refused and fails the test, even if the code swallows
the error. Checked by running pytest on a small test file with the plugin, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

INNER = """
import socket


def test_loopback_and_unix_sockets_are_allowed(tmp_path):
    for host in ("127.0.0.1", "127.0.0.2"):
        with socket.socket() as server:
            server.bind((host, 0))
            server.listen()
            with socket.create_connection(server.getsockname(), timeout=2):
                pass
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)


def test_a_connection_elsewhere_is_refused_and_fails_the_test_even_when_swallowed():
    try:
        socket.create_connection(("192.0.2.1", 9), timeout=0.5)  # TEST-NET-1: never a real host
    except OSError as exc:
        assert "test network guard" in str(exc)
"""


def test_the_guard_allows_loopback_and_fails_a_test_that_connects_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.network", "-p", "no:django",
         "-p", "no:cacheprovider", "-q", "-rf", "test_inner.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 failed, 1 passed" in output, output
    assert (
        "FAILED test_inner.py::test_a_connection_elsewhere_is_refused_and_fails_the_test_even_when_swallowed"
        in output
    ), output
    assert "the test connected outside loopback (refused): 192.0.2.1:9" in output, output
