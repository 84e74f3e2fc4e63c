"""One request travels the whole path on real parts: API -> SMTP code -> verify -> approve ->
Celery fan-out on Redis to a real worker -> SQL connector on PostgreSQL -> package / erasure."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from rest_framework.test import APIClient

from connectors.sql.sample import TARGET_EMAIL
from tests.support.smtp import SmtpListener, code_from
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_status(
    staff: APIClient, request_id: str, status: str, *, timeout: float = 60.0
) -> dict[str, Any]:
    body: dict[str, Any] = {}

    def reached() -> dict[str, Any] | None:
        nonlocal body
        body = staff.get(f"/api/v1/staff/requests/{request_id}").json()
        return body if body["status"] == status else None

    return wait_until(
        reached,
        timeout=timeout,
        interval=0.2,
        what=lambda: f"request {status}, still {body.get('status')!r}: {body}",
    )


def submit_and_verify(api: APIClient, smtp: SmtpListener, *, type: str, email: str) -> str:
    created = api.post(
        "/api/v1/requests", {"type": type, "email": email, "jurisdiction": "US-CA"}, format="json"
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    code = code_from(smtp.wait_for(to=email.lower(), subject_contains="verification code"))
    verified = api.post(f"/api/v1/requests/{request_id}/verify", {"code": code}, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["status"] == "awaiting_approval"
    return str(request_id)


def table(engine: sa.Engine, name: str) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM {name} ORDER BY id")).mappings()
        return {row["id"]: dict(row) for row in rows}


def test_an_access_request_ends_with_a_package_of_exactly_the_subjects_rows(
    api: APIClient, staff_client, smtp: SmtpListener, warehouse: dict[str, Any], worker
) -> None:
    staff = staff_client("approver")
    seed = warehouse["seed"]
    request_id = submit_and_verify(api, smtp, type="access", email="Jane.Doe@Example.com")
    smtp.wait_for(to=TARGET_EMAIL, subject_contains="We received your request")

    assert staff.post(f"/api/v1/staff/requests/{request_id}/approve").json()["status"] == "in_progress"
    detail = wait_for_status(staff, request_id, "completed")

    [job] = detail["jobs"]
    assert (job["system"]["key"], job["action"], job["status"]) == ("warehouse", "access", "succeeded")
    expected = len(seed.target_customer_ids) + len(seed.target_order_ids) + len(seed.target_invoice_ids)
    assert job["records_found"] == expected
    assert detail["package"]["records"] == expected

    package = staff.get(f"/api/v1/staff/requests/{request_id}/package")
    assert package.status_code == 200
    package_bytes = b"".join(package.streaming_content)  # the package is streamed
    archive = zipfile.ZipFile(io.BytesIO(package_bytes))
    assert sorted(archive.namelist()) == [
        "README.txt",
        "csv/warehouse/customers.csv",
        "csv/warehouse/invoices.csv",
        "csv/warehouse/orders.csv",
        "data.json",
        "index.html",
        "manifest.json",
    ]
    records = json.loads(archive.read("data.json"))["systems"]["warehouse"]["records"]
    assert sorted(row["id"] for row in records["customers"]) == sorted(seed.target_customer_ids)
    assert {row["email"] for row in records["customers"]} == {"jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"}
    assert sorted(row["id"] for row in records["orders"]) == sorted(seed.target_order_ids)
    assert sorted(row["id"] for row in records["invoices"]) == sorted(seed.target_invoice_ids)
    leaked = set(seed.decoy_customer_ids) & {row["id"] for row in records["customers"]}
    assert leaked == set()

    # The person downloads through the e-mailed link after a fresh code.
    completed = smtp.wait_for(to=TARGET_EMAIL, subject_contains="is complete")
    token = completed.text.split("token=")[1].split()[0]
    sent = api.post(f"/api/v1/requests/{request_id}/download-code", {"token": token}, format="json")
    assert sent.status_code == 202
    download_code = code_from(smtp.wait_for(to=TARGET_EMAIL, subject_contains="download code"))
    download = api.post(
        f"/api/v1/requests/{request_id}/download", {"token": token, "code": download_code}, format="json"
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert b"".join(download.streaming_content) == package_bytes


def test_an_erasure_request_erases_exactly_the_subject_and_a_second_one_is_a_no_op(
    api: APIClient, staff_client, smtp: SmtpListener, warehouse: dict[str, Any], worker
) -> None:
    staff = staff_client("approver")
    engine, seed = warehouse["engine"], warehouse["seed"]
    customers_before, orders_before = table(engine, "customers"), table(engine, "orders")
    invoices_before = table(engine, "invoices")

    request_id = submit_and_verify(api, smtp, type="erasure", email=TARGET_EMAIL)
    staff.post(f"/api/v1/staff/requests/{request_id}/approve")
    detail = wait_for_status(staff, request_id, "completed")

    [job] = detail["jobs"]
    assert job["records_found"] == len(seed.target_customer_ids) + len(seed.target_order_ids) + len(
        seed.target_invoice_ids
    )
    assert job["records_erased"] == len(seed.target_customer_ids) + len(seed.target_order_ids)
    assert job["records_retained"] == len(seed.target_invoice_ids)

    customers, orders, invoices = (
        table(engine, "customers"),
        table(engine, "orders"),
        table(engine, "invoices"),
    )
    assert set(seed.target_customer_ids) & set(customers) == set()
    for order_id in seed.target_order_ids:
        assert orders[order_id]["shipping_address"] == "[erased]"
        assert orders[order_id]["email"] not in (TARGET_EMAIL, "JANE.DOE@EXAMPLE.COM")
        assert orders[order_id]["customer_id"] is None
    # Nobody else was touched: the decoys and every other row are byte-identical.
    untouched_customers = {k: v for k, v in customers_before.items() if k not in seed.target_customer_ids}
    assert customers == untouched_customers
    assert {k: v for k, v in orders.items() if k not in seed.target_order_ids} == {
        k: v for k, v in orders_before.items() if k not in seed.target_order_ids
    }
    assert invoices == invoices_before  # retained under the tax-law basis

    mail = smtp.wait_for(to=TARGET_EMAIL, subject_contains="is complete")
    erased, kept = job["records_erased"], job["records_retained"]
    assert f"- Warehouse: {erased} records erased, {kept} records kept as the law requires" in mail.text

    # A second erasure finds nothing and changes nothing.
    snapshot = (table(engine, "customers"), table(engine, "orders"), table(engine, "invoices"))
    second_id = submit_and_verify(api, smtp, type="erasure", email=TARGET_EMAIL)
    staff.post(f"/api/v1/staff/requests/{second_id}/approve")
    second = wait_for_status(staff, second_id, "completed")
    [second_job] = second["jobs"]
    assert (second_job["records_found"], second_job["records_erased"]) == (0, 0)
    assert (table(engine, "customers"), table(engine, "orders"), table(engine, "invoices")) == snapshot
