from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("systems", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="system",
            name="purposes",
            field=models.JSONField(
                blank=True, default=list, help_text='Why the data is processed, e.g. ["Order fulfilment"].'
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="data_categories",
            field=models.JSONField(
                blank=True, default=list, help_text='Categories of personal data, e.g. ["Contact details"].'
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="legal_basis",
            field=models.CharField(
                blank=True, help_text="e.g. 'Contract (GDPR Art. 6(1)(b))'.", max_length=300
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="recipients",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Who receives the data: [{"name": "Parcel Co", "country": "US", "safeguard": '
                '"Standard contractual clauses"}]. A country outside the EEA needs a safeguard.',
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="retention",
            field=models.TextField(blank=True, help_text="How long the data is kept, or the criteria."),
        ),
        migrations.AddField(
            model_name="system",
            name="source",
            field=models.TextField(
                blank=True, help_text="Where the data comes from when not from the person; empty: from them."
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="vendor",
            field=models.CharField(
                blank=True, help_text="The processor operating the system; empty: in-house.", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="dpa_status",
            field=models.CharField(
                choices=[
                    ("in_house", "operated by us, no processor"),
                    ("signed", "data processing agreement signed (GDPR Art. 28)"),
                    ("pending", "data processing agreement in negotiation"),
                    ("missing", "no data processing agreement"),
                ],
                default="in_house",
                help_text="Status of the data processing agreement with the vendor.",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="region",
            field=models.CharField(blank=True, help_text="Where the data is hosted.", max_length=100),
        ),
        migrations.AddField(
            model_name="system",
            name="automated_decisions",
            field=models.TextField(
                blank=True,
                help_text="Automated decisions or profiling (GDPR Art. 22), their logic and effects; "
                "empty: none.",
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="never_disclose",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Fields held but never disclosed: {"table": {"field": "kind"}}.',
            ),
        ),
        migrations.AddField(
            model_name="system",
            name="third_party_fields",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Fields holding other people's data: {'table': ['field']}.",
            ),
        ),
    ]
