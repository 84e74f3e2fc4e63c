"""Prepare the embedded demo: a sample warehouse, the systems that point at it, a staff login."""

import os
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from connectors.sql.sample import TARGET_EMAIL, create_sample_schema, sample_config, seed_sample
from dsr.staff.services import staff_create
from dsr.staff.tokens import token_create, token_is_valid
from dsr.systems.services import systems_apply_file


class Command(BaseCommand):
    help = (
        "Development only: seed a demo warehouse, configure it (and the vendor fakes `make run` started) "
        "as systems, create a demo staff user."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo_setup refuses to run with DSR_ENV=production")
        # The fakes come with the SDK's testing kit (which needs pytest): imported only here.
        from dsr.demo.fakes import demo_vendor_systems

        var = Path(settings.VAR_DIR)
        var.mkdir(parents=True, exist_ok=True)
        warehouse = var / "demo-warehouse.sqlite3"
        url = f"sqlite:///{warehouse}"
        if not warehouse.exists():
            engine = sa.create_engine(url)
            create_sample_schema(engine)
            seed_sample(engine, extra_customers=200)
            engine.dispose()
            self.stdout.write(f"Seeded the demo warehouse at {warehouse}")
        systems_file = var / "demo-systems.yaml"
        systems: list[dict[str, Any]] = [
            {
                "key": "warehouse",
                "name": "Demo warehouse (customers, orders, invoices)",
                "connector": "sql",
                "description": "Sample marketing warehouse seeded by demo_setup.",
                "config": sample_config(url),
                # The record of processing the access package's cover letter is made of.
                "purposes": ["Order fulfilment", "Bookkeeping", "Marketing analytics"],
                "data_categories": ["Contact details", "Order history", "Invoices"],
                "legal_basis": "Contract (GDPR Art. 6(1)(b)); legal obligation for invoices",
                "recipients": [
                    {"name": "Parcel Express GmbH", "country": "DE"},
                    {
                        "name": "Ledger Cloud Inc.",
                        "country": "US",
                        "safeguard": "Standard contractual clauses",
                    },
                ],
                "retention": "Orders 6 years after delivery; invoices 10 years (tax law)",
                "vendor": "Warehouse Hosting SE",
                "dpa_status": "signed",
                "region": "EU (Frankfurt)",
            },
            # HubSpot, Mailchimp and Klaviyo when `make run` started their fakes.
            *demo_vendor_systems(dict(os.environ)),
        ]
        systems_file.write_text(yaml.safe_dump({"systems": systems}, sort_keys=False))
        report = systems_apply_file(path=systems_file, actor="cli:demo_setup")
        self.stdout.write(f"Systems created: {report.created or '-'}, updated: {report.updated or '-'}")

        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        password_file = var / "demo-admin-password.txt"
        if not user_model.objects.filter(username="admin").exists() or not password_file.exists():
            password = secrets.token_urlsafe(12)
            profile, token = staff_create(username="admin", role="admin", actor="cli:demo_setup", token=True)
            user = profile.user
            user.set_password(password)
            user.is_superuser = True
            user.is_staff = True
            user.save()
            password_file.write_text(f"{password}\n{token}\n")
            password_file.chmod(0o600)
        password, token = password_file.read_text().split()
        if not token_is_valid(token):
            # Tokens are stored as hashes and expire: a demo older than its token gets a new one.
            token = token_create(user=user_model.objects.get(username="admin"), actor="cli:demo_setup")[1]
            password_file.write_text(f"{password}\n{token}\n")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "DSR Hub demo is ready.",
                    f"  Request portal:  {settings.SITE_URL}{reverse('portal:start')}",
                    f"  A person with data: {TARGET_EMAIL} (e.g. Germany, or United States / California)",
                    f"  Systems:         {', '.join(s['key'] for s in systems)}",
                    f"  Dashboard:       {settings.SITE_URL}{reverse('dashboard:queue')}",
                    f"    user 'admin', password '{password}'; two-factor code:",
                    "    .venv/bin/python manage.py demo_totp   (prints the current code; the first",
                    "    sign-in shows a QR code to add the account to an authenticator app instead)",
                    f"  Django admin:    {settings.SITE_URL}/admin/ (same password, then the code)",
                    f"  Staff API token: {token} (expires after DSR_API_TOKEN_TTL_DAYS; more on",
                    "    the dashboard's account page, or: create_staff admin --role admin --token)",
                    "  E-mails (codes, links) are printed in this terminal.",
                    "",
                ]
            )
        )
