"""Stored phone numbers in the E.164 form ``normalise_phone`` now gives new ones, so that a call
or import from ``138 0000 0001`` finds the contact saved earlier as ``13800000001``."""

import phonenumbers
from django.db import migrations


def normalise_phones(apps, schema_editor):
    Contact = apps.get_model("customers", "Contact")
    taken = set(Contact.objects.exclude(phone=None).values_list("phone", flat=True))
    for contact in Contact.objects.exclude(phone=None).exclude(phone="").only("pk", "phone"):
        cleaned = "".join(contact.phone.split())
        try:
            parsed = phonenumbers.parse(cleaned, "CN")
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(parsed):
            continue
        normalised = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if normalised == contact.phone or normalised in taken:
            continue  # unchanged, or another record has it: left for a merge
        taken.discard(contact.phone)
        taken.add(normalised)
        Contact.objects.filter(pk=contact.pk).update(phone=normalised)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_documents_imports_merge"),
    ]

    operations = [
        migrations.RunPython(normalise_phones, migrations.RunPython.noop),
    ]
