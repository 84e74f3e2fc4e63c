"""Fixtures for the access package: a system with a full inventory, and a request answered by it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from connectors import Record
from dsr.exports.download import package_read
from dsr.exports.models import AccessPackage
from dsr.exports.package import package_build
from dsr.exports.parts import access_part_write
from dsr.systems.models import System
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status
from tests.factories import RequestFactory, SystemFactory

SHOP_INVENTORY: dict[str, Any] = {
    "purposes": ["Order fulfilment", "Customer support"],
    "data_categories": ["Contact details", "Order history"],
    "legal_basis": "Contract (GDPR Art. 6(1)(b))",
    "recipients": [
        {"name": "Parcel Express GmbH", "country": "DE", "safeguard": ""},
        {"name": "Helpdesk Cloud Inc.", "country": "US", "safeguard": "EU-US Data Privacy Framework"},
    ],
    "retention": "6 years after the last order (HGB §257)",
    "source": "",
    "vendor": "Shopware Hosting AG",
    "dpa_status": "signed",
    "region": "EU (Frankfurt)",
    "automated_decisions": "",
    "never_disclose": {"customers": {"ssn": "ssn", "password_hash": "password"}},
    "third_party_fields": {"orders": ["gift_recipient"]},
}

ADS_INVENTORY: dict[str, Any] = {
    "purposes": ["Personalised advertising"],
    "data_categories": ["Online identifiers", "Inferences"],
    "legal_basis": "Consent (GDPR Art. 6(1)(a))",
    "recipients": [{"name": "AdNet Ltd", "country": "GB", "safeguard": "UK adequacy decision"}],
    "retention": "13 months after collection",
    "source": "Our website's analytics cookie",
    "automated_decisions": "A model scores your interest in product lines to choose which ads you see.",
}

TARGET_RECORDS = [
    Record(
        category="customers",
        record_id="1",
        data={
            "id": 1,
            "email": "jane.doe@example.com",
            "full_name": "Jane Doe",
            "city": "Köln",
            "ssn": "123-45-6789",
            "password_hash": "pbkdf2$abc",
        },
    ),
    Record(category="orders", record_id="101", data={"id": 101, "item": "Lamp", "gift_recipient": "Max"}),
    Record(category="orders", record_id="102", data={"id": 102, "item": "Desk", "gift_recipient": None}),
]


@dataclass
class Answered:
    request: DataSubjectRequest
    package: AccessPackage

    def zip(self) -> zipfile.ZipFile:
        return zipfile.ZipFile(io.BytesIO(package_read(request=self.request)))

    def data(self) -> dict[str, Any]:
        return json.loads(self.zip().read("data.json"))

    def index(self) -> str:
        return self.zip().read("index.html").decode()


@pytest.fixture
def shop_system(db: None) -> System:
    return SystemFactory(key="shop", name="Web shop", **SHOP_INVENTORY)


@pytest.fixture
def answer(db: None) -> Callable[..., Answered]:
    """``answer({system: records, ...}, regime=..., language=...)``: a completed access request
    whose jobs stored these records, and its built package."""

    def make(
        results: dict[System, Iterable[Record]], *, regime: str = "GDPR", language: str = "en", **extra: Any
    ) -> Answered:
        jurisdiction = {"GDPR": "DE", "CCPA": "US-CA"}.get(regime, "DE")
        extra.setdefault("email", "jane.doe@example.com")
        request = RequestFactory(
            status=Status.IN_PROGRESS,
            regime=regime,
            jurisdiction=jurisdiction,
            language=language,
            **extra,
        )
        for system, records in results.items():
            job = ConnectorJob.objects.create(
                request=request, system=system, action="access", status=JobStatus.SUCCEEDED
            )
            path, counts = access_part_write(job=job, records=records)
            job.result_path = path
            job.records_found = sum(counts.values())
            job.save()
        return Answered(request=request, package=package_build(request=request))

    return make
