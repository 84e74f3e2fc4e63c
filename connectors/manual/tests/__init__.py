"""Tests of the manual hand-off connector."""

#: A manual system's config, as the tests of the connector and of the platform's tasks use it.
MANUAL_CONFIG = {"instructions": "Search the signed paper contracts in archive room 3", "due_days": 7}
