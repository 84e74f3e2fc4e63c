"""The systems inventory behind the cover letter: YAML keys with line-numbered errors, and the admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsr.staff import twofactor
from dsr.staff.models import StaffTOTPDevice
from dsr.systems.admin import SystemForm
from dsr.systems.models import System
from dsr.systems.services import SystemsFileError, systems_apply_file
from tests.dashboard.conftest import sign_in_verified

pytestmark = pytest.mark.django_db

SHOP = """\
systems:
  - key: shop
    name: Web shop
    connector: sql
    config:
      url: sqlite:///shop.db
      tables:
        - name: customers
          match: {{email: email}}
          erase: {{mode: delete}}
{inventory}"""

FULL_INVENTORY = """\
    purposes: [Order fulfilment, Customer support]
    data_categories: [Contact details, Order history]
    legal_basis: Contract (GDPR Art. 6(1)(b))
    recipients:
      - {name: Parcel Express GmbH, country: de}
      - name: Helpdesk Cloud Inc.
        country: US
        safeguard: EU-US Data Privacy Framework
        purpose: Support tickets
    retention: 6 years after the last order
    source: Partner marketplace
    vendor: Shopware Hosting AG
    dpa_status: signed
    region: EU (Frankfurt)
    automated_decisions: Fraud score on checkout
    never_disclose:
      customers: {ssn: ssn, password_hash: password}
    third_party_fields:
      orders: [gift_recipient]
"""


def _apply(tmp_path: Path, inventory: str) -> System:
    path = tmp_path / "systems.yaml"
    path.write_text(SHOP.format(inventory=inventory))
    systems_apply_file(path=path)
    return System.objects.get(key="shop")


def _error(tmp_path: Path, inventory: str) -> str:
    with pytest.raises(SystemsFileError) as caught:
        _apply(tmp_path, inventory)
    return str(caught.value).replace(str(tmp_path / "systems.yaml"), "systems.yaml")


def test_the_yaml_file_sets_every_inventory_field(tmp_path):
    shop = _apply(tmp_path, FULL_INVENTORY)
    assert shop.purposes == ["Order fulfilment", "Customer support"]
    assert shop.data_categories == ["Contact details", "Order history"]
    assert shop.legal_basis == "Contract (GDPR Art. 6(1)(b))"
    assert shop.recipients == [
        {"name": "Parcel Express GmbH", "country": "DE", "safeguard": ""},
        {
            "name": "Helpdesk Cloud Inc.",
            "country": "US",
            "safeguard": "EU-US Data Privacy Framework",
            "purpose": "Support tickets",
        },
    ]
    assert (shop.retention, shop.source) == ("6 years after the last order", "Partner marketplace")
    assert (shop.vendor, shop.dpa_status, shop.region) == ("Shopware Hosting AG", "signed", "EU (Frankfurt)")
    assert shop.automated_decisions == "Fraud score on checkout"
    assert shop.never_disclose == {"customers": {"ssn": "ssn", "password_hash": "password"}}
    assert shop.third_party_fields == {"orders": ["gift_recipient"]}


def test_applying_the_same_file_again_changes_nothing_and_removing_a_field_clears_it(tmp_path):
    _apply(tmp_path, FULL_INVENTORY)
    path = tmp_path / "systems.yaml"
    assert systems_apply_file(path=path).unchanged == ["shop"]
    path.write_text(SHOP.format(inventory=FULL_INVENTORY.replace("    source: Partner marketplace\n", "")))
    assert systems_apply_file(path=path).updated == ["shop"]
    assert System.objects.get(key="shop").source == ""


def test_a_system_without_inventory_gets_empty_defaults(tmp_path):
    shop = _apply(tmp_path, "")
    assert (shop.purposes, shop.recipients, shop.dpa_status, shop.never_disclose) == ([], [], "in_house", {})


def test_a_recipient_outside_the_eea_without_a_safeguard_is_refused_naming_its_line(tmp_path):
    inventory = (
        "    recipients:\n"
        "      - {name: Parcel Express, country: DE}\n"
        "      - {name: Helpdesk Inc., country: US}\n"
    )
    assert _error(tmp_path, "    recipients:\n      - {name: X, country: Germany}\n") == (
        "systems.yaml, line 12 (system 'shop'): recipients: recipient 1 (X) needs a 'country': an ISO 3166 "
        "code such as DE or US"
    )
    assert _error(tmp_path, inventory) == (
        "systems.yaml, line 13 (system 'shop'): recipients: recipient 2 (Helpdesk Inc.) is in US, outside "
        "the EEA: give the transfer 'safeguard' (e.g. adequacy decision, standard contractual clauses; "
        "GDPR Art. 45-46)"
    )


@pytest.mark.parametrize(
    ("inventory", "message"),
    [
        ("    purposes: [Order fulfilment, 3]\n", "purposes: must be a list of non-empty texts"),
        ("    dpa_status: maybe\n", "dpa_status: must be one of in_house, signed, pending, missing"),
        ("    never_disclose:\n      customers: {ssn: passport}\n",
         "never_disclose: customers.ssn: unknown kind 'passport'; use one of ssn, government_id, "
         "financial_account, health_insurance_id, password, security_qa, biometric, secret"),
        ("    third_party_fields:\n      orders: gift_recipient\n",
         "third_party_fields: orders: must be a non-empty list of fields"),
        ("    never_disclose: {customers: {ssn: ssn}}\n    third_party_fields: {customers: [ssn]}\n",
         "third_party_fields: customers.ssn is already in never_disclose"),
    ],
)  # fmt: skip
def test_an_invalid_inventory_field_is_refused_naming_the_systems_line(tmp_path, inventory, message):
    assert _error(tmp_path, inventory) == f"systems.yaml, line 2 (system 'shop'): {message}"
    assert System.objects.count() == 0


def _form(**inventory) -> SystemForm:
    data = {
        "key": "shop",
        "name": "Web shop",
        "connector": "sql",
        "config": json.dumps(
            {
                "url": "sqlite:///shop.db",
                "tables": [{"name": "customers", "match": {"email": "email"}, "erase": {"mode": "delete"}}],
            }
        ),
        "enabled": "on",
        "purposes": '["Order fulfilment"]',
        "data_categories": "[]",
        "recipients": "[]",
        "never_disclose": "{}",
        "third_party_fields": "{}",
        "dpa_status": "in_house",
        **inventory,
    }
    return SystemForm(data=data)


def test_the_admin_form_saves_the_inventory_normalised():
    form = _form(recipients='[{"name": "Helpdesk", "country": "us", "safeguard": "SCCs"}]')
    assert form.is_valid(), form.errors
    shop = form.save()
    assert shop.recipients == [{"name": "Helpdesk", "country": "US", "safeguard": "SCCs"}]
    assert shop.purposes == ["Order fulfilment"]


def test_the_admin_form_shows_an_inventory_error_on_its_field():
    form = _form(recipients='[{"name": "Helpdesk", "country": "US"}]')
    assert form.is_valid() is False
    assert form.errors["recipients"] == [
        "recipient 1 (Helpdesk) is in US, outside the EEA: give the transfer 'safeguard' (e.g. adequacy "
        "decision, standard contractual clauses; GDPR Art. 45-46)"
    ]


def test_the_admin_page_of_a_system_shows_the_inventory_sections(client, admin_user):
    shop = System.objects.create(key="shop", name="Web shop", connector="sql", purposes=["Order fulfilment"])
    StaffTOTPDevice.objects.create(
        user=admin_user, name="authenticator", secret=twofactor.secret_new(), confirmed=True
    )
    sign_in_verified(client, admin_user)  # the admin, like every staff surface, needs the second factor
    page = client.get(f"/admin/systems/system/{shop.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for heading in [
        "Record of processing (the access package&#x27;s cover letter, GDPR Art. 15)",
        "Vendor",
        "Redaction before packaging",
    ]:
        assert heading in html, heading
    assert 'name="third_party_fields"' in html
    assert "Order fulfilment" in html
