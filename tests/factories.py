from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from connectors.types import normalise_email
from dsr.identity.blind_index import email_blind_index
from dsr.systems.models import System
from dsr.workflow.models import DataSubjectRequest, RequestType, Status


class RequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSubjectRequest

    type = RequestType.ACCESS
    jurisdiction = "DE"
    regime = "GDPR"
    status = Status.PENDING_VERIFICATION
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    email_index = factory.LazyAttribute(lambda o: email_blind_index(normalise_email(o.email)))
    received_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.received_at + timedelta(days=30))
    due_explanation = "due in one month: GDPR Art. 12(3)"


class SystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = System
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"system-{n}")
    name = factory.LazyAttribute(lambda o: f"System {o.key}")
    connector = "sql"
    config = factory.LazyFunction(dict)
