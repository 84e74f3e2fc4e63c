"""`make run` (``python -m dsr.demo.run``) brings the demo up and Ctrl-C brings it down at once, cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def demo(tmp_path):  # type: ignore[no-untyped-def]
    """The run script on the embedded default (SQLite, filesystem broker) in a fresh var dir."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "DSR_"))}
    env["DSR_VAR_DIR"] = str(tmp_path / "var")
    log = (tmp_path / "run.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "dsr.demo.run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while not _answers(f"{url}/") and time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "run.log").read_text()
        time.sleep(0.5)
    try:
        yield process, url, tmp_path / "run.log"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_ctrl_c_stops_the_demo_within_five_seconds_with_exit_code_0_and_no_error(demo) -> None:
    process, url, log = demo
    assert _answers(f"{url}/"), log.read_text()
    deadline = time.monotonic() + 60
    while b" ready." not in log.read_bytes() and time.monotonic() < deadline:  # the worker is up too
        time.sleep(0.2)

    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=30)
    took = time.monotonic() - started

    output = log.read_text()
    assert code == 0, output
    assert took < 5, f"stopping took {took:.1f} s:\n{output}"
    assert "Segmentation fault" not in output
    assert "Traceback" not in output
    assert output.count("Warm shutdown") <= 1
    assert output.rstrip().endswith("demo: stopped")
    assert not _answers(f"{url}/")
