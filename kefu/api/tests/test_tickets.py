"""Contract tests for /api/v1/tickets: create, list (filters, keyset pages), read and change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.api.tests.conftest import error_fields
from kefu.customers.models import Contact
from kefu.sla.models import SLAPolicy, TicketSLA
from kefu.tickets.models import EventType, Ticket

# Counted on SQLite with the test cast, savepoints included: ticket, message, event,
# search document, SLA row, waiting alert, the version checks and the API's read-back.
QUERIES_PER_NEW_TICKET = 38

TICKET_KEYS = {
    "id",
    "number",
    "subject",
    "state",
    "priority",
    "type",
    "channel",
    "group",
    "assignee",
    "customer",
    "created_at",
    "updated_at",
}


# --- POST /tickets --------------------------------------------------------------------------


def test_customer_opens_a_ticket_for_themselves(cast, api_as):
    response = api_as(cast.alice).post(
        "/tickets", {"subject": "打印机卡纸", "body": "Paper jam on tray 2"}
    )

    assert response.status_code == 201
    data = response.json()
    assert TICKET_KEYS <= set(data)
    assert data["customer"] == {"id": cast.alice.contact.pk, "name": "Alice 李"}
    assert data["group"] == {"id": cast.cs.pk, "name": cast.cs.name}
    assert data["assignee"] is None
    assert data["channel"] == "api"
    assert data["state"] == "new"
    assert data["tags"] is None  # staff-only field
    assert Ticket.objects.get(pk=data["id"]).messages.get().body_text == "Paper jam on tray 2"


def test_customer_may_name_themselves_as_the_customer(cast, api_as):
    response = api_as(cast.alice).post(
        "/tickets", {"subject": "Hi", "body": "x", "customer": {"email": "ALICE@acme.example"}}
    )
    assert response.status_code == 201
    assert response.json()["customer"]["id"] == cast.alice.contact.pk


def test_customer_cannot_open_a_ticket_for_someone_else(cast, api_as):
    response = api_as(cast.alice).post(
        "/tickets", {"subject": "Hi", "body": "x", "customer": {"email": "bob@globex.example"}}
    )
    assert response.status_code == 403
    assert "themselves" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_customer_cannot_choose_the_group(cast, api_as):
    response = api_as(cast.alice).post(
        "/tickets", {"subject": "Hi", "body": "x", "group": cast.tech.pk}
    )
    assert response.status_code == 422
    assert error_fields(response) == ["group"]


def test_agent_opens_a_ticket_for_an_existing_customer(cast, api_as):
    response = api_as(cast.agent).post(
        "/tickets",
        {
            "subject": "Phone call: noisy fan",
            "body": "Customer called.",
            "channel": "phone",
            "priority": "high",
            "type": "incident",
            "group": cast.aftersales.pk,
            "customer": {"email": "bob@globex.example"},
            "tags": ["fan", "noise"],
        },
    )

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["customer"]["id"] == cast.bob.contact.pk
    assert data["organization"] == {"id": cast.globex.pk, "name": "Globex"}
    assert (data["channel"], data["priority"], data["type"]) == ("phone", "high", "incident")
    assert data["group"]["id"] == cast.aftersales.pk
    assert data["tags"] == ["fan", "noise"]


def test_agent_creates_a_contact_for_an_unknown_customer(cast, api_as):
    response = api_as(cast.agent).post(
        "/tickets",
        {
            "subject": "WeChat enquiry",
            "body": "你好",
            "customer": {"wechat_id": "wx_zhang", "name": "张三"},
        },
    )
    assert response.status_code == 201
    contact = Contact.objects.get(wechat_id="wx_zhang")
    assert response.json()["customer"] == {"id": contact.pk, "name": "张三"}


def test_agent_must_name_the_customer(cast, api_as):
    response = api_as(cast.agent).post("/tickets", {"subject": "Hi", "body": "x"})
    assert response.status_code == 422
    assert error_fields(response) == ["customer"]


def test_it_names_the_bad_customer_field_and_keeps_no_contact(cast, api_as):
    response = api_as(cast.agent).post(
        "/tickets", {"subject": "Hi", "body": "x", "customer": {"email": "not-an-address"}}
    )
    assert response.status_code == 422
    assert error_fields(response) == ["customer.email"]


def test_a_failed_ticket_does_not_leave_a_new_contact_behind(cast, api_as):
    response = api_as(cast.agent).post(
        "/tickets", {"subject": "   ", "body": "x", "customer": {"email": "new@example.com"}}
    )
    assert response.status_code == 422
    assert error_fields(response) == ["subject"]
    assert not Contact.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "x"}, "subject"),
        ({"subject": "Hi"}, "body"),
        ({"subject": "Hi", "body": "x", "priority": "whenever"}, "priority"),
        ({"subject": "Hi", "body": "x", "channel": "pigeon"}, "channel"),
        ({"subject": "Hi", "body": "x", "type": "no-such-type"}, "type"),
        ({"subject": "Hi", "body": "x", "group": 999999}, "group"),
        ({"subject": "Hi", "body": "x", "colour": "red"}, "colour"),
        (
            {"subject": "Hi", "body": "x", "customer": {"email": "a@b.example", "fax": "1"}},
            "customer.fax",
        ),
    ],
)
def test_it_rejects_invalid_input_naming_the_field(cast, api_as, payload, field):
    payload.setdefault("customer", {"email": "bob@globex.example"})
    response = api_as(cast.agent).post("/tickets", payload)
    assert response.status_code == 422
    assert field in error_fields(response)
    assert response.json()["detail"]


def test_it_rejects_a_body_that_is_not_json(cast, api_as):
    response = api_as(cast.agent).post("/tickets", "{not json")
    assert response.status_code == 422
    assert error_fields(response) == ["body"]


def test_it_refuses_a_deactivated_group_as_a_business_rule(cast, api_as):
    cast.tech.is_active = False
    cast.tech.save()
    response = api_as(cast.agent).post(
        "/tickets",
        {
            "subject": "Hi",
            "body": "x",
            "group": cast.tech.pk,
            "customer": {"email": "bob@globex.example"},
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "group", "message": response.json()["detail"]}]


def test_it_requires_a_token(cast, api_as):
    response = api_as(None).post("/tickets", {"subject": "Hi", "body": "x"})
    assert response.status_code == 401
    assert not Ticket.objects.exists()


# --- GET /tickets/{id} ----------------------------------------------------------------------


def test_it_reads_a_visible_ticket(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    for user in (cast.alice, cast.alan, cast.agent, cast.tech_agent, cast.supervisor, cast.admin):
        response = api_as(user).get(f"/tickets/{ticket.pk}")
        assert response.status_code == 200, user
        assert response.json()["number"] == ticket.number


@pytest.mark.parametrize("outsider", ["bob", "carol", "quality_agent"])
def test_outsiders_get_404_for_a_ticket_they_cannot_see(cast, api_as, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    response = api_as(getattr(cast, outsider)).get(f"/tickets/{ticket.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found", "errors": []}


def test_it_answers_404_for_a_missing_ticket(cast, api_as):
    assert api_as(cast.admin).get("/tickets/424242").status_code == 404


def test_it_requires_a_token_to_read(cast, api_as, make_ticket):
    assert api_as(None).get(f"/tickets/{make_ticket().pk}").status_code == 401


# --- GET /tickets ---------------------------------------------------------------------------


def test_it_lists_only_visible_tickets(cast, api_as, make_ticket):
    acme = make_ticket(cast.alice)
    globex = make_ticket(cast.bob)
    tech = make_ticket(cast.carol, group=cast.tech)

    def numbers(user):
        return {item["number"] for item in api_as(user).get("/tickets").json()["items"]}

    assert numbers(cast.alan) == {acme.number}
    assert numbers(cast.bob) == {globex.number}
    assert numbers(cast.agent) == {acme.number, globex.number}
    assert numbers(cast.quality_agent) == set()
    assert numbers(cast.tech_agent) == {acme.number, globex.number, tech.number}
    assert numbers(cast.admin) == {acme.number, globex.number, tech.number}


def test_it_filters_the_list(cast, api_as, make_ticket):
    from kefu.tickets.actions import update_ticket

    mine = make_ticket(cast.alice, priority="urgent")
    update_ticket(cast.admin, mine, assignee=cast.agent, state="open")
    unassigned = make_ticket(cast.bob)
    other_group = make_ticket(cast.carol, group=cast.aftersales)
    client = api_as(cast.admin)

    def numbers(**params):
        response = client.get("/tickets", params)
        assert response.status_code == 200, response.json()
        return {item["number"] for item in response.json()["items"]}

    assert numbers(state="open") == {mine.number}
    assert numbers(priority="urgent") == {mine.number}
    assert numbers(group=cast.aftersales.pk) == {other_group.number}
    assert numbers(assignee=cast.agent.pk) == {mine.number}
    assert numbers(assignee="none") == {unassigned.number, other_group.number}
    assert numbers(customer=cast.bob.contact.pk) == {unassigned.number}
    assert (
        api_as(cast.agent).get("/tickets", {"assignee": "me"}).json()["items"][0]["number"]
        == mine.number
    )


def test_it_filters_by_ticket_type_and_channel(cast, api_as, make_ticket):
    complaint = make_ticket(cast.alice, type_key="complaint", channel="phone")
    make_ticket(cast.alice)
    make_ticket(cast.carol, type_key="complaint", group=cast.aftersales)

    def numbers(user, **params):
        response = api_as(user).get("/tickets", params)
        assert response.status_code == 200, response.json()
        return {item["number"] for item in response.json()["items"]}

    assert numbers(cast.agent, type="complaint") == {complaint.number}
    assert numbers(cast.agent, channel="phone") == {complaint.number}
    assert numbers(cast.bob, type="complaint") == set()  # another customer's complaint: unseen
    response = api_as(cast.agent).get("/tickets", {"type": "grumble"})
    assert response.status_code == 422 and error_fields(response) == ["type"]
    assert "complaint" in response.json()["errors"][0]["message"]


def test_it_rejects_a_bad_filter_naming_it(cast, api_as):
    response = api_as(cast.agent).get("/tickets", {"assignee": "somebody"})
    assert response.status_code == 422
    assert error_fields(response) == ["assignee"]
    response = api_as(cast.agent).get("/tickets", {"limit": 1000})
    assert response.status_code == 422
    assert error_fields(response) == ["limit"]


def test_it_pages_newest_first_with_a_cursor(cast, api_as, make_ticket):
    created = [make_ticket(cast.alice, subject=f"Ticket {n}") for n in range(5)]
    client = api_as(cast.agent)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/tickets", params).json()
        seen += [item["number"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert seen == [ticket.number for ticket in reversed(created)]
    assert pages == 3


def test_a_new_ticket_does_not_shift_the_next_page(cast, api_as, make_ticket):
    older, newer = make_ticket(subject="older"), make_ticket(subject="newer")
    client = api_as(cast.agent)
    first = client.get("/tickets", {"limit": 1}).json()
    make_ticket(subject="newest")
    second = client.get("/tickets", {"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [first["items"][0]["number"], second["items"][0]["number"]] == [
        newer.number,
        older.number,
    ]


def test_a_cursor_of_another_list_is_refused(cast, api_as, make_ticket):
    make_ticket()
    contacts_cursor = api_as(cast.agent).get("/contacts", {"limit": 1}).json()["next_cursor"]
    response = api_as(cast.agent).get("/tickets", {"cursor": contacts_cursor})
    assert response.status_code == 422 and error_fields(response) == ["cursor"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ:1abc:forged"])
def test_it_rejects_a_bad_cursor_naming_it(cast, api_as, cursor):
    response = api_as(cast.agent).get("/tickets", {"cursor": cursor})
    assert response.status_code == 422
    assert error_fields(response) == ["cursor"]


@pytest.mark.parametrize("user", ["agent", "alice"])
def test_the_list_takes_the_same_number_of_queries_for_any_page_size(
    cast, api_as, make_ticket, user, django_assert_max_num_queries
):
    from kefu.tickets.actions import update_ticket

    for n in range(12):
        ticket = make_ticket(cast.alice, tags=[f"tag{n}", "printer"])
        update_ticket(cast.admin, ticket, assignee=cast.agent)
    client = api_as(getattr(cast, user))
    client.get("/tickets")  # the first request of a token also records its use

    counts = []
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get("/tickets", {"limit": limit}).json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Staff also get custom field values and both directions of links (one prefetch each).
    with django_assert_max_num_queries(4 if user == "alice" else 7):
        client.get("/tickets", {"limit": 12})


def test_it_requires_a_token_to_list(cast, api_as):
    assert api_as(None).get("/tickets").status_code == 401


# --- PATCH /tickets/{id} --------------------------------------------------------------------


def test_agent_changes_a_ticket(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).patch(
        f"/tickets/{ticket.pk}",
        {
            "state": "open",
            "priority": "urgent",
            "type": "incident",
            "assignee": cast.agent.pk,
            "tags": ["vip", "打印机"],
            "subject": "Printer E23 on floor 3",
            "reason": "Customer called again",
        },
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["state"], data["priority"], data["type"]) == ("open", "urgent", "incident")
    assert data["assignee"] == {"id": cast.agent.pk, "name": cast.agent.name}
    assert data["tags"] == ["vip", "打印机"]
    assert data["subject"] == "Printer E23 on floor 3"
    changed = ticket.events.filter(type=EventType.CHANGED)
    assert set(changed.values_list("field", flat=True)) == {
        "state",
        "priority",
        "type",
        "assignee",
        "tags",
        "subject",
    }
    assert set(changed.values_list("reason", flat=True)) == {"Customer called again"}


def test_agent_unassigns_with_null(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice, assignee=cast.agent)
    response = api_as(cast.agent).patch(f"/tickets/{ticket.pk}", {"assignee": None})
    assert response.status_code == 200
    assert response.json()["assignee"] is None


def test_supervisor_moves_a_ticket_to_another_group(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.supervisor).patch(f"/tickets/{ticket.pk}", {"group": cast.tech.pk})
    assert response.status_code == 200
    assert response.json()["group"]["id"] == cast.tech.pk


def test_it_rejects_null_for_fields_that_need_a_value(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).patch(f"/tickets/{ticket.pk}", {"state": None})
    assert response.status_code == 422
    assert error_fields(response) == ["state"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"assignee": 999999}, "assignee"),
        ({"group": 999999}, "group"),
        ({"state": "done"}, "state"),
        ({"tags": ["a,b"]}, "tags"),
        ({"number": 5}, "number"),
    ],
)
def test_it_rejects_invalid_changes_naming_the_field(cast, api_as, make_ticket, payload, field):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).patch(f"/tickets/{ticket.pk}", payload)
    assert response.status_code == 422
    assert error_fields(response) == [field]


def test_it_rejects_an_assignee_outside_the_group(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).patch(
        f"/tickets/{ticket.pk}", {"assignee": cast.quality_agent.pk}
    )
    assert response.status_code == 422
    assert error_fields(response) == ["assignee"]


def test_read_only_agent_cannot_change_a_ticket(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.tech_agent).patch(f"/tickets/{ticket.pk}", {"priority": "low"})
    assert response.status_code == 403
    assert response.json()["detail"]


def test_customer_closes_their_ticket(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.alice).patch(f"/tickets/{ticket.pk}", {"state": "closed"})
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    assert response.json()["closed_at"]


def test_customer_cannot_change_staff_fields(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.alice).patch(f"/tickets/{ticket.pk}", {"priority": "urgent"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == "medium"


@pytest.mark.parametrize("outsider", ["bob", "quality_agent"])
def test_outsiders_cannot_change_a_ticket(cast, api_as, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    response = api_as(getattr(cast, outsider)).patch(f"/tickets/{ticket.pk}", {"state": "closed"})
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.state == "new"


def test_it_requires_a_token_to_change(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    assert api_as(None).patch(f"/tickets/{ticket.pk}", {"state": "closed"}).status_code == 401


def test_opening_a_ticket_reads_configuration_once_per_process(cast, api_as):
    """Policies, rules, triggers, types and groups come from per-process snapshots: the
    second ticket costs a fixed number of queries, and a changed policy is seen at once."""
    client = api_as(cast.agent)
    body = {"subject": "扫描仪卡纸", "body": "Tray 2", "customer": {"email": "alice@acme.example"}}
    assert client.post("/tickets", body).status_code == 201

    with CaptureQueriesContext(connection) as queries:
        assert client.post("/tickets", body).status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= QUERIES_PER_NEW_TICKET, "\n".join(statements)
    assert not [s for s in statements if 'FROM "sla_slapolicy"' in s]
    assert not [s for s in statements if 'FROM "routing_assignmentrule"' in s]

    for policy in SLAPolicy.objects.all():
        policy.is_active = False
        policy.save()
    ticket_id = client.post("/tickets", body).json()["id"]
    assert TicketSLA.objects.get(ticket_id=ticket_id).policy is None
