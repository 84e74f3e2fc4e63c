"""Two-factor devices move to django-otp: each TotpDevice becomes a StaffTOTPDevice (a django-otp
Device) with the same secret, still encrypted at rest, its last accepted step and its confirmation.
The clear-text API tokens of rest_framework.authtoken are dropped: tokens are now stored as hashes
(django-rest-knox) and issued on request."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import dsr.identity.fields


def move_devices(apps, schema_editor):
    old = apps.get_model("staff", "TotpDevice")
    new = apps.get_model("staff", "StaffTOTPDevice")
    for device in old.objects.all():
        new.objects.create(
            user_id=device.user_id,
            name="authenticator",
            secret=device.secret,
            confirmed=device.confirmed_at is not None,
            last_t=device.last_step if device.last_step else -1,
        )


def move_devices_back(apps, schema_editor):
    old = apps.get_model("staff", "TotpDevice")
    new = apps.get_model("staff", "StaffTOTPDevice")
    from django.utils import timezone

    for device in new.objects.order_by("-confirmed", "pk"):
        if not old.objects.filter(user_id=device.user_id).exists():
            old.objects.create(
                user_id=device.user_id,
                secret=device.secret,
                confirmed_at=timezone.now() if device.confirmed else None,
                last_step=max(device.last_t, 0),
            )


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_totpdevice"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffTOTPDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(help_text="The human-readable name of this device.", max_length=64),
                ),
                ("confirmed", models.BooleanField(default=True, help_text="Is this device ready for use?")),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",  # noqa: E501
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(default=0, help_text="Number of successive failed attempts."),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True, help_text="The most recent date and time this device was used.", null=True
                    ),
                ),
                ("secret", dsr.identity.fields.EncryptedTextField()),
                ("step", models.PositiveSmallIntegerField(default=30)),
                ("t0", models.BigIntegerField(default=0)),
                ("digits", models.PositiveSmallIntegerField(default=6)),
                ("tolerance", models.PositiveSmallIntegerField(default=1)),
                ("drift", models.SmallIntegerField(default=0)),
                ("last_t", models.BigIntegerField(default=-1)),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "TOTP device",
                "abstract": False,
            },
        ),
        migrations.RunPython(move_devices, move_devices_back),
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
        migrations.DeleteModel(
            name="TotpDevice",
        ),
    ]
