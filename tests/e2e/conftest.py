"""End-to-end fixtures: a real Celery worker on Redis, the PostgreSQL test database, a real SMTP
listener, and a seeded PostgreSQL warehouse configured as a system."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from django.conf import settings as django_settings
from django.db import connection

from connectors.sql.sample import SampleSeed, create_sample_schema, sample_config, seed_sample
from dsr.celery import app as celery_app
from dsr.systems.services import systems_apply_file
from tests.support.smtp import SmtpListener
from tests.support.worker import Worker, flush_redis

PG_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _celery_eager() -> Iterator[None]:
    """Overrides the unit-test default: here tasks go through the real broker to a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def warehouse(transactional_db: None, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A PostgreSQL database seeded with the sample shop, configured as the system 'warehouse'."""
    if connection.vendor != "postgresql":
        raise AssertionError("end-to-end tests need DATABASE_URL to point at PostgreSQL (use `make test`)")
    name = f"dsr_e2e_wh_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    create_sample_schema(engine)
    seed: SampleSeed = seed_sample(engine, extra_customers=50)
    systems_file = tmp_path / "systems.yaml"
    systems_file.write_text(
        yaml.safe_dump(
            {
                "systems": [
                    {
                        "key": "warehouse",
                        "name": "Warehouse",
                        "connector": "sql",
                        "config": sample_config(url),
                    }
                ]
            }
        )
    )
    systems_apply_file(path=systems_file)
    yield {"engine": engine, "seed": seed, "url": url}
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def worker_env(smtp: SmtpListener, **overrides: str | None) -> dict[str, str]:
    """The environment of a real worker on the test database, broker, storage and SMTP listener;
    an override of ``None`` removes the variable."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "EMAIL_URL": smtp.url,
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "DSR_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",  # the vendor fakes run on loopback
        "DSR_JOB_BACKOFF_BASE_SECONDS": "0.5",
        "DSR_JOB_BACKOFF_MAX_SECONDS": "2",
        "DSR_EMAIL_BACKOFF_BASE_SECONDS": "0.5",  # a failed e-mail is due again within a second
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _start_worker(env: dict[str, str], tmp_path: Path) -> Iterator[Worker]:
    broker = django_settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        raise AssertionError("end-to-end tests need CELERY_BROKER_URL to point at Redis (use `make test`)")
    flush_redis(broker)
    process = Worker(env=env, log_path=tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()
    flush_redis(broker)


@pytest.fixture
def worker(transactional_db: None, smtp: SmtpListener, tmp_path: Path) -> Iterator[Worker]:
    """A real Celery worker (prefork, 2 processes) sharing the test database, storage and SMTP."""
    yield from _start_worker(worker_env(smtp), tmp_path)


@pytest.fixture
def production_worker(transactional_db: None, smtp: SmtpListener, tmp_path: Path) -> Iterator[Worker]:
    """A real worker with production's outbound policy: ``DSR_OUTBOUND_ALLOW_HOSTS`` unset."""
    yield from _start_worker(worker_env(smtp, DSR_OUTBOUND_ALLOW_HOSTS=None), tmp_path)
