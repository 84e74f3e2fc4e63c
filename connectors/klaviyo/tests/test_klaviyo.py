"""Klaviyo connector: the conformance kit plus the asynchronous deletion job (handle -> poll)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors import ConfigError
from connectors.errors import PermanentError
from connectors.klaviyo.connector import KlaviyoConnector, filter_string
from connectors.klaviyo.fake import FakeKlaviyo
from connectors.klaviyo.tests.backend import KlaviyoBackend
from connectors.registry import BUILTINS, validate
from connectors.testing import LOCAL_FAKES, STANDARD
from connectors.types import ErasureMethod, ErasureResult, JobHandle


def roundtrip(handle: JobHandle) -> JobHandle:
    """What the platform does: store the handle as JSON, read it back later in another worker."""
    return JobHandle.from_dict(json.loads(json.dumps(handle.to_dict())))


# -- the asynchronous job ---------------------------------------------------------------------------
def test_handle_then_poll_then_completion_with_exactly_one_vendor_job(
    fake: FakeKlaviyo, backend_: KlaviyoBackend
) -> None:
    backend_.seed(STANDARD.records)
    with backend_.make_connector() as connector:
        handle = connector.erase(STANDARD.target)
    assert isinstance(handle, JobHandle), "erase must return the handle before the job completes"
    assert handle.poll_after == 300.0
    assert len(fake.jobs) == 1
    assert fake.pending_jobs == fake.jobs
    assert (fake.jobs[0].kind, fake.jobs[0].value) == ("email", "jane.doe@example.com")
    assert len(fake.profiles) == 6, "nothing is deleted until the vendor runs the job"
    assert "@" not in json.dumps(handle.to_dict()), "the stored handle carries profile ids, not the email"

    with backend_.make_connector() as worker:  # still running: the same handle comes back
        again = worker.poll(roundtrip(handle))
    assert isinstance(again, JobHandle)
    assert again.id == handle.id

    fake.advance()
    fake.advance()  # the vendor finishes the job
    with backend_.make_connector() as worker:
        result = worker.poll(roundtrip(again))
    assert isinstance(result, ErasureResult)
    assert (result.found, result.erased, result.method) == (2, 2, ErasureMethod.DELETED)
    assert dict(result.per_category) == {"profile": 2}
    assert not result.dry_run
    assert "Deleted Profiles" in result.notes
    assert len(fake.jobs) == 1
    assert fake.mutation_count == 1
    assert sorted(p["email"] for p in fake.deleted_profiles) == [
        "Jane.Doe@Example.COM",
        "jane.doe@example.com",
    ]
    assert len(fake.profiles) == 4  # the decoys

    with backend_.make_connector() as worker:  # polling a finished job is harmless
        assert isinstance(worker.poll(roundtrip(handle)), ErasureResult)
    assert fake.mutation_count == 1


def test_deletion_job_request_matches_the_documented_shape(
    fake: FakeKlaviyo, backend_: KlaviyoBackend
) -> None:
    fake.add_profile("jane.doe@example.com")
    with backend_.make_connector() as connector:
        connector.erase(STANDARD.target)
    (post,) = fake.requests_to("POST", r"^/api/data-privacy-deletion-jobs$")
    assert post.json() == {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": {"email": "jane.doe@example.com"}}}
            },
        }
    }
    assert post.header("content-type") == "application/vnd.api+json"
    for request in fake.requests:
        assert request.header("authorization") == f"Klaviyo-API-Key {fake.key}"
        assert request.header("revision") == "2024-10-15"


def test_lookup_uses_the_equals_filter_and_page_cursor(fake: FakeKlaviyo, backend_: KlaviyoBackend) -> None:
    for _ in range(3):
        fake.add_profile("jane.doe@example.com")
    with backend_.make_connector() as connector:
        assert len(list(connector.access(STANDARD.target))) == 3
    first, second = fake.requests_to("GET", r"^/api/profiles$")
    assert first.arg("filter") == 'equals(email,"jane.doe@example.com")'
    assert first.arg("page[size]") == "2"
    assert second.arg("page[cursor]")


def test_dry_run_submits_no_job(fake: FakeKlaviyo, backend_: KlaviyoBackend) -> None:
    fake.add_profile("jane.doe@example.com")
    with backend_.make_connector(dry_run=True) as connector:
        result = connector.erase(STANDARD.target)
    assert isinstance(result, ErasureResult)
    assert result.dry_run
    assert result.method == ErasureMethod.QUEUED_AT_VENDOR
    assert fake.jobs == []
    assert fake.mutation_count == 0


def test_a_job_that_never_completes_fails_permanently_after_max_age(
    fake: FakeKlaviyo, backend_: KlaviyoBackend
) -> None:
    fake.add_profile("jane.doe@example.com")
    with backend_.make_connector() as connector:
        handle = connector.erase(STANDARD.target)
    assert isinstance(handle, JobHandle)
    old = (datetime.now(UTC) - timedelta(days=15)).isoformat()
    stale = JobHandle(id=handle.id, data={**handle.data, "submitted_at": old})
    with backend_.make_connector() as worker, pytest.raises(PermanentError, match="Deleted Profiles"):
        worker.poll(stale)
    assert len(fake.jobs) == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"profile_ids": "", "submitted_at": "2026-01-01T00:00:00+00:00"},
        {"profile_ids": 'a"]', "submitted_at": "2026-01-01T00:00:00+00:00"},
        {"profile_ids": "abc", "submitted_at": "x"},
    ],
)
def test_a_foreign_handle_is_refused(backend_: KlaviyoBackend, data: dict[str, str]) -> None:
    with backend_.make_connector() as worker, pytest.raises(PermanentError):
        worker.poll(JobHandle(id="x", data=data))


def test_filter_literal_refuses_quotes_and_backslashes() -> None:
    assert filter_string("o'brien@example.com") == '"o\'brien@example.com"'
    for hostile in ('a"b@example.com', "a\\b@example.com", 'x"),equals(id,"1'):
        with pytest.raises(PermanentError):
            filter_string(hostile)


def test_config_is_validated(backend_: KlaviyoBackend) -> None:
    with pytest.raises(ConfigError):
        KlaviyoConnector(backend_.config(revision="latest"), outbound_allow=LOCAL_FAKES)
    with pytest.raises(ConfigError):
        KlaviyoConnector(backend_.config(page_size=500), outbound_allow=LOCAL_FAKES)
    with pytest.raises(ConfigError):
        KlaviyoConnector(backend_.config(base_url="http://a.klaviyo.com"), outbound_allow=LOCAL_FAKES)


def test_registered_as_a_builtin() -> None:
    assert BUILTINS["klaviyo"] == "connectors.klaviyo.connector:KlaviyoConnector"
    assert validate(KlaviyoConnector) == []
