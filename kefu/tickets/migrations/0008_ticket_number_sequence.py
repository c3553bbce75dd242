"""On PostgreSQL ticket numbers come from a sequence (no row lock held to the end of every
ticket-creating transaction); it continues from the counter row and the highest number in use."""

from django.db import migrations

SEQUENCE = "kefu_ticket_number_seq"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.conf import settings
    from django.db.models import Max

    counter = apps.get_model("tickets", "TicketNumberCounter").objects.filter(name="ticket").first()
    highest = apps.get_model("tickets", "Ticket").objects.aggregate(top=Max("number"))["top"]
    last = max(
        settings.TICKET_NUMBER_START - 1,
        counter.value if counter else 0,
        highest or 0,
    )
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS bigint START WITH {last + 1}")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_workspace")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
