"""``/users``, ``/groups`` CRUD, ``/audit``, ``/contacts/{id}/anonymise`` and expired tokens —
with the outsider cases."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from kefu.accounts.actions import create_api_token
from kefu.accounts.models import Access, Group, Membership, Role, User
from kefu.audit.actions import record
from kefu.audit.models import AuditEntry
from kefu.tickets.models import Ticket

# --- expired tokens -------------------------------------------------------------------------


def test_an_expired_token_gets_a_401_that_says_so(cast, api_as):
    _token, raw = create_api_token(
        None, cast.agent, "short", expires_at=timezone.now() + timedelta(days=1)
    )
    client = api_as(token=raw)
    assert client.get("/groups").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = client.get("/groups")
    assert response.status_code == 401
    assert "token expired" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_unknown_token_still_gets_the_generic_401(cast, api_as):
    response = api_as(token="kefu_nope").get("/groups")
    assert response.status_code == 401
    assert "expired" not in response.json()["detail"]


# --- users ----------------------------------------------------------------------------------


def test_staff_list_active_colleagues_but_admins_see_everyone(cast, api_as):
    cast.tech_agent.is_active = False
    cast.tech_agent.save()
    agent_view = api_as(cast.agent).get("/users").json()["items"]
    assert cast.tech_agent.pk not in {u["id"] for u in agent_view}
    assert cast.admin.pk in {u["id"] for u in agent_view}
    admin_view = api_as(cast.admin).get("/users", {"is_active": "false"}).json()["items"]
    assert [u["id"] for u in admin_view] == [cast.tech_agent.pk]
    customers = api_as(cast.admin).get("/users", {"role": "customer"}).json()["items"]
    assert cast.alice.pk in {u["id"] for u in customers}
    assert api_as(cast.agent).get(f"/users/{cast.alice.pk}").status_code == 404


def test_customer_cannot_list_users(cast, api_as):
    assert api_as(cast.alice).get("/users").status_code == 403


def test_an_admin_creates_changes_and_deactivates_a_user(cast, api_as, make_ticket):
    client = api_as(cast.admin)
    created = client.post(
        "/users",
        {
            "email": "li@kefu.example",
            "name": "李工",
            "role": "agent",
            "groups": [{"group": cast.cs.pk, "access": "full"}],
        },
    )
    assert created.status_code == 201, created.json()
    user_id = created.json()["id"]
    assert created.json()["groups"] == [
        {"group": cast.cs.pk, "name": cast.cs.name, "access": "full"}
    ]
    changed = client.patch(
        f"/users/{user_id}",
        {"role": "supervisor", "groups": [{"group": cast.tech.pk, "access": "read"}]},
    )
    assert changed.status_code == 200
    assert changed.json()["role"] == "supervisor"
    assert {(m.group_id, m.access) for m in Membership.objects.filter(user_id=user_id)} == {
        (cast.tech.pk, Access.READ)
    }
    ticket = make_ticket(assignee=cast.agent)
    response = client.post(
        f"/users/{cast.agent.pk}/deactivate", {"reassign_group": cast.aftersales.pk}
    )
    assert response.status_code == 200
    assert response.json()["tickets_handed_over"] == 1
    assert response.json()["user"]["is_active"] is False
    ticket.refresh_from_db()
    assert ticket.group == cast.aftersales and ticket.assignee is None
    assert client.post(f"/users/{cast.agent.pk}/reactivate").json()["is_active"] is True
    actions_logged = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"user.created", "user.role_changed", "membership.removed", "user.deactivated"} <= (
        actions_logged
    )


def test_users_are_never_deleted_through_the_api(cast, api_as):
    response = api_as(cast.admin).client.delete(
        f"/api/v1/users/{cast.agent.pk}",
        headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
    )
    assert response.status_code == 405
    assert User.objects.filter(pk=cast.agent.pk).exists()


def test_an_agent_cannot_create_promote_or_deactivate_users(cast, api_as):
    client = api_as(cast.agent)
    assert (
        client.post("/users", {"email": "x@kefu.example", "name": "X", "role": "admin"}).status_code
        == 403
    )
    assert client.patch(f"/users/{cast.agent.pk}", {"role": "admin"}).status_code == 403
    assert client.post(f"/users/{cast.supervisor.pk}/deactivate", {}).status_code == 403
    cast.agent.refresh_from_db()
    assert cast.agent.role == Role.AGENT
    assert not User.objects.filter(email="x@kefu.example").exists()


def test_the_api_refuses_customer_logins_and_bad_groups(cast, api_as):
    client = api_as(cast.admin)
    response = client.post("/users", {"email": "c@x.example", "name": "C", "role": "customer"})
    assert response.status_code == 422
    response = client.post(
        "/users",
        {"email": "d@x.example", "name": "D", "role": "agent", "groups": [{"group": 999999}]},
    )
    assert response.status_code == 422
    assert not User.objects.filter(email__in=["c@x.example", "d@x.example"]).exists()


# --- groups ---------------------------------------------------------------------------------


def test_an_admin_creates_and_changes_a_group(cast, api_as):
    client = api_as(cast.admin)
    created = client.post(
        "/groups",
        {
            "name": "VIP",
            "signature": "VIP team",
            "escalation_group": cast.tech.pk,
            "email": "vip@kefu.example",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["escalation_group"] == {"id": cast.tech.pk, "name": cast.tech.name}
    assert (body["signature"], body["members"]) == ("VIP team", [])
    changed = client.patch(f"/groups/{body['id']}", {"escalation_group": None, "name": "VIP 服务"})
    assert changed.json()["escalation_group"] is None and changed.json()["name"] == "VIP 服务"
    off = client.patch(f"/groups/{body['id']}", {"is_active": False})
    assert off.json()["is_active"] is False
    assert body["id"] not in {g["id"] for g in client.get("/groups").json()["items"]}
    everything = client.get("/groups", {"include_inactive": "true"}).json()["items"]
    assert body["id"] in {g["id"] for g in everything}


def test_a_group_with_open_tickets_is_not_deactivated_through_the_api(cast, api_as, make_ticket):
    make_ticket(group=cast.aftersales)
    response = api_as(cast.admin).patch(f"/groups/{cast.aftersales.pk}", {"is_active": False})
    assert response.status_code == 400
    cast.aftersales.refresh_from_db()
    assert cast.aftersales.is_active


def test_staff_read_a_group_with_members_but_cannot_change_it(cast, api_as):
    client = api_as(cast.agent)
    detail = client.get(f"/groups/{cast.cs.pk}").json()
    assert cast.agent.pk in {m["id"] for m in detail["members"]}
    assert client.post("/groups", {"name": "Mine"}).status_code == 403
    assert client.patch(f"/groups/{cast.cs.pk}", {"name": "Mine"}).status_code == 403
    assert not Group.objects.filter(name="Mine").exists()
    assert api_as(cast.alice).get(f"/groups/{cast.cs.pk}").status_code == 403


# --- audit ----------------------------------------------------------------------------------


def test_admins_page_through_the_audit_log(cast, api_as):
    for n in range(5):
        record(cast.admin, "group.updated", cast.cs, {"name": [f"old {n}", f"new {n}"]})
    record(cast.supervisor, "token.revoked", None)
    client = api_as(cast.admin)
    first = client.get("/audit", {"limit": 3, "actor": cast.admin.pk}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    assert first["items"][0]["changes"] == {"name": ["old 4", "new 4"]}
    assert first["items"][0]["actor"] == {
        "id": cast.admin.pk,
        "name": f"{cast.admin.name} <{cast.admin.email}>",
    }
    second = client.get(
        "/audit", {"limit": 3, "actor": cast.admin.pk, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    by_type = client.get("/audit", {"object_type": "accounts.group"}).json()["items"]
    assert len(by_type) == 5


def test_an_agent_cannot_read_the_audit_log(cast, api_as):
    record(cast.admin, "group.updated", cast.cs)
    assert api_as(cast.agent).get("/audit").status_code == 403
    assert api_as(cast.alice).get("/audit").status_code == 403


# --- personal data --------------------------------------------------------------------------


def test_an_admin_anonymises_a_contact_through_the_api(cast, api_as, make_ticket):
    ticket = make_ticket(cast.carol, body="My address is 上海市 1 号")
    response = api_as(cast.admin).post(f"/contacts/{cast.carol.contact.pk}/anonymise", {})
    assert response.status_code == 200, response.json()
    assert response.json()["tickets_anonymised"] == 1
    ticket.refresh_from_db()
    assert all(m.body_text == "" for m in ticket.messages.all())
    contact = cast.carol.contact
    contact.refresh_from_db()
    assert contact.name != "Carol 陈" and "carol" not in contact.email


def test_an_admin_purges_spam_through_the_api(cast, api_as, make_ticket):
    ticket = make_ticket(cast.bob, subject="Cheap watches")
    response = api_as(cast.admin).post(
        f"/contacts/{cast.bob.contact.pk}/anonymise", {"mode": "purge_spam"}
    )
    assert response.json()["tickets_deleted"] == 1
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


def test_an_agent_cannot_anonymise_or_purge(cast, api_as, make_ticket):
    ticket = make_ticket(cast.carol)
    for mode in ("anonymise", "purge_spam"):
        response = api_as(cast.agent).post(
            f"/contacts/{cast.carol.contact.pk}/anonymise", {"mode": mode}
        )
        assert response.status_code == 403
    assert (
        api_as(cast.alice).post(f"/contacts/{cast.carol.contact.pk}/anonymise", {}).status_code
        == 403
    )
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    cast.carol.contact.refresh_from_db()
    assert cast.carol.contact.name == "Carol 陈"


def test_an_unknown_mode_is_refused(cast, api_as):
    response = api_as(cast.admin).post(
        f"/contacts/{cast.carol.contact.pk}/anonymise", {"mode": "delete"}
    )
    assert response.status_code == 422
