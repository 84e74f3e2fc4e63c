"""Tests of the processor e-mail hand-off connector."""

#: A processor e-mail system's config, as the tests of the connector and of the platform's tasks use it.
VENDOR_CONFIG = {
    "processor_name": "Parcel Co",
    "processor_email": "privacy@parcel.example",
    "controller_name": "Shop GmbH",
    "link_valid_days": 14,
    "due_days": 10,
}
