"""The manual hand-off connector, SDK side: pure Python, no Django, no one contacted (the platform's
side, the task it opens, is tested in tests/tasks/)."""

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
from connectors.manual.tests import MANUAL_CONFIG
from connectors.vendor_email import VendorEmailConnector

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


def test_check_explains_who_gets_the_task_and_when_it_is_due() -> None:
    assert ManualConnector(MANUAL_CONFIG).check().message == (
        "tasks are assigned to no one yet (unassigned) and due within 7 days"
    )
