"""Where people reach the privacy team: the portal's footer and "Write to us" links, and the access
package's cover letter, all from DSR_PRIVACY_POLICY_URL / _CONTACT_EMAIL / _CONTACT_ADDRESS."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

POLICY = "https://acme.example/privacy"
EMAIL = "dpo@acme.example"
ADDRESS = "Acme GmbH, Datenschutz, Hauptstraße 5, 50667 Köln"


@pytest.fixture
def contact(settings):  # type: ignore[no-untyped-def]
    settings.DSR_PRIVACY_POLICY_URL = POLICY
    settings.DSR_PRIVACY_CONTACT_EMAIL = EMAIL
    settings.DSR_PRIVACY_CONTACT_ADDRESS = ADDRESS


def test_every_portal_page_shows_the_privacy_policy_and_the_contact_in_its_footer(client, contact) -> None:
    html = client.get("/").content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert f'<a href="{POLICY}">DSR Hub privacy policy</a>' in footer
    assert f'Privacy contact: <a href="mailto:{EMAIL}">{EMAIL}</a> · {ADDRESS}</p>' in footer


def test_write_to_us_on_the_start_page_opens_a_mail_to_the_privacy_contact(client, contact) -> None:
    html = client.get("/").content.decode()
    assert f'we will help you. <a href="mailto:{EMAIL}">Write to us</a></p>' in html


def test_without_a_contact_the_footer_has_no_empty_contact_line(client, settings) -> None:
    settings.DSR_PRIVACY_CONTACT_EMAIL = ""
    settings.DSR_PRIVACY_CONTACT_ADDRESS = ""
    html = client.get("/").content.decode()
    assert "Privacy contact:" not in html
    assert "Write to us</a>" not in html
