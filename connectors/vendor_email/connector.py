"""Processor e-mail connector (``vendor_email``): instruct a processor by e-mail, wait for its confirmation.

GDPR Art. 19 and Art. 28(3)(e) (the processor assists with data-subject rights) and CCPA
11 CCR §7022(b)(2)-(3) (notify service providers and contractors to delete) require the controller
to pass erasures on to the processors that hold the data. This connector does not send anything
itself (the SDK has no mail server): its handle tells the platform to e-mail ``processor_email`` a
signed instruction with an expiring confirmation link, and the job waits until the processor
confirms with counts and a note. See README.md.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, field_validator

from connectors.base import Capability
from connectors.handoff import HandoffConfig, HandoffConnector
from connectors.types import CheckResult

# One address, no display name: the platform addresses the message itself.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class VendorEmailConfig(HandoffConfig):
    processor_name: str = Field(min_length=1, max_length=200, description="The processor's legal name.")
    processor_email: str = Field(description="Where instructions go, e.g. privacy@processor.example.")
    controller_name: str = Field(
        default="", max_length=200, description="Who gives the instruction; empty: the sender's name."
    )
    link_valid_days: int = Field(
        default=14, ge=1, le=60, description="Days the confirmation link in the e-mail stays valid."
    )
    due_days: int = Field(default=10, ge=1, le=90, description="Days the processor has to confirm.")

    @field_validator("processor_email")
    @classmethod
    def _one_address(cls, value: str) -> str:
        value = value.strip()
        if not _ADDRESS.fullmatch(value):
            raise ValueError("must be one e-mail address, e.g. privacy@processor.example")
        return value


class VendorEmailConnector(HandoffConnector):
    key = "vendor_email"
    label = "Processor instruction by e-mail"
    category = "processor"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    Config = VendorEmailConfig
    config: VendorEmailConfig

    def check(self) -> CheckResult:
        return CheckResult(
            ok=True,
            message=f"instructions go to {self.config.processor_name} <{self.config.processor_email}>; "
            f"confirmation links stay valid {self.config.link_valid_days} days",
        )

    def handoff_data(self, action: Capability) -> dict[str, str]:
        return {
            "processor_name": self.config.processor_name,
            "processor_email": self.config.processor_email,
            "controller_name": self.config.controller_name,
            "link_valid_days": str(self.config.link_valid_days),
        }
