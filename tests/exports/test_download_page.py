"""The download page behind the completion e-mail: signed expiring link, fresh code, streamed zip."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.exports.models import AccessPackage
from dsr.notifications.services import download_token
from dsr.workflow.models import DataSubjectRequest, Status
from tests.exports.conftest import TARGET_RECORDS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch):
    """Run on_commit work (the outbox hands the code e-mail to the worker) at once: these tests
    run inside one transaction that never commits."""
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture
def answered(answer, shop_system):
    return answer({shop_system: TARGET_RECORDS})


def _url(answered) -> str:
    return f"/requests/{answered.request.pk}/download"


def _last_code() -> str:
    match = re.search(r"^\s*(\d{6})\s*$", mail.outbox[-1].body, re.M)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_link_opens_a_page_that_offers_to_send_a_code(client: Client, answered):
    response = client.get(_url(answered), {"token": download_token(request=answered.request)})
    assert response.status_code == 200
    assert "Send me a code" in _text(response)
    assert f"Your data for request {answered.request.reference} is ready." in _text(response)


def test_a_fresh_code_then_downloads_the_streamed_zip_counts_and_audits_it(client: Client, answered):
    token = download_token(request=answered.request)
    sent = client.post(_url(answered), {"token": token, "action": "send"})
    assert sent.status_code == 200
    assert mail.outbox[-1].subject == f"Your download code for request {answered.request.reference}"
    assert "Code from the e-mail" in _text(sent)

    response = client.post(_url(answered), {"token": token, "action": "download", "code": _last_code()})
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{answered.request.reference}.zip"'
    assert response["Cache-Control"] == "no-store, max-age=0, no-cache, must-revalidate, private"
    body = b"".join(response.streaming_content)
    assert response["Content-Length"] == str(len(body)) == str(answered.package.size)
    assert "index.html" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert AccessPackage.objects.get(pk=answered.package.pk).downloads == 1
    event = AuditEvent.objects.get(request_id=answered.request.pk, action="package.downloaded")
    assert event.actor == "subject"


def test_a_download_without_asking_for_a_fresh_code_is_refused_with_a_clear_page(client: Client, answered):
    token = download_token(request=answered.request)
    response = client.post(_url(answered), {"token": token, "action": "download", "code": "123456"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "There is a problem There is no code waiting for this request. Request a new code." in _text(
        response
    )
    assert not AuditEvent.objects.filter(action="package.downloaded").exists()


def test_a_wrong_code_is_refused_with_the_attempts_left(client: Client, answered):
    token = download_token(request=answered.request)
    client.post(_url(answered), {"token": token, "action": "send"})
    wrong = f"{(int(_last_code()) + 1) % 1_000_000:06d}"
    response = client.post(_url(answered), {"token": token, "action": "download", "code": wrong})
    assert response.status_code == 400
    assert "That code is not correct. 4 attempts left." in _text(response)
    assert AccessPackage.objects.get(pk=answered.package.pk).downloads == 0


def test_a_code_works_once(client: Client, answered):
    token = download_token(request=answered.request)
    client.post(_url(answered), {"token": token, "action": "send"})
    code = _last_code()
    assert (
        client.post(_url(answered), {"token": token, "action": "download", "code": code}).status_code == 200
    )
    again = client.post(_url(answered), {"token": token, "action": "download", "code": code})
    assert again.status_code == 400


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_refused_with_a_page_that_says_so(client: Client, answered, method):
    token = download_token(request=answered.request)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = getattr(client, method)(_url(answered), {"token": tampered, "action": "send"})
    assert response.status_code == 403
    assert "This download link does not work" in _text(response)
    assert "The link is incomplete or was changed." in _text(response)
    assert mail.outbox == []


def test_a_link_of_another_request_is_refused(client: Client, answer, shop_system):
    first = answer({shop_system: TARGET_RECORDS})
    second = answer({shop_system: TARGET_RECORDS}, email="other@example.com")
    response = client.get(_url(second), {"token": download_token(request=first.request)})
    assert response.status_code == 403


def test_an_expired_link_is_refused_with_a_page_that_says_so(client: Client, answered, settings):
    token = download_token(request=answered.request)
    settings.DSR_PACKAGE_TTL = timedelta(seconds=-1)  # every signature is now older than the TTL
    response = client.post(_url(answered), {"token": token, "action": "send"})
    assert response.status_code == 410
    assert "This download link has expired" in _text(response)
    assert mail.outbox == []


def test_an_expired_package_is_refused_even_with_a_valid_link_and_code(client: Client, answered):
    token = download_token(request=answered.request)
    client.post(_url(answered), {"token": token, "action": "send"})
    code = _last_code()
    AccessPackage.objects.filter(pk=answered.package.pk).update(expires_at=timezone.now())
    response = client.post(_url(answered), {"token": token, "action": "download", "code": code})
    assert response.status_code == 410
    assert "This download link has expired" in _text(response)


def test_a_purged_package_is_refused(client: Client, answered):
    AccessPackage.objects.filter(pk=answered.package.pk).update(purged_at=timezone.now())
    response = client.get(_url(answered), {"token": download_token(request=answered.request)})
    assert response.status_code == 410


def test_the_api_download_streams_the_same_package(api, answered):
    token = download_token(request=answered.request)
    url = f"/api/v1/requests/{answered.request.pk}"
    assert api.post(f"{url}/download-code", {"token": token}, format="json").status_code == 202
    response = api.post(f"{url}/download", {"token": token, "code": _last_code()}, format="json")
    assert response.status_code == 200
    assert response.streaming is True
    body = b"".join(response.streaming_content)
    assert sorted(zipfile.ZipFile(io.BytesIO(body)).namelist())[0] == "README.txt"


def test_the_api_refuses_a_download_code_for_an_expired_package(api, answered):
    AccessPackage.objects.filter(pk=answered.package.pk).update(expires_at=timezone.now())
    token = download_token(request=answered.request)
    response = api.post(
        f"/api/v1/requests/{answered.request.pk}/download-code", {"token": token}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "This download link is invalid or has expired.", "errors": {}}


def test_the_status_page_links_the_download_only_while_the_package_has_not_expired(client: Client, answered):
    from dsr.notifications.services import status_url

    DataSubjectRequest.objects.filter(pk=answered.request.pk).update(status=Status.COMPLETED)
    path = status_url(request=answered.request).removeprefix(settings.SITE_URL)
    assert f"/requests/{answered.request.pk}/download?token=" in client.get(path).content.decode()

    # Past its expiry and not yet purged (the purge runs later): the same answer as purged.
    AccessPackage.objects.filter(pk=answered.package.pk).update(expires_at=timezone.now())
    assert f"/requests/{answered.request.pk}/download" not in client.get(path).content.decode()


def test_the_dashboard_offers_the_package_only_while_it_has_not_expired(client: Client, answered):
    from tests.dashboard.conftest import make_staff, sign_in_verified

    staff = sign_in_verified(client, make_staff("agent"))
    page = f"/dashboard/requests/{answered.request.pk}/"
    link = f'href="/dashboard/requests/{answered.request.pk}/package/"'
    assert link in staff.get(page).content.decode()

    AccessPackage.objects.filter(pk=answered.package.pk).update(expires_at=timezone.now())
    assert link not in staff.get(page).content.decode()
    assert staff.get(f"/dashboard/requests/{answered.request.pk}/package/").status_code == 404
