"""Finding 5 (issue 10): the portal had per-IP limits only. After the API refused an address, the
portal still created requests for it from other IPs, sent it codes and checked wrong codes; a burst
of concurrent requests overshot a limit of 60 by half. Now one limiter (``dsr.ratelimit``) counts
for every surface, per client IP (``DSR_NUM_PROXIES``, IPv6 per /64) and per e-mail address,
incrementing before it compares."""

from __future__ import annotations

import collections
import concurrent.futures
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests as http
from django.test import Client
from rest_framework.test import APIClient

from dsr.identity.models import VerificationChallenge
from dsr.notifications.services import download_token
from dsr.workflow.models import DataSubjectRequest
from tests.exports.conftest import TARGET_RECORDS, answer, shop_system  # noqa: F401  (fixtures)
from tests.security.conftest import create, last_code_for
from tests.security.test_deploy import production_env, run

pytestmark = pytest.mark.django_db
REDIS_CACHE = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture
def behind_one_proxy(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DSR_NUM_PROXIES = 1


def portal(ip: str) -> Client:
    """A browser whose requests reach the app through the one trusted proxy, from ``ip``."""
    return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=ip)


def test_an_address_the_api_refused_is_refused_by_the_portal_from_any_ip(
    api: APIClient, rates, behind_one_proxy
) -> None:
    rates(create_email="2/hour")
    answers = [create(api, "victim@example.com", ip=f"192.0.2.{n}").status_code for n in range(3)]
    assert answers == [201, 201, 429]

    for n in range(5):
        refused = portal(f"198.51.100.{n}").post("/rights/US-CA/erasure/", {"email": "Victim@Example.com"})
        assert refused.status_code == 429
        assert "Too many attempts" in refused.content.decode()
    assert DataSubjectRequest.objects.count() == 2
    # Another address from the same IPs is not affected.
    assert (
        portal("198.51.100.0").post("/rights/US-CA/erasure/", {"email": "else@example.com"}).status_code
        == 302
    )


def test_after_the_api_refused_codes_for_an_address_the_portal_neither_checks_nor_sends_them(
    api: APIClient, rates, behind_one_proxy, settings
) -> None:
    settings.DSR_CODE_RESEND_INTERVAL = settings.DSR_CODE_TTL * 0
    rates(verify_email="3/hour")
    request_id = create(api, "target@example.com").json()["id"]
    code = last_code_for("target@example.com")
    answers = [
        api.post(
            f"/api/v1/requests/{request_id}/verify",
            {"code": "000000"},
            format="json",
            REMOTE_ADDR=f"192.0.2.{n}",
        ).status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]
    sends = VerificationChallenge.objects.get(request_id=request_id).sends

    check = portal("203.0.113.80").post(f"/requests/{request_id}/verify/", {"action": "verify", "code": code})
    resend = portal("203.0.113.81").post(f"/requests/{request_id}/verify/", {"action": "resend"})

    assert (check.status_code, resend.status_code) == (429, 429)
    challenge = VerificationChallenge.objects.get(request_id=request_id)
    assert (challenge.attempts, challenge.sends, challenge.consumed_at) == (3, sends, None)


def test_the_client_ip_is_the_proxys_last_entry_and_a_forged_one_to_its_left_does_not_help(
    rates, behind_one_proxy
) -> None:
    rates(create_ip="2/hour")

    def submit(forwarded: str, n: int) -> int:
        return (
            Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
            .post("/rights/DE/erasure/", {"email": f"p{n}@example.com"})
            .status_code
        )

    # The client forges the left entries; the proxy appends the address it really saw.
    answers = [submit(f"10.9.9.{n}, 198.51.100.7", n) for n in range(3)]
    assert answers == [302, 302, 429]
    assert submit("198.51.100.8", 9) == 302


def test_without_a_trusted_proxy_the_forwarded_for_header_is_ignored(rates) -> None:
    rates(create_ip="2/hour")
    answers = [
        Client(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        .post("/rights/DE/erasure/", {"email": f"q{n}@example.com"})
        .status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]


def test_ipv6_clients_are_counted_per_64_block(rates) -> None:
    rates(create_ip="2/hour")

    def submit(ip: str, n: int) -> int:
        return Client(REMOTE_ADDR=ip).post("/rights/DE/erasure/", {"email": f"v{n}@example.com"}).status_code

    same_block = [submit(f"2001:db8:1:2::{n:x}", n) for n in range(1, 4)]
    assert same_block == [302, 302, 429]
    assert submit("2001:db8:1:2:ffff:ffff:ffff:ffff", 7) == 429
    assert submit("2001:db8:1:3::1", 8) == 302  # the next /64 is another subscriber


def test_the_download_page_counts_with_the_code_endpoints_per_address(
    answer: Any,  # noqa: F811  (the fixture imported above)
    shop_system: Any,  # noqa: F811
    rates,
    behind_one_proxy,
) -> None:
    rates(verify_email="2/hour")
    answered = answer({shop_system: TARGET_RECORDS})
    url, token = f"/requests/{answered.request.pk}/download", download_token(request=answered.request)
    sent = portal("192.0.2.1").post(url, {"token": token, "action": "send"})
    wrong = portal("192.0.2.2").post(url, {"token": token, "action": "download", "code": "000000"})
    assert (sent.status_code, wrong.status_code) == (200, 400)

    # From a third IP, and through the API: the address used up its allowance on the page.
    again = portal("192.0.2.3").post(url, {"token": token, "action": "send"})
    api_code = APIClient().post(
        f"/api/v1/requests/{answered.request.pk}/download-code",
        {"token": token},
        format="json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.4",
    )
    assert (again.status_code, api_code.status_code) == (429, 429)
    assert "Too many attempts" in again.content.decode()


@pytest.fixture
def redis_cache(settings) -> None:  # type: ignore[no-untyped-def]
    """The cache of production: Redis (this helper's database), under a prefix of its own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_200_concurrent_requests_passes_a_limit_of_60_exactly_60_times(
    live_server: Any, redis_cache: None, rates
) -> None:
    rates(create_ip="60/hour")

    def post(_: int) -> int:
        # Invalid input (no e-mail address): the limiter runs first, and nothing is written.
        return http.post(
            f"{live_server.url}/api/v1/requests", json={"type": "erasure"}, timeout=60
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(200)))

    counts = collections.Counter(answers)
    assert (counts[400], counts[429], len(answers)) == (60, 140, 200), counts


def test_check_deploy_warns_when_production_counts_in_a_cache_of_its_own(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    for cache_url, expected in [("locmemcache://", "dsr.W111"), ("dummycache://", "dsr.W111")]:
        result = run(
            ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {**env, "CACHE_URL": cache_url}
        )
        assert result.returncode == 1
        assert expected in result.stderr + result.stdout
        assert "is not shared between processes" in result.stderr + result.stdout
    shared = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert shared.returncode == 0, shared.stderr
