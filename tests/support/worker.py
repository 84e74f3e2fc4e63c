"""A real Celery worker in a subprocess, on the test database and a real Redis broker.

The reliability tests also kill it (:meth:`Worker.kill`, any signal, its pool processes included),
start it again (:meth:`Worker.restart`), and run a private Redis server (:class:`RedisServer`) they
can restart without disturbing other tests; :func:`use_broker` points this process's Celery app at it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(
        self, *, env: dict[str, str], log_path: Path, concurrency: int = 2, beat: bool = False
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.beat = beat
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        args = [
            sys.executable, "-m", "celery", "-A", "dsr", "worker",
            "--loglevel=INFO", f"--concurrency={self.concurrency}", "--pool=prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "dsr",
        ]  # fmt: skip
        if self.beat:
            args += ["--beat", f"--schedule={self.log_path.parent / 'beat-schedule'}"]
        self._log = self.log_path.open("ab")
        self._ready_offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with {process.returncode}:\n{self.log()}")
            return b" ready." in self.log_path.read_bytes()[self._ready_offset :]

        wait_until(
            ready,
            timeout=timeout,
            interval=0.2,
            what=lambda: f"worker ready:\n{self.log()}",
            error=RuntimeError,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the worker is not running")
        return self.process.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the worker and its pool processes (one process group) and, for SIGKILL,
        wait until they are gone: no shutdown, no acknowledgement, exactly like a lost machine."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        if sig == signal.SIGKILL:
            self.process.wait(timeout=20)
            _wait_group_gone(self.process.pid)
            self._log.close()
            self.process = None

    def restart(self, timeout: float = 60.0) -> None:
        """Kill the worker if it still runs (SIGKILL) and start a new one with the same settings."""
        self.kill(signal.SIGKILL)
        self.start(timeout=timeout)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log.close()
        self.process = None


def flush_redis(url: str) -> None:
    """Empty the broker's Redis database; fails loudly when Redis is not running."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    client.ping()
    client.flushdb()


def _wait_group_gone(pgid: int, timeout: float = 10.0) -> None:
    def gone() -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        return False

    # Best effort, as before the helper existed: a straggler of a SIGKILLed group is not an error.
    with contextlib.suppress(AssertionError):
        wait_until(gone, timeout=timeout, interval=0.05, what=f"process group {pgid} gone")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A private, memory-only ``redis-server`` on a free loopback port, restartable at will.

    A restart loses every queued message (no persistence), as a crashed or failed-over Redis
    without AOF does.
    """

    def __init__(self, *, log_path: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (the reliability tests need it)")
        self.binary = binary
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers() -> bool:
            with contextlib.suppress(redis.ConnectionError):
                return bool(client.ping())
            return False

        wait_until(
            answers, timeout=timeout, interval=0.05, what=f"redis-server on port {self.port} started",
            error=RuntimeError,
        )  # fmt: skip
        client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()  # SIGKILL: nothing is saved, like a crash
        self.process.wait(timeout=10)
        self._log.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued_tasks(self, queue: str = "dsr") -> list[str]:
        """The task names of the messages waiting in a Celery queue (a Redis list)."""
        client = redis.Redis.from_url(self.url)
        try:
            return [json.loads(raw)["headers"]["task"] for raw in client.lrange(queue, 0, -1)]
        finally:
            client.close()


@contextlib.contextmanager
def use_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what ``on_commit`` sends through) at another broker."""
    from dsr.celery import app

    previous = (os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url)

    def switch(to: str | None, conf: str) -> None:
        from kombu import pools

        # Celery's pools live in kombu's registry: closing one there and keeping it registered
        # would hand the closed pool back later ("Acquire on closed pool"); clear the registry.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
        if to is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = to  # Celery reads it before its own configuration
        app.conf.broker_url = conf

    switch(url, url)
    try:
        yield
    finally:
        switch(*previous)
