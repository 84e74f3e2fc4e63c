"""An access request answered end to end on real parts — API, SMTP, Redis, a real Celery worker, the
SQL connector on PostgreSQL — then downloaded through the e-mailed link with a fresh code, opened,
checked record by record, and rendered in headless Chromium."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from connectors.sql.sample import TARGET_EMAIL, sample_config
from dsr.exports.redaction import THIRD_PARTY
from dsr.systems.services import systems_apply_file
from tests.e2e.test_request_end_to_end import wait_for_status
from tests.support.browser import screenshot
from tests.support.smtp import SmtpListener, code_from

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API keeps an event loop in this thread; the ORM calls here are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

WAREHOUSE_INVENTORY = {
    "purposes": ["Order fulfilment", "Bookkeeping"],
    "data_categories": ["Contact details", "Order history", "Invoices"],
    "legal_basis": "Contract and legal obligation (GDPR Art. 6(1)(b), (c))",
    "recipients": [
        {"name": "Parcel Express GmbH", "country": "DE"},
        {
            "name": "Ledger Cloud Inc.",
            "country": "US",
            "safeguard": "Standard contractual clauses (2021/914)",
        },
    ],
    "retention": "Orders 6 years, invoices 10 years (HGB §257, AO §147)",
    "source": "",
    "vendor": "Warehouse Hosting SE",
    "dpa_status": "signed",
    "region": "EU (Dublin)",
    # Treated as another person's data for this test: orders can be shipped to someone else.
    "third_party_fields": {"orders": ["shipping_address"]},
}


@pytest.fixture
def inventoried_warehouse(warehouse: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The e2e warehouse, re-applied from YAML with its record of processing."""
    path = tmp_path / "inventory.yaml"
    entry = {
        "key": "warehouse",
        "name": "Warehouse",
        "connector": "sql",
        "config": sample_config(warehouse["url"]),
    }
    path.write_text(yaml.safe_dump({"systems": [{**entry, **WAREHOUSE_INVENTORY}]}))
    assert systems_apply_file(path=path).updated == ["warehouse"]
    return warehouse


def _wait_completed(staff: APIClient, request_id: str, timeout: float = 60.0) -> dict[str, Any]:
    return wait_for_status(staff, request_id, "completed", timeout=timeout)


def _text(html: str) -> str:
    body = re.sub(r"<style.*?</style>|<title>.*?</title>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).replace("&#x27;", "'").split())


def test_the_person_downloads_a_package_with_exactly_their_records_and_the_cover_letter(
    api: APIClient, staff_client, smtp: SmtpListener, inventoried_warehouse: dict[str, Any], worker, browser,
    tmp_path: Path,
) -> None:  # fmt: skip
    seed = inventoried_warehouse["seed"]
    created = api.post(
        "/api/v1/requests",
        {"type": "access", "email": "Jane.Doe@Example.com", "jurisdiction": "DE"},
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id, reference = created.json()["id"], created.json()["reference"]
    code = code_from(smtp.wait_for(to=TARGET_EMAIL, subject_contains="verification code"))
    assert api.post(f"/api/v1/requests/{request_id}/verify", {"code": code}, format="json").status_code == 200
    staff = staff_client("approver")
    assert staff.post(f"/api/v1/staff/requests/{request_id}/approve").json()["status"] == "in_progress"
    _wait_completed(staff, request_id)

    # The completion e-mail links to the download page; the page asks for a fresh code.
    completed = smtp.wait_for(to=TARGET_EMAIL, subject_contains="is complete")
    link = next(line.strip() for line in completed.text.splitlines() if "/download?token=" in line)
    path, token = link.removeprefix("http://127.0.0.1:8000").split("?token=")
    browser_client = Client()
    page = browser_client.get(path, {"token": token})
    assert page.status_code == 200
    refused = browser_client.post(path, {"token": token, "action": "download", "code": "000000"})
    assert refused.status_code == 400
    assert "There is no code waiting for this request. Request a new code." in _text(refused.content.decode())
    tampered = browser_client.get(path, {"token": token[:-3] + "xyz"})
    assert tampered.status_code == 403
    assert "This download link does not work" in _text(tampered.content.decode())

    assert browser_client.post(path, {"token": token, "action": "send"}).status_code == 200
    download_code = code_from(smtp.wait_for(to=TARGET_EMAIL, subject_contains="download code"))
    download = browser_client.post(path, {"token": token, "action": "download", "code": download_code})
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{reference}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))

    # Every record of the subject, and no decoy's.
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
    assert sorted(row["id"] for row in records["orders"]) == sorted(seed.target_order_ids)
    assert sorted(row["id"] for row in records["invoices"]) == sorted(seed.target_invoice_ids)
    assert {row["shipping_address"] for row in records["orders"]} == {THIRD_PARTY}
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8", "replace")
    for decoy in ["jane.doe+news@example.com", "jane.doe@example.org", "jane.d@example.net", "john.roe@"]:
        assert decoy not in everything, decoy
    orders_csv = list(
        csv.DictReader(io.StringIO(archive.read("csv/warehouse/orders.csv").decode("utf-8-sig")))
    )
    assert sorted(int(row["id"]) for row in orders_csv) == sorted(seed.target_order_ids)

    # The manifest's hashes verify.
    manifest = json.loads(archive.read("manifest.json"))
    assert {entry["path"] for entry in manifest["files"]} == set(archive.namelist()) - {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]

    # The cover letter names the system's purposes, recipients and retention, and the redaction.
    letter = _text(archive.read("index.html").decode())
    assert "Warehouse: Order fulfilment; Bookkeeping" in letter
    assert "Parcel Express GmbH (DE); Ledger Cloud Inc. (US) outside the EEA" in letter
    assert "safeguard: Standard contractual clauses (2021/914)" in letter
    assert "Warehouse: Orders 6 years, invoices 10 years (HGB §257, AO §147)" in letter
    assert f"Warehouse, orders.shipping_address ({len(seed.target_order_ids)} records)" in letter

    # index.html, as the person opens it, on a desktop and on a phone.
    folder = tmp_path / "package"
    archive.extractall(folder)
    for device, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        tab = context.new_page()
        requested: list[str] = []
        tab.on("request", lambda request, seen=requested: seen.append(request.url))
        tab.goto((folder / "index.html").as_uri())
        screenshot(tab, f"access-package-e2e-{device}")
        assert requested == [(folder / "index.html").as_uri()]
        assert tab.evaluate("document.documentElement.scrollWidth") == width
        context.close()
