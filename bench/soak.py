"""Soak test: push N erasure requests through real workers while vendors fail and workers die.

    .venv/bin/python bench/soak.py --requests 2000 --kill-every 5 --fault-rate 0.2

What runs (everything local, nothing mocked inside the product):
- a fresh PostgreSQL database (dropped at the end unless --keep-db) and a private redis-server;
- two fake vendors over loopback HTTP — HubSpot and Mailchimp (connectors/<key>/fake.py) — holding one contact
  and one list member per subject, so every request makes two connector jobs; a share of their
  answers (``--fault-rate``, per HTTP request) is a fault: 5xx, a burst of three 429s with
  Retry-After: 1, a timeout, malformed JSON (on reads), or a slow answer;
- ``--workers`` Celery workers (prefork) and one beat (the reconciler every 2 s); every
  ``--kill-every`` seconds one worker is killed with SIGKILL (its pool processes too) and started
  again, during the submissions and the drain;
- the requests go through the public API (``POST /api/v1/requests`` then ``/verify`` with the
  e-mailed code; erasure is auto-approved), in this process, with Django's test client.

Printed figures (exit status 1 unless the first three are 0):
- requests lost: accepted (201) but missing, or completed while a vendor still holds the subject;
- duplicate mutating vendor calls: mutating calls that reached a vendor for an object already
  mutated once (GDPR delete per HubSpot contact, delete-permanent per Mailchimp member);
- requests stuck: not completed nor action_required (with its reason) when the drain timed out;
- time to drain: from the first submission until every request is completed or action_required.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HUBSPOT_TOKEN = "pat-na1-soak-token"  # noqa: S105 - the fake vendor's token
MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us6"
CODE_RE = re.compile(r"\b(\d{6})\b")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--kill-every", type=float, default=5.0, help="seconds between worker kills (0: never)"
    )
    parser.add_argument(
        "--fault-rate", type=float, default=0.2, help="share of vendor answers that are faults"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    parser.add_argument("--lease", type=int, default=15, help="DSR_JOB_LEASE_SECONDS of the workers")
    parser.add_argument("--max-attempts", type=int, default=10, help="DSR_JOB_MAX_ATTEMPTS")
    parser.add_argument("--drain-timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SOAK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the soak database for inspection")
    return parser.parse_args()


# --- fault injection --------------------------------------------------------------------------------


class RandomFaults:
    """Answers a share of a fake vendor's requests with a random fault instead of the handler.

    Faults that replace the answer (5xx, 429, malformed JSON) never reach the handler, so the vendor
    did nothing; a timeout or a slow answer reaches it after the delay (the vendor did the work even
    though the client gave up, as real vendors do). Malformed JSON is kept to reads: a vendor that
    answers 200 to a delete it did not perform is lying, not failing.
    """

    BURST = 3
    KINDS = (
        ("server_error", 0.3),
        ("rate_limit_burst", 0.15),
        ("timeout", 0.15),
        ("malformed", 0.15),
        ("slow", 0.25),
    )

    def __init__(self, server: Any, *, rate: float, rng: random.Random, timeout_delay: float) -> None:
        from connectors.testing.server import Fault

        self.Fault = Fault
        self.server = server
        self.rate = rate
        self.rng = rng
        self.timeout_delay = timeout_delay
        self.burst_left = 0
        # A burst answers BURST requests in a row with 429, so a fault starts less often than
        # ``rate`` for the share of faulty answers to be ``rate``.
        burst_weight = dict(self.KINDS)["rate_limit_burst"] / sum(w for _, w in self.KINDS)
        self.start_rate = rate / (1 + (self.BURST - 1) * burst_weight)
        self.lock = threading.Lock()
        self.injected: collections.Counter[str] = collections.Counter()
        self.total = 0
        server._take_fault = self.take

    def take(self, req: Any) -> Any:
        Fault = self.Fault
        mutating = req.method != "GET" and not req.path.endswith("/search")
        with self.lock:
            self.total += 1
            if self.burst_left > 0:
                self.burst_left -= 1
                kind = "rate_limit_burst"
            elif self.rng.random() >= self.start_rate:
                return None
            else:
                kinds, weights = zip(*self.KINDS, strict=True)
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "malformed" and mutating:
                    kind = "server_error"
                if kind == "rate_limit_burst":
                    self.burst_left = self.BURST - 1
            self.injected[kind] += 1
        if kind == "server_error":
            return Fault.server_error(self.rng.choice((500, 502, 503)))
        if kind == "rate_limit_burst":
            return Fault.rate_limited(1)
        if kind == "timeout":
            return Fault.slow(self.timeout_delay)
        if kind == "malformed":
            return Fault.malformed_json()
        return Fault.slow(0.4)


# --- processes --------------------------------------------------------------------------------------


class Killer(threading.Thread):
    """Every ``every`` seconds: SIGKILL one worker (round robin) and start it again."""

    def __init__(self, workers: list[Any], every: float) -> None:
        super().__init__(daemon=True, name="killer")
        self.workers = workers
        self.every = every
        self.stop_event = threading.Event()
        self.kills = 0
        self.errors: list[str] = []

    def run(self) -> None:
        for worker in itertools.cycle(self.workers):
            if self.stop_event.wait(self.every):
                return
            try:
                worker.kill(signal.SIGKILL)
                self.kills += 1
                worker.start(timeout=120)
            except Exception as exc:  # reported at the end; the soak goes on
                self.errors.append(repr(exc))


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="dsr-soak-"))
    db_name = f"dsr_soak_{uuid.uuid4().hex[:8]}"

    import psycopg

    from tests.support.worker import RedisServer

    server_url = args.postgres
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    database_url = server_url.rsplit("/", 1)[0] + f"/{db_name}"
    redis_server = RedisServer(log_path=workdir / "redis.log")
    redis_server.start()
    cleanup: list[Any] = []
    try:
        return run(args, rng, workdir, database_url, redis_server, cleanup)
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception as exc:  # tear down as much as possible
                print(f"soak: clean-up step failed: {exc!r}", file=sys.stderr)
        redis_server.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"soak: kept database {db_name} and logs in {workdir}")


def _deliver_code_emails_here() -> None:
    """E-mails queued by this process (the code e-mails the soak reads) are delivered here, through
    the outbox's own ``email_deliver``, instead of by a worker whose memory backend the soak cannot
    read. Each is marked as handed over first, so the beat reconciler leaves it alone."""
    from django.utils import timezone

    from dsr.notifications import outbox
    from dsr.notifications.models import EmailStatus, OutboundEmail

    def deliver_here(*, email_id: int) -> bool:
        OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.PENDING).update(
            enqueued_at=timezone.now()
        )
        outbox.email_deliver(email_id=email_id)
        return True

    outbox.email_enqueue = deliver_here  # type: ignore[assignment]


def run(
    args: argparse.Namespace,
    rng: random.Random,
    workdir: Path,
    database_url: str,
    redis_server: Any,
    cleanup: list[Any],
) -> int:
    from tests.support.worker import Worker

    env = {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_server.url,
        "EMAIL_URL": "memorymail://",
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "DSR_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",  # the vendor fakes run on loopback
        "DSR_VAR_DIR": str(workdir / "var"),
        "MEDIA_ROOT": str(workdir / "media"),
        "DSR_AUTO_APPROVE": "erasure",
        "DSR_THROTTLE_CREATE": "1000000/hour",
        "DSR_THROTTLE_VERIFY": "1000000/hour",
        "DSR_THROTTLE_CREATE_PER_EMAIL": "1000000/hour",
        "DSR_THROTTLE_VERIFY_PER_EMAIL": "1000000/hour",
        "DSR_JOB_LEASE_SECONDS": str(args.lease),
        "DSR_JOB_REQUEUE_AFTER_SECONDS": "10",
        "DSR_RECONCILE_INTERVAL_SECONDS": "2",
        "DSR_JOB_MAX_ATTEMPTS": str(args.max_attempts),
        # The first retry waits at least 1.5 s: longer than a timed-out call takes to land at the vendor.
        "DSR_JOB_BACKOFF_BASE_SECONDS": "3",
        "DSR_JOB_BACKOFF_MAX_SECONDS": "20",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dsr.settings"
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.test import Client

    from connectors.hubspot.fake import FakeHubSpot
    from connectors.mailchimp.fake import FakeMailchimp
    from dsr.systems.models import System
    from dsr.workflow.models import ConnectorJob, DataSubjectRequest, Status

    call_command("migrate", verbosity=0)
    client_timeout, timeout_delay = 2.0, 2.5
    hubspot = FakeHubSpot(HUBSPOT_TOKEN).start()
    mailchimp = FakeMailchimp(MAILCHIMP_KEY).start()
    cleanup += [hubspot.stop, mailchimp.stop]
    for server in (hubspot, mailchimp):
        # A killed worker's connection resets mid-answer: expected here, not worth a traceback.
        server._httpd.handle_error = lambda request, client_address: None  # type: ignore[union-attr]
    audience = mailchimp.add_list("Newsletter")
    emails = [f"soak.{i:05d}@example.com" for i in range(args.requests)]
    for email in emails:
        hubspot.add_contact(email=email, firstname="Soak")
        mailchimp.add_member(audience.id, email)
    System.objects.create(
        key="crm",
        name="CRM",
        connector="hubspot",
        config={"base_url": hubspot.url, "timeout": client_timeout},
        secrets=json.dumps({"access_token": HUBSPOT_TOKEN}),
    )
    System.objects.create(
        key="newsletter",
        name="Newsletter",
        connector="mailchimp",
        config={"base_url": f"{mailchimp.url}/3.0", "timeout": client_timeout},
        secrets=json.dumps({"api_key": MAILCHIMP_KEY}),
    )
    faults = [
        RandomFaults(server, rate=args.fault_rate, rng=rng, timeout_delay=timeout_delay)
        for server in (hubspot, mailchimp)
    ]

    process_env = {**os.environ}
    workers = [
        Worker(env=process_env, log_path=workdir / f"worker-{i}.log", concurrency=args.concurrency)
        for i in range(args.workers)
    ]
    cleanup += [worker.stop for worker in workers]
    for worker in workers:
        worker.start()
    beat_log = (workdir / "beat.log").open("ab")
    beat = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dsr",
            "beat",
            "--loglevel=WARNING",
            f"--schedule={workdir / 'beat'}",
        ],
        cwd=ROOT,
        env=process_env,
        stdout=beat_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cleanup.append(lambda: (os.killpg(beat.pid, signal.SIGTERM), beat.wait(timeout=30), beat_log.close()))
    killer = Killer(workers, args.kill_every)
    cleanup.append(lambda: (killer.stop_event.set(), killer.is_alive() and killer.join(timeout=180)))
    if args.kill_every > 0:
        killer.start()

    print(
        f"soak: {args.requests} erasure requests x 2 vendors, fault rate {args.fault_rate:.0%}, "
        f"{args.workers} workers x {args.concurrency}, one killed every {args.kill_every:g}s, "
        f"lease {args.lease}s; logs in {workdir}",
        flush=True,
    )
    client = Client()
    _deliver_code_emails_here()
    accepted: list[str] = []
    refused = collections.Counter[int]()
    started = time.monotonic()
    for n, email in enumerate(emails, 1):
        mail.outbox = []
        created = client.post(
            "/api/v1/requests",
            {"type": "erasure", "email": email, "jurisdiction": "US-CA"},
            content_type="application/json",
        )
        if created.status_code != 201:
            refused[created.status_code] += 1
            continue
        request_id = created.json()["id"]
        accepted.append(request_id)
        [message] = [m for m in mail.outbox if email in m.to]
        match = CODE_RE.search(message.body)
        assert match is not None, message.body
        verified = client.post(
            f"/api/v1/requests/{request_id}/verify", {"code": match.group(1)}, content_type="application/json"
        )
        if verified.status_code != 200 or verified.json()["status"] != Status.IN_PROGRESS:
            refused[verified.status_code] += 1
        if n % 250 == 0:
            print(f"soak: submitted {n} ({time.monotonic() - started:.0f}s)", flush=True)
    submitted_at = time.monotonic()

    final = {Status.COMPLETED, Status.ACTION_REQUIRED}
    deadline = submitted_at + args.drain_timeout
    while time.monotonic() < deadline:
        open_count = DataSubjectRequest.objects.filter(pk__in=accepted).exclude(status__in=final).count()
        if open_count == 0:
            break
        print(f"soak: {open_count} requests not finished ({time.monotonic() - started:.0f}s)", flush=True)
        time.sleep(5)
    drained_at = time.monotonic()
    killer.stop_event.set()
    killer.join(timeout=180)

    # --- figures ---------------------------------------------------------------------------------
    rows = dict(DataSubjectRequest.objects.filter(pk__in=accepted).values_list("pk", "status"))
    rows = {str(k): v for k, v in rows.items()}
    email_of = dict(zip(accepted, [e for e in emails], strict=False))
    missing = [rid for rid in accepted if rid not in rows]
    not_erased = [
        rid
        for rid, status in rows.items()
        if status == Status.COMPLETED
        and (hubspot.contacts_with_email(email_of[rid]) or mailchimp.members_with_email(email_of[rid]))
    ]
    lost = len(missing) + len(not_erased)
    stuck = [rid for rid, status in rows.items() if status not in final]
    action_required = collections.Counter(
        DataSubjectRequest.objects.filter(pk__in=accepted, status=Status.ACTION_REQUIRED).values_list(
            "status_reason", flat=True
        )
    )

    def reached(server: Any, method: str, pattern: str) -> list[Any]:
        return [r for r in server.requests_to(method, pattern) if r.fault in (None, "delay")]

    per_object = collections.Counter(
        [("hubspot", r.json()["objectId"]) for r in reached(hubspot, "POST", "/gdpr-delete$")]
        + [("mailchimp", r.path) for r in reached(mailchimp, "POST", "/delete-permanent$")]
    )
    duplicates = sum(count - 1 for count in per_object.values() if count > 1)
    vendor_requests = sum(f.total for f in faults)
    injected = sum(sum(f.injected.values()) for f in faults)
    kinds = collections.Counter[str]()
    for f in faults:
        kinds.update(f.injected)
    attempts = list(ConnectorJob.objects.filter(request_id__in=accepted).values_list("attempts", flat=True))

    print()
    print(
        f"requests submitted:              {len(emails)} (accepted {len(accepted)}, refused {dict(refused)})"
    )
    print(f"requests completed:              {sum(1 for s in rows.values() if s == Status.COMPLETED)}")
    print(f"requests action_required:        {sum(action_required.values())} {dict(action_required)}")
    print(
        f"vendor requests:                 {vendor_requests}, faults injected {injected} "
        f"({injected / max(vendor_requests, 1):.1%}): {dict(kinds)}"
    )
    print(
        f"worker kills (SIGKILL):          {killer.kills}"
        + (f" (restart errors: {killer.errors})" if killer.errors else ""),
    )
    print(
        f"job attempts:                    max {max(attempts, default=0)}, "
        f"mean {sum(attempts) / max(len(attempts), 1):.2f} over {len(attempts)} jobs"
    )
    print(f"requests lost:                   {lost}")
    print(f"duplicate mutating vendor calls: {duplicates}")
    print(f"requests stuck:                  {len(stuck)}")
    print(
        f"time to drain:                   {drained_at - started:.1f}s "
        f"(submission {submitted_at - started:.1f}s, then {drained_at - submitted_at:.1f}s)"
    )

    return 0 if lost == 0 and duplicates == 0 and not stuck else 1


if __name__ == "__main__":
    sys.exit(main())
