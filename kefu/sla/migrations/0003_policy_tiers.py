from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0002_builtin_calendars_and_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="slapolicy",
            name="tiers",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Customers' organisation tiers (e.g. key account); none: any customer.",
                verbose_name="organisation tiers",
            ),
        ),
    ]
