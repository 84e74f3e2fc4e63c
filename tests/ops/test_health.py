"""/healthz (liveness) and /readyz (readiness: database, broker, cache, storage) over HTTP."""

from __future__ import annotations

import pytest
from django.db import connection

from dsr.celery import app

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_touching_the_database(client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency_and_answers_200_when_all_work(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["database", "broker", "cache", "storage"]
    assert all(check["ok"] is True and "error" not in check for check in body["checks"].values())


def test_readyz_answers_503_and_names_the_broker_when_the_broker_is_down(client, monkeypatch) -> None:
    for name in ("broker_url", "broker_write_url"):
        monkeypatch.setitem(app.conf, name, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert "127.0.0.1" not in response.content.decode()  # no connection details to anonymous callers
    assert [name for name, c in body["checks"].items() if not c["ok"]] == ["broker"]


def test_readyz_answers_503_when_the_database_fails(client, monkeypatch) -> None:
    def broken_cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "ms": response.json()["checks"]["database"]["ms"],
        "error": "RuntimeError",
    }


def test_readyz_answers_503_when_storage_cannot_be_written(client, settings, tmp_path) -> None:
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder / "packages")},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False
    assert [name for name, c in response.json()["checks"].items() if not c["ok"]] == ["storage"]
