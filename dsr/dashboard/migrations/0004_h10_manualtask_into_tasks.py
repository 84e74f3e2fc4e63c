"""Manual tasks now live in ``tasks.Task`` (kind ``adhoc``); ``tasks.0003`` copied the rows."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0003_h10_casework_to_workflow"),
        ("tasks", "0003_h10_one_task_model"),
    ]

    operations = [
        migrations.DeleteModel(
            name="ManualTask",
        ),
    ]
