"""connectors.outbound: a connector calls only the hosts it declares, unless the operator allows more;
declared names resolving to loopback or private addresses are refused too (DNS tricks)."""

from __future__ import annotations

import pytest

from connectors.errors import PermanentError
from connectors.http import HttpClient
from connectors.hubspot import HubSpotConnector
from connectors.outbound import HostPolicy, OutboundRefused, parse_allow_hosts
from connectors.salesforce.connector import SalesforceConnector
from connectors.testing.server import FakeServer, json_response, serve
from connectors.types import Subject

SALESFORCE = ("*.my.salesforce.com",)


def policy(*hosts: str, allow: str = "", dns: dict[str, list[str]] | None = None) -> HostPolicy:
    table = dns or {}
    return HostPolicy(
        hosts=hosts,
        allow=parse_allow_hosts(allow),
        vendor="acme",
        resolve=lambda host, port: table.get(host, []),
    )


def refusal(p: HostPolicy, url: str) -> str:
    with pytest.raises(OutboundRefused) as info:
        p.check(url)
    assert isinstance(info.value, PermanentError)  # the job fails at once, no retries
    return str(info.value)


def test_a_declared_host_with_public_addresses_is_allowed() -> None:
    policy("api.hubapi.com", dns={"api.hubapi.com": ["104.16.0.1"]}).check("https://api.hubapi.com/crm")


@pytest.mark.parametrize("host", ["acme.my.salesforce.com", "acme--dev.sandbox.my.salesforce.com"])
def test_a_wildcard_matches_subdomains(host: str) -> None:
    policy(*SALESFORCE, dns={host: ["13.108.0.1"]}).check(f"https://{host}/services")


@pytest.mark.parametrize(
    "host",
    ["my.salesforce.com", "evilmy.salesforce.com", "acme.my.salesforce.com.evil.example", "evil.example"],
)
def test_a_host_outside_the_declared_patterns_is_refused(host: str) -> None:
    assert refusal(policy(*SALESFORCE), f"https://{host}/x") == (
        f"acme: refused a request to {host}: not a host this connector may call (declared: "
        "*.my.salesforce.com); an operator can allow it with DSR_OUTBOUND_ALLOW_HOSTS"
    )


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.9", "::1", "fd00::1"]
)
def test_a_declared_name_resolving_to_a_private_address_is_refused(address: str) -> None:
    p = policy("api.hubapi.com", dns={"api.hubapi.com": ["104.16.0.1", address]})
    assert refusal(p, "https://api.hubapi.com/crm") == (
        f"acme: refused a request to api.hubapi.com: it resolves to a loopback or private address "
        f"({address}); an operator can allow it with DSR_OUTBOUND_ALLOW_HOSTS"
    )


def test_an_allowed_range_admits_a_private_address_of_a_declared_name() -> None:
    policy("api.hubapi.com", allow="10.0.0.0/8", dns={"api.hubapi.com": ["10.1.2.3"]}).check(
        "https://api.hubapi.com"
    )


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/", "http://[::1]:8080/", "http://[::ffff:127.0.0.1]:80/", "http://localhost:9/"],
)
def test_loopback_urls_are_refused_by_default(url: str) -> None:
    assert "not a host this connector may call" in refusal(policy("api.hubapi.com"), url)


def test_the_operator_allow_list_takes_names_host_ports_and_ranges() -> None:
    p = policy(allow="localhost, 127.0.0.1:8025, 10.0.0.0/8, [::1]:9000")
    p.check("http://localhost:1234/")
    p.check("http://127.0.0.1:8025/")
    p.check("http://10.9.9.9/")
    p.check("http://[::1]:9000/")
    assert "not a host" in refusal(p, "http://127.0.0.1:8026/")
    assert "not a host" in refusal(p, "http://[::1]:9001/")


@pytest.mark.parametrize("entry", ["host:port", "a b", "127.0.0.1:99999"])
def test_an_unreadable_allow_entry_is_an_error(entry: str) -> None:
    with pytest.raises(ValueError, match="DSR_OUTBOUND_ALLOW_HOSTS"):
        parse_allow_hosts(entry)


def test_an_http_client_without_a_policy_sends_nothing_anywhere() -> None:
    with serve(FakeServer()) as server:
        client = HttpClient(server.url, vendor="acme", timeout=1)
        with client, pytest.raises(OutboundRefused, match=r"refused a request to 127\.0\.0\.1"):
            client.get("/anything")
        assert server.requests == []


def test_a_connector_built_without_the_allow_list_refuses_its_local_fake() -> None:
    with serve(FakeServer()) as server:
        with HubSpotConnector({"access_token": "t", "base_url": server.url}) as connector:
            assert not connector.check().ok
            with pytest.raises(OutboundRefused):
                list(connector.access(Subject.create(email="jane@example.com")))
        assert server.requests == []


def test_connectors_declare_their_vendor_hosts() -> None:
    assert HubSpotConnector.allowed_hosts == ("api.hubapi.com", "api-eu1.hubapi.com")
    assert SalesforceConnector.allowed_hosts == SALESFORCE
    # What the platform checks when a config is applied: base_url, or Salesforce's instance_url.
    hubspot = HubSpotConnector.Config.model_validate(
        {"access_token": "t", "base_url": "https://evil.example"}
    )
    assert HubSpotConnector.configured_urls(hubspot) == ["https://evil.example"]
    salesforce = SalesforceConnector.Config.model_validate(
        {"access_token": "t", "instance_url": "https://acme.my.salesforce.com"}
    )
    assert SalesforceConnector.configured_urls(salesforce) == ["https://acme.my.salesforce.com"]


def test_the_connection_goes_to_the_checked_address_and_a_rebound_answer_is_refused() -> None:
    answers = {"api.vendor.test": ["127.0.0.1"]}
    pinned = HostPolicy(
        hosts=("api.vendor.test",),
        allow=parse_allow_hosts("127.0.0.0/8"),  # a range, not the name: the name is resolved and checked
        vendor="acme",
        resolve=lambda host, port: answers.get(host, []),
    )
    server = FakeServer()
    server.add_route("GET", "/ping", lambda req: json_response({"ok": True}))
    with (
        serve(server),
        HttpClient(f"http://api.vendor.test:{server.port}", vendor="acme", timeout=1, policy=pinned) as c,
    ):
        # api.vendor.test does not exist in DNS: the request reached the fake only through the pin.
        assert c.get_json("/ping") == {"ok": True}
        assert server.requests[0].headers["host"] == f"api.vendor.test:{server.port}"
        answers["api.vendor.test"] = ["10.0.0.7"]  # the next answer points inside the network
        with pytest.raises(
            OutboundRefused, match=r"resolves to a loopback or private address \(10\.0\.0\.7\)"
        ):
            c.get("/ping")
    assert len(server.requests) == 1
