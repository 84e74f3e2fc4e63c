from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_totpdevice"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffprofile",
            name="time_zone",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
