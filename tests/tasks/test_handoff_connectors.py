"""The SDK side of the hand-off connectors: pure Python, no Django, no one contacted."""

from __future__ import annotations

import json

import pytest

from connectors import (
    Capability,
    ConfigError,
    ErasureMethod,
    ErasureResult,
    JobHandle,
    PermanentError,
    Subject,
    registry,
)
from connectors.manual import ManualConnector, handoff_kind, is_handoff
from connectors.vendor_email import VendorEmailConnector
from tests.tasks.conftest import MANUAL_CONFIG, VENDOR_CONFIG

JANE = Subject.create(email="Jane.Doe@Example.com", full_name="Jane Doe", reference="DSR-ABC123")


def test_both_hand_off_connectors_are_registered_builtins_that_pass_validation() -> None:
    assert registry.get("manual") is ManualConnector
    assert registry.get("vendor_email") is VendorEmailConnector
    assert registry.validate(ManualConnector) == []
    assert registry.validate(VendorEmailConnector) == []
    assert ManualConnector.capabilities == {Capability.ACCESS, Capability.ERASE}


def test_a_manual_erasure_returns_a_storable_hand_off_handle_without_the_subjects_identity() -> None:
    handle = ManualConnector({**MANUAL_CONFIG, "assignee": "dana"}).erase(JANE)

    assert isinstance(handle, JobHandle)
    assert handle.to_dict() == {
        "id": "manual-erase-DSR-ABC123",
        "poll_after": 3600.0,
        "data": {
            "handoff": "manual",
            "action": "erase",
            "due_days": "7",
            "instructions": "Search the signed paper contracts in archive room 3",
            "assignee": "dana",
        },
    }
    assert "jane" not in json.dumps(handle.to_dict()).lower()
    assert is_handoff(handle)
    assert handoff_kind(handle) == "manual"
    assert not is_handoff(JobHandle(id="vendor-job-1"))


def test_the_same_request_always_gets_the_same_handle_so_a_retry_finds_its_task() -> None:
    connector = ManualConnector(MANUAL_CONFIG)
    assert connector.handoff(JANE, Capability.ACCESS) == connector.handoff(JANE, Capability.ACCESS)


def test_outside_the_platform_poll_keeps_waiting_and_access_refuses_rather_than_claim_no_data() -> None:
    connector = ManualConnector(MANUAL_CONFIG)
    handle = connector.handoff(JANE, Capability.ERASE)
    assert connector.poll(handle) is handle
    with pytest.raises(PermanentError, match="a person collects this data"):
        list(connector.access(JANE))


def test_a_dry_run_asks_nobody_and_reports_nothing_erased() -> None:
    result = ManualConnector(MANUAL_CONFIG, dry_run=True).erase(JANE)
    assert result == ErasureResult(
        found=0,
        erased=0,
        method=ErasureMethod.NONE,
        dry_run=True,
        notes="dry run (Manual task): no task was opened and nobody was contacted",
    )


def test_the_vendor_handle_carries_what_the_platform_needs_to_write_the_instruction() -> None:
    handle = VendorEmailConnector(VENDOR_CONFIG).handoff(JANE, Capability.ERASE)
    assert dict(handle.data) == {
        "handoff": "vendor_email",
        "action": "erase",
        "due_days": "10",
        "processor_name": "Parcel Co",
        "processor_email": "privacy@parcel.example",
        "controller_name": "Shop GmbH",
        "link_valid_days": "14",
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"instructions": ""},
            "invalid manual config: instructions: String should have at least 1 character",
        ),
        (
            {**MANUAL_CONFIG, "due_days": 0},
            "invalid manual config: due_days: Input should be greater than or equal to 1",
        ),
        ({**MANUAL_CONFIG, "assigne": "x"}, "invalid manual config: assigne: Extra inputs are not permitted"),
    ],
)
def test_a_bad_manual_config_is_refused_with_a_readable_message(
    config: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        ManualConnector(config)
    assert str(info.value) == message


def test_a_processor_address_must_be_one_plain_address() -> None:
    with pytest.raises(ConfigError) as info:
        VendorEmailConnector({**VENDOR_CONFIG, "processor_email": "a@x.example, b@y.example"})
    assert str(info.value) == (
        "invalid vendor_email config: processor_email: "
        "Value error, must be one e-mail address, e.g. privacy@processor.example"
    )


def test_check_explains_where_the_work_goes() -> None:
    assert ManualConnector(MANUAL_CONFIG).check().message == (
        "tasks are assigned to no one yet (unassigned) and due within 7 days"
    )
    assert VendorEmailConnector(VENDOR_CONFIG).check().message == (
        "instructions go to Parcel Co <privacy@parcel.example>; confirmation links stay valid 14 days"
    )
