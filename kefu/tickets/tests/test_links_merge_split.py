"""Linked tickets, parent and child, merge and split: actions, console and API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kefu.api.tests.conftest import ApiClient, error_fields
from kefu.intake.models import TicketParticipant
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.actions import UploadedFile, add_message, update_ticket
from kefu.tickets.models import (
    Attachment,
    EventType,
    LinkKind,
    Message,
    State,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketSearchDocument,
)
from kefu.tickets.relations import current_parent, link_tickets, merge_ticket, split_ticket


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


def api(cast, user) -> ApiClient:
    return ApiClient(cast.token(user))


# --- links ----------------------------------------------------------------------------------


def test_it_links_tickets_both_ways_and_records_both_timelines(cast, make_ticket):
    a, b = make_ticket(subject="A"), make_ticket(subject="B")
    link_tickets(cast.agent, a, b, LinkKind.DUPLICATE)
    assert a.events.filter(type=EventType.LINKED, reason="duplicate_of").exists()
    assert b.events.filter(type=EventType.LINKED, reason="duplicated_by").exists()
    with pytest.raises(BusinessRuleError):
        link_tickets(cast.agent, b, a, LinkKind.RELATED)  # already linked, other direction
    with pytest.raises(BusinessRuleError):
        link_tickets(cast.agent, a, a, LinkKind.RELATED)


def test_an_outsider_cannot_link_tickets(cast, make_ticket):
    a, b = make_ticket(), make_ticket()
    with pytest.raises(PermissionDenied):
        link_tickets(cast.quality_agent, a, b, LinkKind.RELATED)
    with pytest.raises(PermissionDenied):
        link_tickets(cast.tech_agent, a, b, LinkKind.RELATED)  # read-only in cs
    assert not TicketLink.objects.exists()


def test_a_parent_cannot_be_resolved_while_a_child_is_open(cast, make_ticket):
    parent, child = make_ticket(subject="Parent"), make_ticket(subject="Child")
    link_tickets(cast.agent, parent, child, LinkKind.CHILD)
    assert current_parent(child) == parent
    with pytest.raises(BusinessRuleError) as caught:
        update_ticket(cast.agent, parent, state=State.RESOLVED)
    assert f"#{child.number}" in caught.value.message
    update_ticket(cast.agent, child, state=State.RESOLVED)
    update_ticket(cast.agent, parent, state=State.RESOLVED)
    assert Ticket.objects.get(pk=parent.pk).state == State.RESOLVED


def test_the_children_rule_can_be_switched_off(cast, make_ticket, settings):
    settings.CHILDREN_BLOCK_PARENT_RESOLVE = False
    parent, child = make_ticket(), make_ticket()
    link_tickets(cast.agent, parent, child, LinkKind.CHILD)
    update_ticket(cast.agent, parent, state=State.CLOSED)
    assert Ticket.objects.get(pk=parent.pk).state == State.CLOSED


def test_it_refuses_a_parent_cycle_and_a_second_parent(cast, make_ticket):
    a, b, c = make_ticket(), make_ticket(), make_ticket()
    update_ticket(cast.agent, b, parent=a)
    update_ticket(cast.agent, c, parent=b)
    with pytest.raises(BusinessRuleError):
        update_ticket(cast.agent, a, parent=c)
    with pytest.raises(BusinessRuleError):
        link_tickets(cast.agent, c, b, LinkKind.CHILD)
    assert b.events.filter(field="parent", new_value=f"#{a.number}").exists()
    update_ticket(cast.agent, c, parent=None)
    assert current_parent(c) is None


def test_the_links_panel_adds_and_removes_links_by_number(client, cast, make_ticket):
    a, b = make_ticket(subject="Alpha"), make_ticket(subject="Bravo")
    client.force_login(cast.agent)
    url = reverse("tickets:link_add", args=[a.pk])
    response = client.post(url, {"link-number": b.number, "link-kind": "child"})
    assert response.status_code == 302
    html = client.get(reverse("tickets:detail", args=[a.pk])).content.decode()
    assert f"#{b.number} Bravo" in html and "child of this ticket" in html
    link = TicketLink.objects.get()
    client.post(reverse("tickets:link_remove", args=[a.pk, link.pk]))
    assert not TicketLink.objects.exists()
    assert a.events.filter(type=EventType.UNLINKED).exists()


def test_an_outsider_cannot_use_the_links_panel(client, cast, make_ticket):
    a, b = make_ticket(), make_ticket()
    client.force_login(cast.quality_agent)
    url = reverse("tickets:link_add", args=[a.pk])
    assert client.post(url, {"link-number": b.number, "link-kind": "related"}).status_code == 404
    client.force_login(cast.alice)
    assert client.post(url, {"link-number": b.number, "link-kind": "related"}).status_code == 404
    # A ticket the agent cannot see is "no such ticket", not a link.
    hidden = make_ticket(group=cast.quality)
    client.force_login(cast.agent)
    client.post(url, {"link-number": hidden.number, "link-kind": "related"})
    assert not TicketLink.objects.exists()


def test_api_links_and_unlinks(cast, make_ticket):
    a, b = make_ticket(), make_ticket()
    response = api(cast, cast.agent).post(
        f"/tickets/{a.pk}/links", {"ticket": b.pk, "kind": "child"}
    )
    assert response.status_code == 201, response.json()
    link = response.json()
    assert link["role"] == "child" and link["ticket"]["number"] == b.number
    data = api(cast, cast.agent).get(f"/tickets/{b.pk}").json()
    assert data["parent"]["id"] == a.pk
    assert data["links"][0]["role"] == "parent"
    response = api(cast, cast.agent).patch(f"/tickets/{a.pk}", {"state": "resolved"})
    assert response.status_code == 400 and "child" in response.json()["detail"]

    outsider = api(cast, cast.quality_agent)
    assert (
        outsider.post(f"/tickets/{a.pk}/links", {"ticket": b.pk, "kind": "related"}).status_code
        == 404
    )
    client = api(cast, cast.agent)
    response = client.client.delete(
        f"/api/v1/tickets/{a.pk}/links/{link['id']}", headers=client._headers(None)
    )
    assert response.status_code == 204
    hidden = make_ticket(group=cast.quality)
    response = client.post(f"/tickets/{a.pk}/links", {"ticket": hidden.pk, "kind": "related"})
    assert response.status_code == 422 and error_fields(response) == ["ticket"]


# --- merge ----------------------------------------------------------------------------------


def _history(*tickets: Ticket) -> tuple[set[int], set[int], set[int]]:
    ids = [t.pk for t in tickets]
    return (
        set(Message.objects.filter(ticket_id__in=ids).values_list("pk", flat=True)),
        set(TicketEvent.objects.filter(ticket_id__in=ids).values_list("pk", flat=True)),
        set(Attachment.objects.filter(message__ticket_id__in=ids).values_list("pk", flat=True)),
    )


def test_merge_moves_every_message_event_and_attachment_exactly_once(cast, make_ticket):
    survivor = make_ticket(cast.alice, subject="Printer E23")
    merged = make_ticket(cast.alan, subject="Same printer 打印机", body="duplicate report")
    add_message(
        cast.agent,
        merged,
        body="note",
        internal=True,
        attachments=[UploadedFile("log.txt", b"log", "text/plain")],
    )
    bob_participant = cast.bob.contact
    TicketParticipant.objects.create(ticket=merged, contact=bob_participant)
    messages_before, events_before, files_before = _history(survivor, merged)

    merge_ticket(cast.agent, merged, survivor)

    merged.refresh_from_db()
    assert merged.merged_into == survivor and merged.state == State.CLOSED
    assert not merged.messages.exists()
    messages_after, events_after, files_after = _history(survivor, merged)
    assert messages_before < messages_after  # plus the notice to the customer
    assert len(messages_after - messages_before) == 1
    assert set(survivor.messages.values_list("pk", flat=True)) == messages_after
    assert events_before <= events_after
    assert files_after == files_before
    assert (
        Message.objects.filter(pk__in=messages_before).values("ticket_id").distinct().count() == 1
    )
    notice = survivor.messages.order_by("-pk").first()
    assert not notice.is_internal and f"#{merged.number}" in notice.body_text
    assert merged.events.filter(type=EventType.MERGED, new_value=f"#{survivor.number}").exists()
    assert survivor.events.filter(type=EventType.MERGED, old_value=f"#{merged.number}").exists()
    assert set(survivor.participants.values_list("contact_id", flat=True)) == {
        bob_participant.pk,
        cast.alan.contact.pk,
    }
    # Reindexed: the merged ticket's words (stemmed) are found on the survivor only.
    assert "duplic" in TicketSearchDocument.objects.get(ticket=survivor).public_terms
    assert "duplic" not in TicketSearchDocument.objects.get(ticket=merged).public_terms


def test_merge_refuses_other_customers_itself_and_outsiders(cast, make_ticket):
    alice, bob = make_ticket(cast.alice), make_ticket(cast.bob)
    with pytest.raises(BusinessRuleError):
        merge_ticket(cast.agent, alice, bob)
    with pytest.raises(BusinessRuleError):
        merge_ticket(cast.agent, alice, alice)
    other = make_ticket(cast.alice)
    with pytest.raises(PermissionDenied):
        merge_ticket(cast.tech_agent, alice, other)
    merge_ticket(cast.agent, alice, other, notify_customer=False)
    with pytest.raises(BusinessRuleError):
        merge_ticket(cast.agent, alice, other)  # already merged
    with pytest.raises(BusinessRuleError):
        update_ticket(cast.agent, Ticket.objects.get(pk=alice.pk), priority="high")


def test_the_merge_dialog_merges_and_goes_to_the_survivor(client, cast, make_ticket):
    survivor, merged = make_ticket(subject="Keep"), make_ticket(subject="Drop")
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:merge", args=[merged.pk]),
        {
            "merge-number": survivor.number,
            "merge-comment": "Merged, see here.",
            "merge-notify_customer": "on",
        },
    )
    assert response["Location"] == reverse("tickets:detail", args=[survivor.pk])
    assert survivor.messages.filter(body_text="Merged, see here.").exists()
    html = client.get(reverse("tickets:detail", args=[merged.pk])).content.decode()
    assert f"merged into #{survivor.number}" in html

    client.force_login(cast.quality_agent)
    response = client.post(reverse("tickets:merge", args=[survivor.pk]), {"merge-number": 1})
    assert response.status_code == 404


def test_api_merges(cast, make_ticket):
    survivor, merged = make_ticket(), make_ticket()
    response = api(cast, cast.agent).post(
        f"/tickets/{merged.pk}/merge", {"into": survivor.pk, "notify_customer": False}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == survivor.pk
    data = api(cast, cast.alice).get(f"/tickets/{merged.pk}").json()
    assert data["merged_into"]["id"] == survivor.pk and data["state"] == "closed"
    response = api(cast, cast.quality_agent).post(
        f"/tickets/{survivor.pk}/merge", {"into": merged.pk}
    )
    assert response.status_code == 404


# --- split ----------------------------------------------------------------------------------


def test_split_moves_a_message_to_a_new_linked_ticket(cast, make_ticket):
    ticket = make_ticket(subject="Two problems", tags=["printer"])
    second = add_message(
        cast.alice,
        ticket,
        body="Also my scanner is broken",
        attachments=[UploadedFile("scan.png", b"png", "image/png")],
    )
    messages_before, events_before, files_before = _history(ticket)

    new = split_ticket(cast.agent, ticket, second, subject="Scanner broken")

    assert new.subject == "Scanner broken" and new.contact == ticket.contact
    assert list(new.messages.values_list("pk", flat=True)) == [second.pk]
    assert second.pk not in set(ticket.messages.values_list("pk", flat=True))
    messages_after, events_after, files_after = _history(ticket, new)
    assert messages_after == messages_before and files_after == files_before
    assert events_before <= events_after
    assert TicketLink.objects.get().kind == LinkKind.RELATED
    assert list(new.tags.values_list("name", flat=True)) == ["printer"]
    assert ticket.events.filter(type=EventType.SPLIT, new_value=f"#{new.number}").exists()
    assert ticket.events.filter(type=EventType.CREATED).exists()
    assert "scanner" in TicketSearchDocument.objects.get(ticket=new).public_terms.lower()
    with pytest.raises(BusinessRuleError):
        split_ticket(cast.agent, new, second)  # its only message


def test_split_from_the_message_menu_and_outsiders(client, cast, make_ticket):
    ticket = make_ticket()
    second = add_message(cast.alice, ticket, body="another issue")
    url = reverse("tickets:split", args=[ticket.pk, second.pk])
    client.force_login(cast.tech_agent)
    assert client.post(url).status_code == 403
    client.force_login(cast.quality_agent)
    assert client.post(url).status_code == 404
    client.force_login(cast.agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert url in html
    response = client.post(url, {"subject": ""})
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response["Location"] == reverse("tickets:detail", args=[new.pk])


def test_api_splits(cast, make_ticket):
    ticket = make_ticket()
    second = add_message(cast.alice, ticket, body="another issue")
    response = api(cast, cast.agent).post(f"/tickets/{ticket.pk}/split", {"message": second.pk})
    assert response.status_code == 201, response.json()
    assert response.json()["links"][0]["ticket"]["id"] == ticket.pk
    response = api(cast, cast.agent).post(f"/tickets/{ticket.pk}/split", {"message": 999999})
    assert response.status_code == 422 and error_fields(response) == ["message"]
