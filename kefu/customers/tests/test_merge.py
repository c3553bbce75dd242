"""Merging two duplicate contacts: everything moves to the survivor exactly once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.customers.actions import create_asset, create_contact, find_contact, merge_contacts
from kefu.intake.models import TicketParticipant
from kefu.tickets.actions import add_message
from kefu.tickets.models import EventType, Message, Ticket, TicketEvent


@pytest.fixture
def duplicate(cast):
    """Alice again, written down from a phone call with her phone and WeChat id."""
    return create_contact(
        cast.agent, name="李女士", phone="13900000001", wechat_id="alice_li", organization=None
    )


def _ticket_for(make_ticket, cast, contact, subject):
    ticket = make_ticket(cast.alice, subject=subject)
    Ticket.objects.filter(pk=ticket.pk).update(contact=contact)
    Message.objects.filter(ticket=ticket, author_contact__isnull=False).update(
        author_contact=contact
    )
    ticket.refresh_from_db()
    return ticket


def test_it_moves_every_ticket_message_asset_and_participation_exactly_once(
    cast, make_ticket, duplicate, printer
):
    survivor = cast.alice.contact
    own = make_ticket(cast.alice, subject="Alice's own")
    theirs = [_ticket_for(make_ticket, cast, duplicate, f"Phone call {n}") for n in range(3)]
    add_message(None, theirs[0], body="Customer again", author_contact=duplicate)
    # The duplicate was Cc'd on one ticket where Alice is Cc'd too, and on Alice's own ticket.
    shared = make_ticket(cast.bob, subject="Bob's ticket")
    TicketParticipant.objects.create(ticket=shared, contact=duplicate)
    TicketParticipant.objects.create(ticket=shared, contact=survivor)
    TicketParticipant.objects.create(ticket=own, contact=duplicate)
    asset = create_asset(cast.agent, serial_number="SN-1", product=printer, contact=duplicate)
    messages_before = set(Message.objects.values_list("pk", flat=True))
    events_before = TicketEvent.objects.count()

    merge_contacts(cast.agent, duplicate, survivor)

    assert set(Ticket.objects.filter(contact=survivor).values_list("pk", flat=True)) == {
        own.pk,
        *(t.pk for t in theirs),
    }
    assert not Ticket.objects.filter(contact=duplicate).exists()
    assert set(Message.objects.values_list("pk", flat=True)) == messages_before
    assert not Message.objects.filter(author_contact=duplicate).exists()
    assert Message.objects.filter(ticket=theirs[0], author_contact=survivor).count() == 2
    assert list(
        TicketParticipant.objects.filter(ticket=shared).values_list("contact", flat=True)
    ) == [survivor.pk]
    assert not TicketParticipant.objects.filter(ticket=own).exists()
    asset.refresh_from_db()
    assert asset.contact_id == survivor.pk
    # One timeline row per moved ticket, and none anywhere else.
    merged = TicketEvent.objects.filter(field="contact", type=EventType.CHANGED)
    assert sorted(merged.values_list("ticket_id", flat=True)) == sorted(t.pk for t in theirs)
    assert TicketEvent.objects.count() == events_before + 3
    assert all(event.is_internal and event.new_value == str(survivor) for event in merged)


def test_it_copies_identifiers_the_survivor_lacks_and_deactivates_the_duplicate(cast, duplicate):
    survivor = merge_contacts(cast.agent, duplicate, cast.alice.contact)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert (survivor.email, survivor.phone, survivor.wechat_id) == (
        "alice@acme.example",
        duplicate_phone(),
        "alice_li",
    )
    assert not duplicate.is_active and duplicate.merged_into_id == survivor.pk
    assert duplicate.phone is None and duplicate.email is None
    # Mail, calls and WeChat messages from any of the identifiers now reach the survivor.
    assert find_contact(phone=survivor.phone) == survivor
    assert find_contact(wechat_id="alice_li") == survivor


def duplicate_phone() -> str:
    from kefu.customers.actions import normalise_phone

    return normalise_phone("13900000001") or ""


def test_identifiers_the_survivor_has_stay_with_the_duplicate_and_lead_to_the_survivor(cast):
    other = create_contact(cast.agent, name="Alice private", email="alice@mail.example")
    merge_contacts(cast.agent, other, cast.alice.contact)
    other.refresh_from_db()
    assert other.email == "alice@mail.example"
    assert find_contact(email="alice@mail.example") == cast.alice.contact


def test_the_login_follows_when_only_the_duplicate_has_one(cast):
    phone_only = create_contact(cast.agent, name="Carol by phone", phone="13700000000")
    carol = cast.carol.contact
    merge_contacts(cast.agent, carol, phone_only)
    phone_only.refresh_from_db()
    carol.refresh_from_db()
    assert phone_only.user_id == cast.carol.pk and carol.user_id is None
    assert phone_only.email == "carol@mail.example"
    assert Ticket.objects.visible_to(cast.carol).count() == 0  # nothing lost, nothing gained


def test_it_refuses_to_merge_two_logins(cast):
    with pytest.raises(ValidationError, match="Both customers have a portal login"):
        merge_contacts(cast.agent, cast.alan.contact, cast.alice.contact)


def test_it_refuses_to_merge_a_contact_into_itself_or_twice(cast, duplicate):
    with pytest.raises(ValidationError):
        merge_contacts(cast.agent, duplicate, duplicate)
    merge_contacts(cast.agent, duplicate, cast.alice.contact)
    with pytest.raises(ValidationError, match="already merged"):
        merge_contacts(cast.agent, duplicate, cast.bob.contact)


def test_customer_cannot_merge_contacts(cast, duplicate):
    with pytest.raises(PermissionDenied):
        merge_contacts(cast.alice, duplicate, cast.alice.contact)
    duplicate.refresh_from_db()
    assert duplicate.is_active
