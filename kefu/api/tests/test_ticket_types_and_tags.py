"""``/ticket-types`` and ``/tags`` over the API: administrators write, staff read tags, everyone
reads active types; customers and other staff get 403 with the reason."""

from __future__ import annotations

from kefu.audit.models import AuditEntry
from kefu.tickets.actions import update_ticket
from kefu.tickets.models import Tag, TicketType
from kefu.tickets.tags import create_tag


def test_an_admin_adds_and_changes_a_ticket_type(cast, api_as):
    api = api_as(cast.admin)
    created = api.post("/ticket-types", {"key": "rma", "name": "Return", "position": 7})
    assert created.status_code == 201
    assert created.json() == {"key": "rma", "name": "Return", "position": 7, "active": True}
    changed = api.patch("/ticket-types/rma", {"name": "Returns", "active": False})
    assert changed.status_code == 200 and changed.json()["active"] is False
    keys = [item["key"] for item in api.get("/ticket-types").json()["items"]]
    assert "rma" not in keys
    everything = api.get("/ticket-types", {"include_inactive": "true"}).json()["items"]
    assert "rma" in [item["key"] for item in everything]
    assert AuditEntry.objects.filter(action__startswith="ticket_type.").count() == 2


def test_a_bad_ticket_type_gets_a_field_error(cast, api_as):
    response = api_as(cast.admin).post("/ticket-types", {"key": "question", "name": "Again"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "key"
    assert api_as(cast.admin).patch("/ticket-types/nope", {"name": "x"}).status_code == 404


def test_customers_and_agents_cannot_write_ticket_types(cast, api_as):
    for user in (cast.alice, cast.agent):
        response = api_as(user).post("/ticket-types", {"key": "rma", "name": "Return"})
        assert response.status_code == 403
    assert not TicketType.objects.filter(key="rma").exists()
    # Customers read the active types (they choose one on the portal).
    assert api_as(cast.alice).get("/ticket-types").status_code == 200


def test_an_admin_renames_and_merges_tags(cast, api_as, make_ticket):
    ticket = update_ticket(cast.admin, make_ticket(), tags=["printr"])
    api = api_as(cast.admin)
    printer = api.post("/tags", {"name": "printer"}).json()
    printr = Tag.objects.get(name="printr")
    renamed = api.patch(f"/tags/{printr.pk}", {"name": "printr-old"})
    assert renamed.json() == {"id": printr.pk, "name": "printr-old", "ticket_count": 1}
    merged = api.post(f"/tags/{printr.pk}/merge", {"into": printer["id"]})
    assert merged.status_code == 200 and merged.json()["ticket_count"] == 1
    assert list(ticket.tags.values_list("name", flat=True)) == ["printer"]
    missing = api.post(f"/tags/{printer['id']}/merge", {"into": 999999})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "into"


def test_staff_read_tags_customers_do_not(cast, api_as):
    create_tag(cast.admin, "vip")
    assert [t["name"] for t in api_as(cast.agent).get("/tags").json()["items"]] == ["vip"]
    assert api_as(cast.alice).get("/tags").status_code == 403
    assert api_as(cast.agent).post("/tags", {"name": "gold"}).status_code == 403
    assert (
        api_as(cast.alice).patch(f"/tags/{Tag.objects.get().pk}", {"name": "x"}).status_code == 403
    )
    assert list(Tag.objects.values_list("name", flat=True)) == ["vip"]
