"""The dashboard's systems page writes through dsr.systems.services.system_save (audited), and its
health check shows a system whose configuration was modified outside DSR Hub (security finding 4)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from dsr.audit.models import AuditEvent
from dsr.dashboard.models import SystemCheck
from dsr.systems.binding import TAMPERED_MESSAGE
from dsr.systems.models import System
from tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

TOKEN = "pat-na1-dashboard-0000-1111"


def test_disabling_a_system_on_the_dashboard_is_audited_with_the_actor_and_the_change(dashboard_client):
    system = SystemFactory(key="shop", connector="sql", config={"url": "sqlite://"})
    client = dashboard_client("admin")
    response = client.post("/dashboard/systems/shop/enabled/", {"enabled": "0"})
    assert response.status_code == 302
    assert System.objects.get(pk=system.pk).enabled is False
    event = AuditEvent.objects.get(action="system.updated")
    assert (event.actor, event.data) == (
        "staff:admin-user",
        {"system": "shop", "source": "dashboard", "changed": ["enabled"], "enabled": False},
    )
    client.post("/dashboard/systems/shop/enabled/", {"enabled": "0"})  # no change, no event
    assert AuditEvent.objects.filter(action="system.updated").count() == 1


def test_a_system_modified_outside_dsr_hub_can_still_be_disabled_and_its_check_says_why(dashboard_client):
    system = System.objects.create(
        key="crm",
        name="CRM",
        connector="hubspot",
        config={"base_url": "https://api.hubapi.com"},
        secrets=json.dumps({"access_token": TOKEN}),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE systems_system SET config = %s WHERE id = %s",
            [json.dumps({"base_url": "http://127.0.0.1:9"}), system.pk],
        )
    client = dashboard_client("admin")
    client.post("/dashboard/systems/crm/check/", {})
    page = client.get("/dashboard/systems/").content.decode()
    assert "system configuration was modified outside DSR Hub" in page
    client.post("/dashboard/systems/crm/enabled/", {"enabled": "0"})
    assert System.objects.get(pk=system.pk).enabled is False
    check = SystemCheck.objects.get(system=system)
    assert (check.ok, check.message) == (False, f"ConfigError: crm: {TAMPERED_MESSAGE}")
