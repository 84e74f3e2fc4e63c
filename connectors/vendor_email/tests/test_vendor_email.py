"""The processor e-mail hand-off connector, SDK side: pure Python, no Django, no e-mail sent (the
platform's side, the instruction e-mail and the confirmation link, is tested in tests/tasks/)."""

from __future__ import annotations

import pytest

from connectors import Capability, ConfigError, Subject
from connectors.vendor_email import VendorEmailConnector
from connectors.vendor_email.tests import VENDOR_CONFIG

JANE = Subject.create(email="Jane.Doe@Example.com", full_name="Jane Doe", reference="DSR-ABC123")


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


def test_a_processor_address_must_be_one_plain_address() -> None:
    with pytest.raises(ConfigError) as info:
        VendorEmailConnector({**VENDOR_CONFIG, "processor_email": "a@x.example, b@y.example"})
    assert str(info.value) == (
        "invalid vendor_email config: processor_email: "
        "Value error, must be one e-mail address, e.g. privacy@processor.example"
    )


def test_check_explains_where_the_instruction_goes() -> None:
    assert VendorEmailConnector(VENDOR_CONFIG).check().message == (
        "instructions go to Parcel Co <privacy@parcel.example>; confirmation links stay valid 14 days"
    )
