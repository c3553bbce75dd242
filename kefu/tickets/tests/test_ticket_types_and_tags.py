"""Administrators keep the ticket types and tidy tags (rename, merge) in the console; every
change is audited, tickets follow, and nobody else gets in."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.audit.models import AuditEntry
from kefu.tickets.actions import update_ticket
from kefu.tickets.models import Tag, TicketSearchDocument, TicketType
from kefu.tickets.tags import create_tag, merge_tag, rename_tag
from kefu.tickets.ticket_types import save_ticket_type


def _tags_of(ticket) -> list[str]:
    return sorted(ticket.tags.values_list("name", flat=True))


# --- ticket types ---------------------------------------------------------------------------


def test_an_admin_adds_renames_and_deactivates_a_ticket_type(cast):
    rma = save_ticket_type(cast.admin, key="rma", name="Return")
    save_ticket_type(cast.admin, rma, name="Return (RMA)", position=3, is_active=False)
    rma.refresh_from_db()
    assert (rma.key, rma.name, rma.position, rma.is_active) == ("rma", "Return (RMA)", 3, False)
    actions = list(
        AuditEntry.objects.filter(object_type="tickets.tickettype")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["ticket_type.created", "ticket_type.updated"]


def test_the_key_is_fixed_and_unique(cast):
    rma = save_ticket_type(cast.admin, key="rma", name="Return")
    with pytest.raises(ValidationError, match="cannot change"):
        save_ticket_type(cast.admin, rma, key="returns", name="Return")
    with pytest.raises(ValidationError, match="exists already"):
        save_ticket_type(cast.admin, key="rma", name="Again")
    with pytest.raises(ValidationError, match="starts with a letter"):
        save_ticket_type(cast.admin, key="退货", name="Return")


def test_the_last_active_type_stays_active(cast):
    for other in TicketType.objects.exclude(key="question"):
        save_ticket_type(cast.admin, other, name=other.name, is_active=False)
    question = TicketType.objects.get(key="question")
    with pytest.raises(ValidationError, match="at least one"):
        save_ticket_type(cast.admin, question, name=question.name, is_active=False)


def test_staff_other_than_admins_cannot_change_ticket_types(cast):
    with pytest.raises(PermissionDenied):
        save_ticket_type(cast.supervisor, key="rma", name="Return")
    assert not TicketType.objects.filter(key="rma").exists()


# --- tags -----------------------------------------------------------------------------------


def test_renaming_a_tag_renames_it_on_every_ticket_and_in_search(cast, make_ticket):
    ticket = update_ticket(cast.admin, make_ticket(), tags=["printr"])
    tag = Tag.objects.get(name="printr")
    rename_tag(cast.admin, tag, "printer")
    assert _tags_of(ticket) == ["printer"]
    document = TicketSearchDocument.objects.get(ticket=ticket)
    assert "printer" in document.staff_terms
    entry = AuditEntry.objects.get(action="tag.renamed")
    assert entry.changes["name"] == ["printr", "printer"] and entry.changes["tickets"] == 1


def test_merging_a_tag_moves_its_tickets_and_removes_it(cast, make_ticket):
    both = update_ticket(cast.admin, make_ticket(), tags=["printr", "printer"])
    misspelt_only = update_ticket(cast.admin, make_ticket(subject="Other"), tags=["printr"])
    merge_tag(cast.admin, Tag.objects.get(name="printr"), Tag.objects.get(name="printer"))
    assert _tags_of(both) == ["printer"] and _tags_of(misspelt_only) == ["printer"]
    assert not Tag.objects.filter(name="printr").exists()
    assert AuditEntry.objects.get(action="tag.merged").changes["tickets"] == 2


def test_a_tag_name_that_exists_or_breaks_the_rules_is_refused(cast):
    create_tag(cast.admin, "vip")
    with pytest.raises(ValidationError, match="exists already"):
        create_tag(cast.admin, "VIP")
    with pytest.raises(ValidationError, match="comma"):
        create_tag(cast.admin, "a,b")
    with pytest.raises(ValidationError):
        merge_tag(cast.admin, Tag.objects.get(name="vip"), Tag.objects.get(name="vip"))


def test_agents_cannot_rename_or_merge_tags(cast):
    tag = create_tag(cast.admin, "vip")
    other = create_tag(cast.admin, "gold")
    with pytest.raises(PermissionDenied):
        rename_tag(cast.agent, tag, "v.i.p.")
    with pytest.raises(PermissionDenied):
        merge_tag(cast.agent, tag, other)
    assert set(Tag.objects.values_list("name", flat=True)) == {"vip", "gold"}


# --- console pages --------------------------------------------------------------------------


def test_an_admin_manages_types_and_tags_in_the_console(client, cast, make_ticket):
    client.force_login(cast.admin)
    assert client.get("/tickets/types/").status_code == 200
    response = client.post(
        "/tickets/types/new/", {"key": "rma", "name": "Return", "position": 2, "is_active": "on"}
    )
    assert response.status_code == 302
    rma = TicketType.objects.get(key="rma")
    # The key field is disabled on edit: a posted key is ignored, the name changes.
    client.post(
        f"/tickets/types/{rma.pk}/",
        {"key": "other", "name": "Returns", "position": 2, "is_active": "on"},
    )
    rma.refresh_from_db()
    assert (rma.key, rma.name) == ("rma", "Returns")
    assert "Returns" in client.get("/tickets/types/").content.decode()

    ticket = update_ticket(cast.admin, make_ticket(), tags=["printr"])
    assert client.post("/tickets/tags/", {"name": "printer"}).status_code == 302
    printr, printer = Tag.objects.get(name="printr"), Tag.objects.get(name="printer")
    page = client.get(f"/tickets/tags/{printr.pk}/")
    assert page.status_code == 200 and "1 ticket has this tag" in page.content.decode()
    response = client.post(f"/tickets/tags/{printr.pk}/", {"merge": "1", "into": printer.pk})
    assert response.status_code == 302
    assert _tags_of(ticket) == ["printer"]


def test_a_bad_type_or_tag_keeps_what_was_typed(client, cast):
    client.force_login(cast.admin)
    response = client.post("/tickets/types/new/", {"key": "question", "name": "Dup", "position": 0})
    assert response.status_code == 400 and "exists already" in response.content.decode()
    create_tag(cast.admin, "vip")
    response = client.post("/tickets/tags/", {"name": "VIP"})
    body = response.content.decode()
    assert response.status_code == 400 and "exists already" in body and 'value="VIP"' in body


@pytest.mark.parametrize("url", ["/tickets/types/", "/tickets/tags/", "/tickets/types/new/"])
def test_other_staff_get_403_and_customers_404(client, cast, url):
    client.force_login(cast.supervisor)
    assert client.get(url).status_code == 403
    client.force_login(cast.alice)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
