"""Assignments and notes moved to ``dsr.workflow`` (casework). State only: the tables
``dashboard_assignment`` and ``dashboard_note`` and their rows stay where they are, and
``workflow.0005_h10_casework_models`` takes them over under the same names."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_h4_encrypt_staff_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Assignment"),
                migrations.DeleteModel(name="Note"),
            ],
            database_operations=[],
        ),
    ]
