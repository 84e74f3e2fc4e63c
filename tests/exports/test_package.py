"""The access package: what is in it, the cover letter, redaction, the manifest, encryption at rest."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re

import pytest
from django.core.files.storage import default_storage

from connectors import Record
from dsr.exports.download import package_read
from dsr.exports.models import AccessPackage
from dsr.exports.package import package_build
from dsr.exports.redaction import NOT_DISCLOSED, THIRD_PARTY
from dsr.exports.spool import HTML_ROWS_PER_TABLE
from dsr.identity import crypto
from dsr.identity.crypto import DecryptionError
from tests.exports.conftest import ADS_INVENTORY, TARGET_RECORDS
from tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

OLD_KEY = "old:" + base64.b64encode(b"o" * 32).decode()
NEW_KEY = "new:" + base64.b64encode(b"n" * 32).decode()


def test_the_package_holds_the_letter_the_data_the_spreadsheets_the_readme_and_the_manifest(
    answer, shop_system
):
    answered = answer({shop_system: TARGET_RECORDS})
    assert sorted(answered.zip().namelist()) == [
        "README.txt",
        "csv/shop/customers.csv",
        "csv/shop/orders.csv",
        "data.json",
        "index.html",
        "manifest.json",
    ]
    assert answered.package.records == 3


def test_data_json_holds_every_record_by_system_and_table_with_protected_fields_replaced(answer, shop_system):
    data = answer({shop_system: TARGET_RECORDS}).data()
    shop = data["systems"]["shop"]
    assert shop["name"] == "Web shop"
    assert shop["records"]["customers"] == [
        {
            "id": 1,
            "email": "jane.doe@example.com",
            "full_name": "Jane Doe",
            "city": "Köln",
            "ssn": NOT_DISCLOSED,
            "password_hash": NOT_DISCLOSED,
        }
    ]
    assert shop["records"]["orders"] == [
        {"id": 101, "item": "Lamp", "gift_recipient": THIRD_PARTY},
        {"id": 102, "item": "Desk", "gift_recipient": None},
    ]
    assert shop["withheld"] == [
        {"table": "customers", "field": "password_hash", "kind": "password", "count": 1},
        {"table": "customers", "field": "ssn", "kind": "ssn", "count": 1},
        {"table": "orders", "field": "gift_recipient", "kind": "third_party", "count": 1},
    ]
    assert data["request"]["regime"] == "GDPR"


def test_no_protected_value_appears_anywhere_in_the_package(answer, shop_system):
    archive = answer({shop_system: TARGET_RECORDS}).zip()
    for name in archive.namelist():
        content = archive.read(name).decode("utf-8-sig")
        assert "123-45-6789" not in content, name
        assert "pbkdf2$abc" not in content, name
        assert "Max" not in content, name


def test_each_csv_has_the_tables_columns_and_one_row_per_record(answer, shop_system):
    archive = answer({shop_system: TARGET_RECORDS}).zip()
    rows = list(csv.reader(io.StringIO(archive.read("csv/shop/orders.csv").decode("utf-8-sig"))))
    assert rows == [["id", "item", "gift_recipient"], ["101", "Lamp", THIRD_PARTY], ["102", "Desk", ""]]
    customers = list(csv.DictReader(io.StringIO(archive.read("csv/shop/customers.csv").decode("utf-8-sig"))))
    assert [(c["email"], c["city"], c["ssn"]) for c in customers] == [
        ("jane.doe@example.com", "Köln", NOT_DISCLOSED)
    ]


def test_the_manifest_lists_every_other_file_with_a_sha256_that_verifies(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    archive = answered.zip()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["algorithm"] == "sha256"
    assert manifest["reference"] == answered.request.reference
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert sorted(listed) == sorted(set(archive.namelist()) - {"manifest.json"})
    for path, entry in listed.items():
        content = archive.read(path)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest(), path
        assert entry["size"] == len(content), path


def test_the_cover_letter_names_each_systems_purposes_recipients_and_retention(answer, shop_system):
    ads = SystemFactory(key="ads", name="Ad platform", **ADS_INVENTORY)
    html = answer({shop_system: TARGET_RECORDS, ads: [Record_("profile", {"segment": "lamps"})]}).index()
    text = _text(html)
    assert "Web shop: Order fulfilment; Customer support (legal basis: Contract (GDPR Art. 6(1)(b)))" in text
    assert "Ad platform: Personalised advertising (legal basis: Consent (GDPR Art. 6(1)(a)))" in text
    assert "Web shop: Contact details, Order history" in text
    assert (
        "Web shop: operated for us by Shopware Hosting AG (data hosted in: EU (Frankfurt)); "
        "Parcel Express GmbH (DE); Helpdesk Cloud Inc. (US) outside the EEA safeguard: "
        "EU-US Data Privacy Framework" in text
    )
    assert "Ad platform: AdNet Ltd (GB) outside the EEA safeguard: UK adequacy decision" in text
    assert "Web shop: 6 years after the last order (HGB §257)" in text
    assert "Ad platform: 13 months after collection" in text
    assert "Web shop: from you" in text
    assert "Ad platform: Our website's analytics cookie" in text
    assert "Ad platform: A model scores your interest in product lines to choose which ads you see." in text
    assert "Web shop: no decisions about you are made by automated means alone, and no profiling" in text
    citations = [
        "GDPR Art. 15(1)(a)",
        "GDPR Art. 15(1)(b)",
        "GDPR Art. 15(1)(c), 15(2)",
        "GDPR Art. 15(1)(d)",
        "GDPR Art. 15(1)(e)",
        "GDPR Art. 15(1)(f), 77",
        "GDPR Art. 15(1)(g)",
        "GDPR Art. 15(1)(h), 22",
    ]
    for cite in citations:
        assert cite in text, cite
    assert "We hold 4 records about you." in text


def test_the_cover_letter_says_what_was_withheld_and_why(answer, shop_system):
    text = _text(answer({shop_system: TARGET_RECORDS}).index())
    assert "Social Security number — Web shop, customers.ssn (1 record)" in text
    assert "Account password — Web shop, customers.password_hash (1 record)" in text
    assert "Web shop, orders.gift_recipient (1 record)" in text
    assert "GDPR Art. 15(4)" in text


def test_a_ccpa_answer_lists_the_categories_and_the_fields_held_but_not_disclosed(answer, shop_system):
    text = _text(answer({shop_system: TARGET_RECORDS}, regime="CCPA").index())
    assert "Cal. Civ. Code §1798.110(a)(1)" in text
    assert "Web shop: Contact details, Order history" in text
    assert "Held, not disclosed 11 CCR §7024(d)" in text
    assert "The law forbids us to disclose these pieces of information, even to you." in text
    assert "Social Security number — Web shop, customers.ssn (1 record)" in text
    assert "GDPR Art. 15(1)(a)" not in text


def test_index_html_is_self_contained_and_in_the_requests_language(answer, shop_system):
    html = answer({shop_system: TARGET_RECORDS}, language="de").index()
    assert html.startswith('<!doctype html>\n<html lang="de">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.findall(r"""(?:src|href)=["'](?!#|mailto:)[^"']*""", html) == []
    assert re.findall(r"<(?:script|link|img|iframe)\b", html) == []
    assert "url(" not in html
    assert "default-src 'none'" in html


def test_a_large_table_shows_its_first_rows_in_index_html_and_all_of_them_in_the_files(answer, shop_system):
    count = HTML_ROWS_PER_TABLE + 5
    records = [Record_("orders", {"id": i, "item": f"item {i}"}) for i in range(count)]
    answered = answer({shop_system: records})
    text = _text(answered.index())
    assert f"Showing the first {HTML_ROWS_PER_TABLE} of {count} records." in text
    assert f"item {HTML_ROWS_PER_TABLE - 1}" in text
    assert f"item {HTML_ROWS_PER_TABLE}" not in text
    assert [row["id"] for row in answered.data()["systems"]["shop"]["records"]["orders"]] == list(
        range(count)
    )


def test_a_system_that_found_nothing_is_listed_as_searched(answer, shop_system):
    empty = SystemFactory(key="crm", name="CRM")
    text = _text(answer({shop_system: TARGET_RECORDS, empty: []}).index())
    assert "We also searched these systems and found nothing about you: CRM." in text
    assert answer({empty: []}).data()["systems"]["crm"]["records"] == {}


def test_a_request_with_no_data_anywhere_says_so(answer):
    empty = SystemFactory(key="crm", name="CRM")
    text = _text(answer({empty: []}).index())
    assert "We hold no personal data about you." in text


def test_the_package_is_encrypted_at_rest_and_its_recorded_hash_is_that_of_the_zip(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    with default_storage.open(answered.package.path, "rb") as handle:
        stored = handle.read()
    assert stored.startswith(b"DSRS1")
    assert b"PK\x03\x04" not in stored
    assert b"jane.doe" not in stored
    plain = package_read(request=answered.request)
    assert plain.startswith(b"PK\x03\x04")
    assert (answered.package.size, answered.package.sha256) == (len(plain), hashlib.sha256(plain).hexdigest())


def test_a_package_written_under_an_old_key_still_opens_after_a_new_key_is_put_first(
    answer, shop_system, settings
):
    settings.DSR_ENCRYPTION_KEYS = OLD_KEY
    answered = answer({shop_system: TARGET_RECORDS})
    settings.DSR_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    assert package_read(request=answered.request).startswith(b"PK\x03\x04")
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    with pytest.raises(DecryptionError, match="no configured key has id 'old'"):
        package_read(request=answered.request)


def test_the_access_parts_are_deleted_once_the_package_is_built(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    [job] = answered.request.jobs.all()
    assert job.result_path.startswith(f"access-parts/{answered.request.pk}/shop-")
    assert default_storage.exists(job.result_path) is False


def test_building_twice_returns_the_same_package(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    assert package_build(request=answered.request) == answered.package
    assert AccessPackage.objects.count() == 1


def test_an_access_part_is_encrypted_and_streams_back_the_records(shop_system, db):
    from dsr.exports.parts import access_part_write, part_lines
    from dsr.workflow.models import ConnectorJob
    from tests.factories import RequestFactory

    job = ConnectorJob.objects.create(request=RequestFactory(), system=shop_system, action="access")
    path, counts = access_part_write(job=job, records=TARGET_RECORDS)
    assert counts == {"customers": 1, "orders": 2}
    with default_storage.open(path, "rb") as handle:
        stored = handle.read()
    assert stored.startswith(b"DSRS1")
    assert b"jane.doe" not in stored
    assert crypto.stream_key_id(io.BytesIO(stored)) == crypto.current_key_id()
    lines = [(category, json.loads(raw)) for category, raw in part_lines(path)]
    assert lines == [(r.category, dict(r.data)) for r in TARGET_RECORDS]


def Record_(category: str, data: dict) -> Record:
    return Record(category=category, data=data)


def _text(html: str) -> str:
    """The visible text of the page with tags removed and whitespace collapsed."""
    body = re.sub(r"<style.*?</style>|<title>.*?</title>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).replace("&#x27;", "'").replace("&amp;", "&").split())


# --- CSV formula injection ----------------------------------------------------------------------

FORMULAS = {
    "formula": '=HYPERLINK("http://evil.example","click")',
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "plain": "Lamp - blue",
    "number": -3,
}


def test_csv_cells_that_a_spreadsheet_would_run_start_with_an_apostrophe_and_data_json_is_unchanged(
    answer, shop_system
):
    records = [Record(category="notes", record_id="1", data={**FORMULAS, "=cmd": "x"})]
    answered = answer({shop_system: records})
    rows = list(csv.reader(io.StringIO(answered.zip().read("csv/shop/notes.csv").decode("utf-8-sig"))))
    assert rows == [
        [*FORMULAS, "'=cmd"],
        [
            '\'=HYPERLINK("http://evil.example","click")',
            "'+1+1",
            "'-2+3",
            "'@SUM(A1)",
            "'\t=1+1",
            "'\r=1+1",
            "Lamp - blue",
            "-3",
            "x",
        ],
    ]
    assert answered.data()["systems"]["shop"]["records"]["notes"] == [{**FORMULAS, "=cmd": "x"}]


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        (
            "en",
            "A value that begins with =, +, -, @, a tab or a carriage return starts with an added apostrophe",
        ),
        ("de", "Ein Wert, der mit =, +, -, @, einem Tabulator oder einem Wagenrücklauf beginnt"),
        ("fr", "Une valeur qui commence par =, +, -, @, une tabulation ou un retour chariot"),
        ("es", "Un valor que empieza por =, +, -, @, un tabulador o un retorno de carro"),
    ],
)
def test_the_readme_explains_the_apostrophe_in_the_packages_language(answer, shop_system, language, sentence):
    readme = answer({shop_system: TARGET_RECORDS}, language=language).zip().read("README.txt").decode()
    assert sentence in readme
