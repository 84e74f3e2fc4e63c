"""The access package's cover letter and README name the privacy team's contact (DSR_PRIVACY_*)."""

from __future__ import annotations

import pytest

from tests.exports.conftest import TARGET_RECORDS

pytestmark = pytest.mark.django_db

POLICY = "https://acme.example/privacy"
EMAIL = "dpo@acme.example"
ADDRESS = "Acme GmbH, Datenschutz, Hauptstraße 5, 50667 Köln"


@pytest.fixture
def contact(settings):  # type: ignore[no-untyped-def]
    settings.DSR_PRIVACY_POLICY_URL = POLICY
    settings.DSR_PRIVACY_CONTACT_EMAIL = EMAIL
    settings.DSR_PRIVACY_CONTACT_ADDRESS = ADDRESS


def test_the_cover_letter_and_readme_name_the_privacy_contact(answer, shop_system, contact) -> None:
    answered = answer({shop_system: TARGET_RECORDS})
    index = answered.index()
    assert (
        f'<a href="mailto:{EMAIL}">{EMAIL}</a> · {ADDRESS} · <a href="{POLICY}">Privacy policy</a>' in index
    )
    assert "privacy@localhost" not in index
    readme = answered.zip().read("README.txt").decode()
    assert f"Privacy contact: {EMAIL}, {ADDRESS}\n" in readme
