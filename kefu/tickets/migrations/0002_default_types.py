from django.db import migrations

from kefu.tickets.defaults import DEFAULT_TICKET_TYPES


def create_defaults(apps, schema_editor):
    TicketType = apps.get_model("tickets", "TicketType")
    TicketNumberCounter = apps.get_model("tickets", "TicketNumberCounter")
    for position, (key, name) in enumerate(DEFAULT_TICKET_TYPES):
        TicketType.objects.get_or_create(key=key, defaults={"name": name, "position": position})
    from django.conf import settings

    TicketNumberCounter.objects.get_or_create(
        name="ticket", defaults={"value": settings.TICKET_NUMBER_START - 1}
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
