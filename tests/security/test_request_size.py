"""Request bodies are capped (dsr/bodylimit.py): an oversized body is refused with 413 before a
byte of it is read, with a JSON message from the API and a page on the portal."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from dsr.workflow.models import DataSubjectRequest

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BOUNDARY = "dsrboundary"


class UnreadableBody:
    """A ``wsgi.input`` that fails the test if anything reads it: a 200 MB body that is never sent."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the body of an oversized request was read")

    readline = read


def multipart(fields: dict[str, str], *, extra_part: bytes) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="extra"; filename="x.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + extra_part
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


CREATE = {"type": "erasure", "email": "jane@example.com", "jurisdiction": "DE"}


def test_a_200_mb_multipart_body_to_the_public_create_endpoint_is_refused_unread(api: APIClient):
    response = api.generic(
        "POST",
        "/api/v1/requests",
        b"",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(200 * MB),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request is too large: at most 12 MB can be sent.", "errors": {}}
    assert DataSubjectRequest.objects.count() == 0


def test_a_multipart_body_just_over_the_cap_is_refused_and_one_under_it_reaches_the_parser(
    api: APIClient, settings
):
    settings.DSR_MAX_REQUEST_BYTES = 2 * MB
    over = multipart(CREATE, extra_part=b"0" * (2 * MB))
    response = api.generic(
        "POST", "/api/v1/requests", over, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request is too large: at most 2 MB can be sent.", "errors": {}}
    assert DataSubjectRequest.objects.count() == 0

    under = multipart(CREATE, extra_part=b"0" * MB)
    response = api.generic(
        "POST", "/api/v1/requests", under, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    # Under the cap the body is read: the public API takes JSON only, so its parser answers 415.
    assert response.status_code == 415, response.content
    assert response.json()["detail"].startswith("Unsupported media type")
    assert DataSubjectRequest.objects.count() == 0


def test_a_json_body_over_data_upload_max_memory_size_is_refused(api: APIClient, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MB
    body = (
        b'{"type": "erasure", "email": "jane@example.com", "jurisdiction": "DE", "details": "'
        + b"x" * MB
        + b'"}'
    )
    response = api.generic("POST", "/api/v1/requests", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request is too large: at most 1 MB can be sent.", "errors": {}}
    assert DataSubjectRequest.objects.count() == 0


def test_an_oversized_portal_form_gets_a_page_that_says_what_to_do(settings):
    settings.DSR_MAX_REQUEST_BYTES = MB
    body = multipart({"email": "jane@example.com"}, extra_part=b"0" * MB)
    response = Client().generic(
        "POST", "/rights/US-CA/access/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 413
    html = response.content.decode()
    assert "The request is too large: at most 1 MB can be sent." in html
    assert "choose a smaller file (a PDF, PNG or JPEG of 5 MB or less)" in html
    assert DataSubjectRequest.objects.count() == 0


def test_the_page_is_in_the_visitors_language_with_its_number_format(settings):
    settings.DSR_MAX_REQUEST_BYTES = 2 * MB + MB // 2
    response = Client().generic(
        "POST",
        "/rights/DE/access/",
        b"",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(200 * MB),
        HTTP_ACCEPT_LANGUAGE="de",
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    html = response.content.decode()
    assert "Die Anfrage ist zu groß: Es können höchstens 2,5 MB gesendet werden." in html
