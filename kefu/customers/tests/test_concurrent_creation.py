"""Two requests from one new customer at the same moment (issue 24): the loser of the race for
the unique e-mail index gets the winner's contact, not a database error. The race is staged by
a lookup that misses the row the other request has just committed; the real thing runs in
kefu/intake/tests/test_concurrent_intake.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kefu.customers.actions import contacts, create_contact, find_or_create_contact
from kefu.customers.models import Contact


@pytest.fixture
def racing_lookup(monkeypatch):
    """Make ``find_contact`` miss for its first ``misses`` calls (the look-ups before the
    insert), as it does for a request racing another one for the same new customer."""

    def stage(misses: int) -> None:
        real = contacts.find_contact
        calls = {"n": 0}

        def find_contact(**identifiers):
            calls["n"] += 1
            return None if calls["n"] <= misses else real(**identifiers)

        monkeypatch.setattr(contacts, "find_contact", find_contact)

    return stage


def test_the_second_of_two_simultaneous_mails_gets_the_contact_the_first_created(
    cast, racing_lookup
):
    winner = Contact.objects.create(name="New", email="new.customer@race.example")
    racing_lookup(misses=2)
    found = find_or_create_contact(None, name="New Customer", email="New.Customer@race.example")
    assert found == winner
    assert Contact.objects.filter(email__iexact="new.customer@race.example").count() == 1


def test_creating_a_customer_that_a_concurrent_request_created_is_a_clear_error(
    cast, racing_lookup
):
    Contact.objects.create(name="New", email="new.customer@race.example")
    racing_lookup(misses=1)
    with pytest.raises(ValidationError, match="exists already"):
        create_contact(cast.agent, name="New", email="new.customer@race.example")


def test_customers_cannot_create_contacts_through_find_or_create(cast):
    with pytest.raises(Exception, match="Only staff"):
        find_or_create_contact(cast.alice, email="stranger@race.example")
