"""`make run`: the embedded demo in one process tree — vendor fakes, migrations, demo data, a Celery
worker with beat, and the web server — stopped cleanly by Ctrl-C.

Run it as ``python -m dsr.demo.run [--host 127.0.0.1] [--port 8000]``. It is a small supervisor, not
a Django command, so that it can set the demo's environment before any Django process reads its
settings. Each child runs in its own session, so the terminal's Ctrl-C reaches only this supervisor;
on SIGINT or SIGTERM it sends SIGTERM once to each child's process group (the worker's pool and the
auto-reloader's child included), waits at most ``STOP_TIMEOUT`` seconds, kills what is left, and
exits 0. If a child dies on its own, the others are stopped the same way and its exit code is
returned.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal

# The supervisor starts our own programs (fixed argv, no shell).
import subprocess  # nosec B404
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
# Seconds the children get between SIGTERM and SIGKILL. A Celery worker on the filesystem broker
# notices a stop only between its 2-second polls and then takes another second or two to exit; one
# that is cut short loses nothing: a job's message is acknowledged only after it ran, and the
# reconciler re-enqueues a job whose lease expired.
STOP_TIMEOUT = 3.0

# The demo's own settings, for every process it starts (an operator's environment wins).
DEMO_ENVIRONMENT = {
    # The demo's vendor fakes listen on loopback, which the outbound host policy refuses unless listed.
    "DSR_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",
    "DSR_PRIVACY_POLICY_URL": "https://example.com/privacy",
    "DSR_PRIVACY_CONTACT_EMAIL": "privacy@example.com",
    "DSR_PRIVACY_CONTACT_ADDRESS": "Example GmbH, Data Protection Officer, Musterstraße 1, 10115 Berlin",
}


class Supervisor:
    """Starts the children, forwards one stop to each, and bounds how long stopping takes."""

    def __init__(self, *, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stop_group: dict[int, bool] = {}
        self.stopping = False

    def start(self, name: str, args: Sequence[str], *, stop_group: bool) -> None:
        """``stop_group``: the stop signal goes to the child's whole process group (the auto-reloader
        and its server) rather than to the child alone (Celery stops its own pool)."""
        process = subprocess.Popen(list(args), cwd=ROOT, env=self.env, start_new_session=True)  # noqa: S603  # nosec B603
        self.children.append((name, process))
        self.stop_group[process.pid] = stop_group

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        # Only sets a flag: the main loop stops the children, so a second Ctrl-C cannot re-enter.
        self.stopping = True

    def wait(self) -> int:
        """Block until a stop is requested (returns 0) or a child exits (returns its code)."""
        while not self.stopping:
            for name, process in self.children:
                code = process.poll()
                if code is not None:
                    print(f"demo: {name} exited with code {code}; stopping the others", flush=True)
                    self.stop()
                    return code or 1
            time.sleep(0.2)
        self.stop()
        return 0

    def stop(self) -> None:
        running = [(name, p) for name, p in self.children if p.poll() is None]
        for _name, process in running:
            if self.stop_group[process.pid]:
                _signal_group(process, signal.SIGTERM)
            else:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"demo: {name} still stopping after {STOP_TIMEOUT:.0f} s; ending it now", flush=True)
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for _name, process in self.children:
            # A stopped worker can leave its pool processes behind in the group: clean them up.
            _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def demo_environment(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    for name, value in DEMO_ENVIRONMENT.items():
        env.setdefault(name, value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dsr.demo.run", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)

    from dsr.demo.fakes import DemoFakes

    env = demo_environment(dict(os.environ))
    var = Path(env.get("DSR_VAR_DIR") or ROOT / "var")
    var.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]

    supervisor = Supervisor(env=env)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    with DemoFakes() as fakes:
        env.update(fakes.environment())
        env["DSR_SITE_URL"] = f"http://{options.host}:{options.port}"
        for step in (["migrate", "--noinput", "--verbosity=0"], ["demo_setup"]):
            if supervisor.stopping:
                return 0
            done = subprocess.run([*manage, *step], cwd=ROOT, env=env, check=False)  # noqa: S603  # nosec B603
            if supervisor.stopping:  # Ctrl-C while migrating reached the step too: not an error
                return 0
            if done.returncode != 0:
                return done.returncode
        if supervisor.stopping:
            return 0
        supervisor.start(
            "worker",
            [
                python, "-m", "celery", "-A", "dsr", "worker", "--beat", "--loglevel=INFO",
                "--concurrency=2", "--without-gossip", "--without-mingle",
                f"--schedule={var / 'celerybeat-schedule'}",
            ],
            stop_group=False,
        )  # fmt: skip
        supervisor.start("web", [*manage, "runserver", f"{options.host}:{options.port}"], stop_group=True)
        code = supervisor.wait()
    print("demo: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
