"""Erasure of a customer's personal data and purging of spam: what goes, what stays (the
tombstones), the typed confirmation, and the outsiders who cannot do it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.urls import reverse

from kefu.audit.models import AuditEntry
from kefu.privacy.actions import ANONYMISE, PURGE_SPAM, TOMBSTONE_REASON, erase_contact
from kefu.tickets.actions import UploadedFile, add_message
from kefu.tickets.models import Attachment, EventType, Message, Ticket, TicketEvent
from kefu.tickets.search import index_ticket


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture
def carols_ticket(cast, make_ticket):
    ticket = make_ticket(
        cast.carol,
        subject="Carol 陈 的发票",
        body="我的电话是 13800000001，地址上海市",
        attachments=[UploadedFile("id-card.jpg", b"\xff\xd8 photo of an id card", "image/jpeg")],
    )
    add_message(cast.admin, ticket, body="您好 Carol，我们已收到。")
    return ticket


def test_anonymising_erases_personal_data_and_leaves_tombstones(
    cast, carols_ticket, django_capture_on_commit_callbacks
):
    contact = cast.carol.contact
    stored = Attachment.objects.get(message__ticket=carols_ticket).file.name
    assert default_storage.exists(stored)
    before = AuditEntry.objects.create(
        action="contact.updated",
        object_type="customers.contact",
        object_id=str(contact.pk),
        object_repr="Carol 陈",
        changes={"phone": ["", "13800000001"]},
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = erase_contact(cast.admin, contact, mode=ANONYMISE)

    assert result.tickets_anonymised == 1 and result.attachments_deleted == 1
    contact.refresh_from_db()
    assert "Carol" not in contact.name and contact.email.endswith(".invalid")
    assert (contact.phone, contact.wechat_id, contact.notes, contact.is_active) == (
        None,
        None,
        "",
        False,
    )
    carols_ticket.refresh_from_db()
    assert "Carol" not in carols_ticket.subject
    assert {m.body_text for m in Message.objects.filter(ticket=carols_ticket)} == {""}
    assert not Attachment.objects.filter(message__ticket=carols_ticket).exists()
    assert not default_storage.exists(stored)
    tombstone = TicketEvent.objects.get(ticket=carols_ticket, reason=TOMBSTONE_REASON)
    assert (tombstone.type, tombstone.actor, tombstone.field) == (
        EventType.CHANGED,
        cast.admin,
        "customer",
    )
    entry = AuditEntry.objects.get(action="contact.anonymised")
    assert entry.actor == cast.admin and entry.changes["tickets_anonymised"] == 1
    before.refresh_from_db()
    assert before.object_repr == contact.name and before.changes == {}
    user = cast.carol
    user.refresh_from_db()
    assert not user.is_active and "carol" not in user.email and not user.has_usable_password()
    events_text = " ".join(
        f"{e.old_value} {e.new_value}" for e in TicketEvent.objects.filter(ticket=carols_ticket)
    )
    assert "Carol" not in events_text


def test_anonymising_removes_the_text_from_search(cast, carols_ticket):
    from kefu.tickets.models import TicketSearchDocument

    index_ticket(carols_ticket)
    erase_contact(cast.admin, cast.carol.contact)
    document = TicketSearchDocument.objects.get(ticket=carols_ticket)
    text = f"{document.subject_terms} {document.public_terms} {document.staff_terms}"
    assert "13800000001" not in text and "carol" not in text.lower()


def test_purging_spam_deletes_the_tickets(cast, carols_ticket, django_capture_on_commit_callbacks):
    stored = Attachment.objects.get(message__ticket=carols_ticket).file.name
    with django_capture_on_commit_callbacks(execute=True):
        result = erase_contact(cast.admin, cast.carol.contact, mode=PURGE_SPAM)
    assert result.tickets_deleted == 1
    assert not Ticket.objects.filter(pk=carols_ticket.pk).exists()
    assert not default_storage.exists(stored)
    assert AuditEntry.objects.get(action="contact.purged_spam").changes["tickets_deleted"] == 1


def test_a_rolled_back_erasure_keeps_the_files(
    cast, carols_ticket, django_capture_on_commit_callbacks
):
    stored = Attachment.objects.get(message__ticket=carols_ticket).file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        erase_contact(cast.admin, cast.carol.contact)
    assert callbacks  # files are deleted only after the commit
    assert default_storage.exists(stored)


def test_other_customers_are_untouched(cast, carols_ticket, make_ticket):
    alices = make_ticket(cast.alice, body="Alice's own text")
    erase_contact(cast.admin, cast.carol.contact)
    alices.refresh_from_db()
    assert alices.messages.get().body_text == "Alice's own text"
    cast.alice.contact.refresh_from_db()
    assert cast.alice.contact.name == "Alice 李"


@pytest.mark.parametrize("user", ["agent", "supervisor"])
def test_staff_who_are_not_admins_cannot_erase(cast, carols_ticket, user):
    with pytest.raises(PermissionDenied):
        erase_contact(getattr(cast, user), cast.carol.contact, mode=PURGE_SPAM)
    assert Ticket.objects.filter(pk=carols_ticket.pk).exists()


def test_the_confirm_page_requires_the_typed_identifier(client, cast, carols_ticket):
    client.force_login(cast.admin)
    url = reverse("privacy:erase_contact", args=[cast.carol.contact.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"carol@mail.example" in page.content
    wrong = client.post(url, {"mode": ANONYMISE, "confirmation": "yes"})
    assert wrong.status_code == 400
    cast.carol.contact.refresh_from_db()
    assert cast.carol.contact.name == "Carol 陈"
    right = client.post(url, {"mode": ANONYMISE, "confirmation": "CAROL@mail.example "})
    assert right.status_code == 302
    cast.carol.contact.refresh_from_db()
    assert cast.carol.contact.name != "Carol 陈"


def test_the_lookup_finds_a_customer_by_identifier(client, cast):
    client.force_login(cast.admin)
    response = client.get(reverse("privacy:lookup"), {"identifier": "carol@mail.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:erase_contact", args=[cast.carol.contact.pk])


@pytest.mark.parametrize("user", ["agent", "supervisor", "quality_agent"])
def test_an_agent_cannot_open_or_post_the_erasure_pages(client, cast, carols_ticket, user):
    client.force_login(getattr(cast, user))
    url = reverse("privacy:erase_contact", args=[cast.carol.contact.pk])
    assert client.get(reverse("privacy:lookup")).status_code == 403
    assert client.get(url).status_code == 403
    response = client.post(url, {"mode": PURGE_SPAM, "confirmation": "carol@mail.example"})
    assert response.status_code == 403
    assert Ticket.objects.filter(pk=carols_ticket.pk).exists()


def test_a_customer_gets_no_erasure_page(client, cast):
    client.force_login(cast.carol)
    url = reverse("privacy:erase_contact", args=[cast.carol.contact.pk])
    assert client.get(url).status_code == 404


def test_records_merged_into_the_customer_are_erased_too(cast, make_ticket):
    from kefu.customers.actions import create_contact, merge_contacts

    duplicate = create_contact(cast.admin, name="陈 Carol (old)", phone="+8613900000002")
    old_ticket = make_ticket(cast.carol, subject="from the old record")
    old_ticket.contact = duplicate
    old_ticket.save()
    merge_contacts(cast.admin, duplicate, cast.carol.contact)
    erase_contact(cast.admin, cast.carol.contact)
    duplicate.refresh_from_db()
    assert duplicate.phone is None and "Carol" not in duplicate.name
    text = " ".join(
        f"{e.old_value} {e.new_value}" for e in TicketEvent.objects.filter(ticket=old_ticket)
    )
    assert "Carol" not in text and "陈" not in text
