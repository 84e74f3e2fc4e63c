"""Benchmark: export one subject with N warehouse rows into an access package; memory must stay flat.

Seeds a SQLite copy of the sample shop (connectors/sql/sample.py) whose target, Jane Doe, has N
orders, then measures, each in a fresh process so peak RSS belongs to that step alone:

  baseline   raw SQL: the subject's customers, orders and invoices fetched with sqlite3 and written
             to CSV files (what a script written by hand would do)
  export     what a worker does: SQLConnector.access -> access_part_write (encrypted part), then
             package_build (redaction, index.html, data.json, CSV, manifest, encrypted zip)

and prints rows/s, peak RSS and the ratios against the baseline measured in the same run.

    python -m bench.export_access --rows 1000000        # or: make bench BENCH_ROWS=1000000

Everything lives in a temporary folder (Django's database, storage and the warehouse), removed at
the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIRST_BENCH_ORDER = 10_000_000  # clear of the sample's own order ids
CHUNK = 50_000


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def django_env(folder: Path) -> dict[str, str]:
    return {
        "DSR_ENV": "development",
        "DSR_VAR_DIR": str(folder / "var"),
        "DATABASE_URL": f"sqlite:///{folder / 'dsr.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
    }


def warehouse_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'warehouse.sqlite3'}"


# --- steps, each run in its own process --------------------------------------------------------


def step_seed(folder: Path, rows: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from connectors.sql.sample import create_sample_schema, seed_sample

    engine = sa.create_engine(warehouse_url(folder))
    create_sample_schema(engine)
    seed_sample(engine)
    orders = sa.table(
        "orders",
        *(
            sa.column(c)
            for c in ("id", "customer_id", "item", "amount", "shipping_address", "email", "placed_at")
        ),
    )
    with engine.begin() as conn:
        for start in range(0, rows, CHUNK):
            conn.execute(
                sa.insert(orders),
                [
                    {
                        "id": FIRST_BENCH_ORDER + i,
                        "customer_id": 1,
                        "item": f"Bench item {i}",
                        "amount": "12.50",
                        "shipping_address": "1 Sample Street, Berlin",
                        "email": "jane.doe@example.com",
                        "placed_at": "2024-03-01 09:30:00.000000",
                    }
                    for i in range(start, min(start + CHUNK, rows))
                ],
            )
    engine.dispose()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return {}


SUBJECT_SQL = {
    "customers": "SELECT * FROM customers WHERE lower(trim(email)) = ?",
    "orders": "SELECT * FROM orders WHERE customer_id IN "
    "(SELECT id FROM customers WHERE lower(trim(email)) = ?) ORDER BY id",
    "invoices": "SELECT * FROM invoices WHERE order_id IN (SELECT id FROM orders WHERE customer_id IN "
    "(SELECT id FROM customers WHERE lower(trim(email)) = ?)) ORDER BY id",
}


def step_baseline(folder: Path, rows: int) -> dict[str, Any]:
    out = folder / "baseline"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    total = 0
    with sqlite3.connect(folder / "warehouse.sqlite3") as conn:
        for table, query in SUBJECT_SQL.items():
            cursor = conn.execute(query, ["jane.doe@example.com"])
            with (out / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow([d[0] for d in cursor.description])
                while batch := cursor.fetchmany(1000):
                    writer.writerows(batch)
                    total += len(batch)
    return {"rows": total, "seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib()}


def step_export(folder: Path, rows: int) -> dict[str, Any]:
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from connectors import Subject
    from connectors.sql.sample import TARGET_EMAIL, sample_config
    from dsr.exports.package import package_build
    from dsr.exports.parts import access_part_write
    from dsr.identity.blind_index import email_blind_index
    from dsr.systems.models import System
    from dsr.systems.services import system_build_connector
    from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status

    system = System.objects.create(
        key="warehouse",
        name="Warehouse",
        connector="sql",
        config=sample_config(warehouse_url(folder)),
        purposes=["Order fulfilment"],
        retention="6 years",
        third_party_fields={"orders": ["shipping_address"]},  # exercise redaction on every row
    )
    now = timezone.now()
    request = DataSubjectRequest.objects.create(
        type="access",
        jurisdiction="DE",
        regime="GDPR",
        status=Status.IN_PROGRESS,
        email=TARGET_EMAIL,
        email_index=email_blind_index(TARGET_EMAIL),
        received_at=now,
        due_at=now + timedelta(days=30),
    )
    job = ConnectorJob.objects.create(
        request=request, system=system, action="access", status=JobStatus.RUNNING
    )
    connector = system_build_connector(system=system)
    rss_ready = peak_rss_mib()

    start = time.perf_counter()
    path, counts = access_part_write(job=job, records=connector.access(Subject.create(email=TARGET_EMAIL)))
    part_seconds = time.perf_counter() - start
    connector.close()
    ConnectorJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, result_path=path, records_found=sum(counts.values())
    )
    start = time.perf_counter()
    package = package_build(request=request)
    package_seconds = time.perf_counter() - start
    return {
        "rows": package.records,
        "part_seconds": part_seconds,
        "package_seconds": package_seconds,
        "seconds": part_seconds + package_seconds,
        "zip_mib": package.size / 2**20,
        "rss_ready_mib": rss_ready,
        "peak_rss_mib": peak_rss_mib(),
    }


STEPS = {"seed": step_seed, "baseline": step_baseline, "export": step_export}


def run_step(name: str, folder: Path, rows: int) -> dict[str, Any]:
    env = {**os.environ, **django_env(folder), "DJANGO_SETTINGS_MODULE": "dsr.settings"}
    args = [sys.executable, "-m", "bench.export_access", "--step", name, "--folder", str(folder)]
    args += ["--rows", str(rows)]
    # This very script, with arguments it built itself.
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="orders of the one subject (default 1000000)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args.folder, args.rows)))
        return

    folder = Path(tempfile.mkdtemp(prefix="dsr-bench-export-"))
    try:
        print(f"seeding one subject with {args.rows:,} orders (SQLite) ...", flush=True)
        run_step("seed", folder, args.rows)
        baseline = run_step("baseline", folder, args.rows)
        export = run_step("export", folder, args.rows)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if export["rows"] != baseline["rows"]:
        raise SystemExit(f"row counts differ: export {export['rows']} vs baseline {baseline['rows']}")
    rate = export["rows"] / export["seconds"]
    base_rate = baseline["rows"] / baseline["seconds"]
    print(f"rows exported: {export['rows']:,} (the subject's customers, orders and invoices)")
    print(f"{'':18}{'seconds':>10}{'rows/s':>12}{'peak RSS MiB':>15}")
    base_rss = baseline["peak_rss_mib"]
    print(f"{'baseline raw SQL':18}{baseline['seconds']:>10.1f}{base_rate:>12,.0f}{base_rss:>15.1f}")
    print(f"{'export':18}{export['seconds']:>10.1f}{rate:>12,.0f}{export['peak_rss_mib']:>15.1f}")
    print(f"  access part     {export['part_seconds']:>10.1f}")
    print(f"  package build   {export['package_seconds']:>10.1f}")
    print(
        f"export / baseline: {rate / base_rate:.2f}x the rows/s, "
        f"{export['peak_rss_mib'] / baseline['peak_rss_mib']:.1f}x the peak RSS"
    )
    print(
        f"export RSS growth while exporting: {export['peak_rss_mib'] - export['rss_ready_mib']:.1f} MiB "
        f"(from {export['rss_ready_mib']:.1f} MiB with Django loaded); zip {export['zip_mib']:.1f} MiB"
    )


if __name__ == "__main__":
    main()
