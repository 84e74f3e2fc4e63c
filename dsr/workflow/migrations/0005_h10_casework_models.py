"""Assignments and notes, moved from the dashboard app (casework belongs to the core).

State only: the tables were created by ``dashboard.0001_initial`` (encrypted by
``dashboard.0002``) and keep their names through ``db_table``, so no row moves.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import dsr.identity.fields


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0004_merge_import_and_staff_text"),
        ("dashboard", "0003_h10_casework_to_workflow"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Assignment",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("assigned_at", models.DateTimeField()),
                        ("assigned_by", models.CharField(max_length=150)),
                        (
                            "assignee",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "request",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="assignment",
                                to="workflow.datasubjectrequest",
                            ),
                        ),
                    ],
                    options={"db_table": "dashboard_assignment"},
                ),
                migrations.CreateModel(
                    name="Note",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("body", dsr.identity.fields.EncryptedTextField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "author",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "request",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notes",
                                to="workflow.datasubjectrequest",
                            ),
                        ),
                    ],
                    options={"db_table": "dashboard_note", "ordering": ["created_at", "id"]},
                ),
            ],
            database_operations=[],
        ),
    ]
