"""The demo's vendor systems: the connectors' own fakes of HubSpot, Mailchimp and Klaviyo, on loopback.

``make run`` (``dsr/demo/run.py``) starts them before anything else and hands their addresses to
``demo_setup`` in ``DSR_DEMO_<VENDOR>_URL``, which configures one system per fake. Each is seeded
with Jane Doe (the sample warehouse's target, ``connectors/sql/sample.py``) and a decoy who must
never be touched. Klaviyo deletes asynchronously: its fake's clock is ticked every
``KLAVIYO_TICK_SECONDS`` so a deletion job finishes a few seconds after it is submitted, and the
connector's poll finds it done. The fakes keep their data in memory: every start is a fresh seed.
"""

from __future__ import annotations

import threading
from typing import Any

from connectors.hubspot.fake import FakeHubSpot
from connectors.klaviyo.fake import DEFAULT_KEY as KLAVIYO_KEY
from connectors.klaviyo.fake import FakeKlaviyo
from connectors.mailchimp.fake import FakeMailchimp
from connectors.sql.sample import TARGET_EMAIL

# The local fake's token (not a secret).
HUBSPOT_TOKEN = "pat-demo-00000000-0000-0000-0000-000000000000"  # noqa: S105  # nosec B105
MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us6"
KLAVIYO_TICK_SECONDS = 3.0
DECOY_EMAIL = "jane.doe+news@example.com"  # the same person's name at another address: not her


class DemoFakes:
    """Context manager: the three fakes, started and seeded; :meth:`environment` says where they are."""

    def __init__(self) -> None:
        self.hubspot = FakeHubSpot(HUBSPOT_TOKEN)
        self.mailchimp = FakeMailchimp(MAILCHIMP_KEY)
        self.klaviyo = FakeKlaviyo(key=KLAVIYO_KEY, job_steps=1)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="klaviyo-clock", daemon=True)

    def __enter__(self) -> DemoFakes:
        for fake in (self.hubspot, self.mailchimp, self.klaviyo):
            fake.start()
        self._seed()
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)
        for fake in (self.hubspot, self.mailchimp, self.klaviyo):
            fake.stop()

    def environment(self) -> dict[str, str]:
        return {
            "DSR_DEMO_HUBSPOT_URL": self.hubspot.url,
            "DSR_DEMO_MAILCHIMP_URL": f"{self.mailchimp.url}/3.0",
            "DSR_DEMO_KLAVIYO_URL": self.klaviyo.url,
        }

    def _seed(self) -> None:
        self.hubspot.add_contact(
            email=TARGET_EMAIL, firstname="Jane", lastname="Doe", company="Example GmbH", city="Berlin"
        )
        self.hubspot.add_contact(email=DECOY_EMAIL, firstname="Jane", lastname="Doe")
        newsletter = self.mailchimp.add_list("Newsletter")
        offers = self.mailchimp.add_list("Offers")
        self.mailchimp.add_member(newsletter.id, TARGET_EMAIL, FNAME="Jane", LNAME="Doe")
        self.mailchimp.add_member(offers.id, TARGET_EMAIL, status="unsubscribed", FNAME="Jane", LNAME="Doe")
        self.mailchimp.add_member(newsletter.id, DECOY_EMAIL, FNAME="Jane", LNAME="Doe")
        self.klaviyo.add_profile(TARGET_EMAIL, first_name="Jane", last_name="Doe")
        self.klaviyo.add_profile(DECOY_EMAIL, first_name="Jane", last_name="Doe")

    def _tick(self) -> None:
        while not self._stop.wait(KLAVIYO_TICK_SECONDS):
            self.klaviyo.advance()


def demo_vendor_systems(environ: dict[str, str]) -> list[dict[str, Any]]:
    """The systems-file entries for the fakes whose ``DSR_DEMO_<VENDOR>_URL`` is set."""
    systems: list[dict[str, Any]] = []
    if environ.get("DSR_DEMO_HUBSPOT_URL"):
        systems.append(
            {
                "key": "hubspot",
                "name": "HubSpot CRM (local fake)",
                "connector": "hubspot",
                "description": "A local fake of HubSpot's CRM API, seeded with Jane Doe by make run.",
                "config": {"access_token": HUBSPOT_TOKEN, "base_url": environ["DSR_DEMO_HUBSPOT_URL"]},
                "purposes": ["Sales and customer support"],
                "data_categories": ["Contact details", "Company"],
                "legal_basis": "Legitimate interests (GDPR Art. 6(1)(f))",
                "retention": "Until the contact is deleted or 3 years after the last contact",
                "vendor": "HubSpot, Inc.",
                "dpa_status": "signed",
                "region": "EU",
            }
        )
    if environ.get("DSR_DEMO_MAILCHIMP_URL"):
        systems.append(
            {
                "key": "mailchimp",
                "name": "Mailchimp newsletter (local fake)",
                "connector": "mailchimp",
                "description": "A local fake of Mailchimp's Marketing API, seeded with Jane Doe by make run.",
                "config": {"api_key": MAILCHIMP_KEY, "base_url": environ["DSR_DEMO_MAILCHIMP_URL"]},
                "purposes": ["Newsletter"],
                "data_categories": ["Contact details", "Subscription status"],
                "legal_basis": "Consent (GDPR Art. 6(1)(a))",
                "retention": "Until unsubscribed",
                "vendor": "The Rocket Science Group LLC (Intuit Mailchimp)",
                "dpa_status": "signed",
                "region": "US",
            }
        )
    if environ.get("DSR_DEMO_KLAVIYO_URL"):
        systems.append(
            {
                "key": "klaviyo",
                "name": "Klaviyo marketing (local fake, deletes asynchronously)",
                "connector": "klaviyo",
                "description": "A local fake of Klaviyo's API; its deletion jobs finish a few seconds later.",
                "config": {
                    "api_key": KLAVIYO_KEY,
                    "base_url": environ["DSR_DEMO_KLAVIYO_URL"],
                    "poll_interval": 5.0,
                },
                "purposes": ["Marketing e-mails"],
                "data_categories": ["Contact details", "Engagement"],
                "legal_basis": "Consent (GDPR Art. 6(1)(a))",
                "retention": "Until deleted",
                "vendor": "Klaviyo, Inc.",
                "dpa_status": "signed",
                "region": "US",
            }
        )
    return systems
