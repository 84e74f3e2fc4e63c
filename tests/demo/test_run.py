"""`make run` (``python -m dsr.demo.run``) brings the demo up and Ctrl-C brings it down at once, cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TARGET = "jane.doe@example.com"


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


def _post(url: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - our own loopback URL
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own loopback URL
        return json.loads(response.read())


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own loopback URL
        return response.read().decode()


def _wait_for(pattern: str, log: Path, timeout: float = 60) -> re.Match[str]:
    return wait_until(
        lambda: re.search(pattern, log.read_text(errors="replace")),
        timeout=timeout,
        interval=0.5,
        what=lambda: f"{pattern!r} in the demo's output:\n{log.read_text()[-4000:]}",
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The run script on the embedded default (SQLite, filesystem broker) in a fresh var dir, once for
    this module: the fan-out test uses it first, the Ctrl-C test stops it last."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "DSR_"))}
    env["DSR_VAR_DIR"] = str(tmp_path / "var")
    env["DSR_AUTO_APPROVE"] = "erasure"  # no staff sign-in needed to watch the fan-out
    log = (tmp_path / "run.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "dsr.demo.run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, (tmp_path / "run.log").read_text()
        return _answers(f"{url}/")

    try:
        wait_until(up, timeout=180, interval=0.5, what=lambda: (tmp_path / "run.log").read_text()[-4000:])
        yield process, url, tmp_path / "run.log"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_the_demo_fans_an_erasure_out_to_four_systems_one_of_them_asynchronous(demo) -> None:
    _process, url, log = demo
    created = _post(f"{url}/api/v1/requests", {"type": "erasure", "email": TARGET, "jurisdiction": "DE"})
    reference = str(created["reference"])
    code = _wait_for(rf"(?s)enter this code:\s+(\d{{6}})\s.*?Reference: {reference}", log).group(1)
    _post(f"{url}/api/v1/requests/{created['id']}/verify", {"code": code})
    status_url = _wait_for(rf"(http://127\.0\.0\.1:\d+/status/{reference}/[^/\s]+/)", log).group(1)

    last = ""

    def all_four_done() -> str | None:
        nonlocal last
        last = _get(status_url)
        return last if "Progress in each system" in last and last.count("timeline-done") >= 4 else None

    page = wait_until(all_four_done, timeout=120, interval=2, what=lambda: last)
    for name in (
        "Demo warehouse (customers, orders, invoices)",
        "HubSpot CRM (local fake)",
        "Mailchimp newsletter (local fake)",
        "Klaviyo marketing (local fake, deletes asynchronously)",
    ):
        assert f"<strong>{name}</strong>" in page

    # Klaviyo answered with a deletion job that was polled to completion, not a synchronous delete.
    database = sqlite3.connect(log.parent / "var" / "dsr.sqlite3")
    with contextlib.closing(database):
        ((handle, status),) = database.execute(
            "SELECT j.external_handle, j.status FROM workflow_connectorjob j"
            " JOIN systems_system s ON s.id = j.system_id WHERE s.key = 'klaviyo'"
        ).fetchall()
    assert status == "succeeded"
    assert json.loads(handle)["id"].startswith("klaviyo-deletion-")


def test_ctrl_c_stops_the_demo_within_five_seconds_with_exit_code_0_and_no_error(demo) -> None:
    process, url, log = demo
    assert _answers(f"{url}/"), log.read_text()
    wait_until(  # the worker is up too
        lambda: b" ready." in log.read_bytes(), timeout=60, interval=0.2, what=lambda: log.read_text()[-4000:]
    )

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
