"""Salesforce connector: the conformance kit plus SOQL escaping, batching and Recycle Bin tests."""

from __future__ import annotations

import pytest

from connectors import ConfigError, Subject
from connectors.errors import PermanentError, RateLimited, TransientError
from connectors.registry import BUILTINS, validate
from connectors.salesforce import soql
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.fake import FakeSalesforce, SOQLSyntaxError, parse_soql, query_params
from connectors.salesforce.tests.backend import SalesforceBackend
from connectors.testing import LOCAL_FAKES
from connectors.types import ErasureMethod, ErasureResult


# -- SOQL building ------------------------------------------------------------------------------
def test_quote_escapes_quote_and_backslash() -> None:
    assert soql.quote("o'brien@example.com") == "'o\\'brien@example.com'"
    assert soql.quote("x'); DROP--@example.com") == "'x\\'); DROP--@example.com'"
    assert soql.quote("a\\b@example.com") == "'a\\\\b@example.com'"
    assert soql.quote("a\\'b") == "'a\\\\\\'b'"


@pytest.mark.parametrize(
    "value", ["o'brien@example.com", "x'); DROP--@example.com", "back\\slash@example.com", "\\'@x.io", "'"]
)
def test_quoted_literals_parse_back_to_the_same_value(value: str) -> None:
    query = parse_soql(soql.select_where_equals("Contact", ["Id"], "Email", value))
    assert query.values == [value]
    assert query.where_field == "Email"


def test_unescaped_injection_is_malformed_for_the_fake() -> None:
    # Proves the fake is strict enough that a connector forgetting to escape would fail loudly.
    with pytest.raises(SOQLSyntaxError) as info:
        parse_soql("SELECT Id FROM Contact WHERE Email = 'x'); DROP--@example.com'")
    assert info.value.code == "MALFORMED_QUERY"


@pytest.mark.parametrize("name", ["Email", "FirstName", "My_Field__c", "ns__Score__c", "Contact", "Case"])
def test_identifier_accepts_api_names(name: str) -> None:
    assert soql.identifier(name) == name


@pytest.mark.parametrize(
    "name", ["", "Email; DROP", "Email WHERE", "a b", "Email--", "1Field", "Email'", "Account.Name", "x" * 81]
)
def test_identifier_refuses_anything_else(name: str) -> None:
    with pytest.raises(soql.SOQLError):
        soql.identifier(name)


def test_config_refuses_an_object_or_field_name_that_is_not_an_api_name(fake: FakeSalesforce) -> None:
    base = {"instance_url": fake.url, "access_token": fake.token}
    with pytest.raises(ConfigError):
        SalesforceConnector(
            {**base, "objects": [{"name": "Contact WHERE Id != null", "fields": ["Email"]}]},
            outbound_allow=LOCAL_FAKES,
        )
    with pytest.raises(ConfigError):
        SalesforceConnector(
            {**base, "objects": [{"name": "Contact", "fields": ["Email, (SELECT Id FROM Cases)"]}]},
            outbound_allow=LOCAL_FAKES,
        )
    with pytest.raises(ConfigError):
        SalesforceConnector({**base, "api_version": "62.0/../../x"}, outbound_allow=LOCAL_FAKES)
    with pytest.raises(ConfigError):
        SalesforceConnector(
            {**base, "instance_url": "https://acme.my.salesforce.com/services/data"},
            outbound_allow=LOCAL_FAKES,
        )


# -- escaping over HTTP ------------------------------------------------------------------------------
def test_apostrophe_email_is_found_exactly(fake: FakeSalesforce, sf: SalesforceConnector) -> None:
    fake.add("Contact", Email="O'Brien@Example.com", LastName="OBrien", Title="MARK-OBRIEN")
    fake.add("Contact", Email="obrien@example.com", LastName="Decoy", Title="MARK-DECOY")
    records = list(sf.access(Subject.create(email="o'brien@example.com")))
    assert [r.data["Title"] for r in records] == ["MARK-OBRIEN"]
    sent = query_params(fake.requests_to("GET", r"/query$")[0])["q"]
    assert "WHERE Email = 'o\\'brien@example.com'" in sent


def test_injection_attempt_is_a_plain_value(fake: FakeSalesforce, sf: SalesforceConnector) -> None:
    fake.add("Contact", Email="victim@example.com", LastName="Victim", Title="MARK-VICTIM")
    hostile = Subject.create(email="x'); DROP--@example.com")
    assert list(sf.access(hostile)) == []  # no MALFORMED_QUERY, no other record
    assert sf.erase(hostile) == ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
    fake.add("Lead", Email="x'); DROP--@example.com", LastName="Odd", Title="MARK-ODD")
    assert [r.data["Title"] for r in sf.access(hostile)] == ["MARK-ODD"]
    assert len(fake.live()) == 2
    assert fake.mutation_count == 0


# -- paging, batching, errors ------------------------------------------------------------------------
def test_follows_next_records_url_without_parameters(fake: FakeSalesforce, sf: SalesforceConnector) -> None:
    for i in range(5):
        fake.add("Contact", Email="many@example.com", LastName=f"M{i}")
    records = list(sf.access(Subject.create(email="many@example.com")))
    assert len([r for r in records if r.category == "Contact"]) == 5
    more = fake.requests_to("GET", r"/query/01g")
    assert len(more) == 2
    assert all("?" not in r.raw_path for r in more)


def test_erase_deletes_in_batches_of_200_with_all_or_none_false(
    fake: FakeSalesforce, sf: SalesforceConnector
) -> None:
    fake.page_size = 500
    ids = {fake.add("Contact", Email="bulk@example.com", LastName=f"B{i}") for i in range(205)}
    decoy = fake.add("Contact", Email="bulk+1@example.com", LastName="Decoy")
    result = sf.erase(Subject.create(email="bulk@example.com"))
    assert isinstance(result, ErasureResult)
    assert (result.found, result.erased, result.method) == (205, 205, ErasureMethod.DELETED)
    assert dict(result.per_category) == {"Contact": 205}
    deletes = fake.requests_to("DELETE", r"/composite/sobjects$")
    batches = [query_params(r)["ids"].split(",") for r in deletes]
    assert [len(b) for b in batches] == [200, 5]
    assert {i for b in batches for i in b} == ids
    assert all(query_params(r)["allOrNone"] == "false" for r in deletes)
    assert [r.id for r in fake.live()] == [decoy]


def test_deleted_records_go_to_the_recycle_bin(fake: FakeSalesforce, sf: SalesforceConnector) -> None:
    contact = fake.add("Contact", Email="bin@example.com", LastName="Bin")
    result = sf.erase(Subject.create(email="bin@example.com"))
    assert isinstance(result, ErasureResult)
    assert "Recycle Bin" in result.notes
    assert "15 days" in result.notes
    assert [r.id for r in fake.recycle_bin()] == [contact]


def test_already_deleted_record_counts_as_erased(fake: FakeSalesforce, sf: SalesforceConnector) -> None:
    contact = fake.add("Contact", Email="gone@example.com", LastName="Gone")
    fake.records[contact].deleted = True  # deleted by someone else between our query and delete
    assert sf._delete_batch([contact]) == [None]


def test_row_lock_is_transient_and_other_failures_permanent(
    fake: FakeSalesforce, sf: SalesforceConnector
) -> None:
    subject = Subject.create(email="locked@example.com")
    locked = fake.add("Contact", Email="locked@example.com", LastName="L")
    free = fake.add("Lead", Email="locked@example.com", LastName="F")
    fake.locked_ids.add(locked)
    with pytest.raises(TransientError, match="UNABLE_TO_LOCK_ROW"):
        sf.erase(subject)
    assert [r.id for r in fake.live()] == [locked]  # allOrNone=false: the other record went
    assert fake.records[free].deleted
    fake.locked_ids.clear()
    fake.protected_ids.add(locked)
    with pytest.raises(PermanentError, match="DELETE_FAILED") as info:
        sf.erase(subject)
    assert not isinstance(info.value, TransientError)


def test_sforce_limit_info_is_read_and_exhausted_allocation_is_rate_limited(fake: FakeSalesforce) -> None:
    fake.api_limit = 4
    with SalesforceBackend(fake).make_connector() as connector:
        subject = Subject.create(email="someone@example.com")
        list(connector.access(subject))  # Contact + Lead queries
        assert connector.api_usage == (2, 4)
        assert connector.check().ok  # one probe query per configured object
        assert connector.api_usage == (4, 4)
        with pytest.raises(RateLimited) as info:
            list(connector.access(subject))
    assert info.value.retry_after == 3600.0


def test_bearer_token_is_sent_and_version_pinned(fake: FakeSalesforce, sf: SalesforceConnector) -> None:
    list(sf.access(Subject.create(email="a@example.com")))
    request = fake.requests[0]
    assert request.header("authorization") == f"Bearer {fake.token}"
    assert request.path.startswith("/services/data/v62.0/query")


def test_objects_marked_keep_are_reported_but_not_deleted(fake: FakeSalesforce) -> None:
    case = fake.add("Case", SuppliedEmail="Case.Person@example.com", Subject="Refund", Status="Closed")
    contact = fake.add("Contact", Email="case.person@example.com", LastName="C")
    config = {
        "instance_url": fake.url,
        "access_token": fake.token,
        "objects": [
            {"name": "Contact", "fields": ["LastName"]},
            {"name": "Case", "email_field": "SuppliedEmail", "fields": ["Subject", "Status"], "erase": False},
        ],
    }
    with SalesforceConnector(config, outbound_allow=LOCAL_FAKES) as connector:
        subject = Subject.create(email="case.person@example.com")
        assert {r.record_id for r in connector.access(subject)} == {case, contact}
        result = connector.erase(subject)
    assert isinstance(result, ErasureResult)
    assert result.erased == 1
    assert [r.id for r in fake.live()] == [case]


def test_registered_as_a_builtin() -> None:
    assert BUILTINS["salesforce"] == "connectors.salesforce.connector:SalesforceConnector"
    assert validate(SalesforceConnector) == []
