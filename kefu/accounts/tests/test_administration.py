"""Administration in the console: API tokens (own / all), users, memberships, deactivation with
ticket hand-over, groups — each with the outsider cases, and each change in the audit log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from kefu.accounts import actions
from kefu.accounts.models import Access, ApiToken, Group, Membership, Role, User
from kefu.audit.models import AuditEntry
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.models import EventType, TicketEvent

# --- API tokens -----------------------------------------------------------------------------


def test_staff_create_a_token_and_see_its_secret_exactly_once(client, cast):
    client.force_login(cast.agent)
    expires = timezone.localdate() + timedelta(days=30)
    response = client.post(
        reverse("accounts:tokens"), {"name": "ERP 集成", "expires_on": expires.isoformat()}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=cast.agent)
    raw = response.context["raw_token"]
    assert raw.startswith("kefu_") and raw.encode() in response.content
    assert token.name == "ERP 集成"
    assert timezone.localtime(token.expires_at).date() == expires
    again = client.get(reverse("accounts:tokens"))
    assert raw.encode() not in again.content and token.prefix.encode() in again.content
    entry = AuditEntry.objects.get(action="token.created")
    assert entry.actor == cast.agent and entry.object_id == str(token.pk)
    assert raw not in str(entry.changes)


def test_a_token_cannot_expire_in_the_past(client, cast):
    client.force_login(cast.agent)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        reverse("accounts:tokens"), {"name": "old", "expires_on": yesterday.isoformat()}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_an_agent_sees_only_their_own_tokens(client, cast):
    mine, _raw = actions.create_api_token(None, cast.agent, "mine")
    theirs, _raw = actions.create_api_token(None, cast.supervisor, "supervisor's")
    client.force_login(cast.agent)
    listed = list(client.get(reverse("accounts:tokens") + "?all=1").context["tokens"])
    assert listed == [mine]
    assert theirs not in listed


def test_an_agent_cannot_revoke_someone_elses_token(client, cast):
    theirs, _raw = actions.create_api_token(None, cast.supervisor, "supervisor's")
    client.force_login(cast.agent)
    response = client.post(reverse("accounts:token_revoke", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_staff_revoke_their_own_token(client, cast):
    mine, _raw = actions.create_api_token(None, cast.agent, "mine")
    client.force_login(cast.agent)
    response = client.post(reverse("accounts:token_revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert AuditEntry.objects.filter(action="token.revoked", actor=cast.agent).count() == 1


def test_an_admin_sees_and_revokes_every_token(client, cast):
    theirs, _raw = actions.create_api_token(None, cast.agent, "agent's")
    client.force_login(cast.admin)
    listed = list(client.get(reverse("accounts:tokens") + "?all=1").context["tokens"])
    assert theirs in listed
    client.post(reverse("accounts:token_revoke", args=[theirs.pk]), {"all": "1"})
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None


def test_customers_cannot_open_the_token_page(client, cast):
    assert client.get(reverse("accounts:tokens")).status_code == 302
    client.force_login(cast.alice)
    assert client.get(reverse("accounts:tokens")).status_code == 404


def test_expired_tokens_are_not_active(cast):
    token, _raw = actions.create_api_token(
        None, cast.agent, "short", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert ApiToken.objects.active().filter(pk=token.pk).exists()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert not ApiToken.objects.active().filter(pk=token.pk).exists()
        token.refresh_from_db()
        assert token.is_expired and not token.is_usable


# --- users ----------------------------------------------------------------------------------

ADMIN_PAGES: list[tuple[str, list[int]]] = [
    ("accounts:users", []),
    ("accounts:user_new", []),
    ("accounts:groups", []),
    ("accounts:group_new", []),
]


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
def test_only_admins_open_the_administration_pages(client, cast, name, args):
    url = reverse(name, args=args)
    assert client.get(url).status_code == 302
    client.force_login(cast.alice)
    assert client.get(url).status_code == 404
    for outsider in (cast.agent, cast.supervisor):
        client.force_login(outsider)
        assert client.get(url).status_code == 403
    client.force_login(cast.admin)
    assert client.get(url).status_code == 200


def test_an_agent_cannot_change_a_user_or_a_group(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("accounts:user", args=[cast.tech_agent.pk]), {"name": "x", "role": Role.ADMIN}
    )
    assert response.status_code == 403
    response = client.post(reverse("accounts:user_deactivate", args=[cast.tech_agent.pk]))
    assert response.status_code == 403
    response = client.post(reverse("accounts:group_deactivate", args=[cast.quality.pk]))
    assert response.status_code == 403
    cast.tech_agent.refresh_from_db()
    cast.quality.refresh_from_db()
    assert cast.tech_agent.role == Role.AGENT and cast.tech_agent.is_active
    assert cast.quality.is_active


def test_an_admin_adds_a_staff_member_with_a_group_and_an_invitation(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        reverse("accounts:user_new"),
        {
            "email": "New@Kefu.example",
            "name": "新人 New",
            "role": Role.AGENT,
            "group": cast.aftersales.pk,
            "access": Access.READ,
            "send_invitation": "on",
        },
    )
    user = User.objects.get(email="new@kefu.example")
    assert response.status_code == 302
    assert Membership.objects.get(user=user).access == Access.READ
    assert not user.has_usable_password()
    actions_logged = set(
        AuditEntry.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)
    )
    assert {"user.created", "membership.set", "user.invited"} <= actions_logged


def test_a_role_change_is_audited_with_old_and_new(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        reverse("accounts:user", args=[cast.agent.pk]),
        {"name": cast.agent.name, "role": Role.SUPERVISOR, "language": "", "time_zone": ""},
    )
    assert response.status_code == 302
    cast.agent.refresh_from_db()
    assert cast.agent.role == Role.SUPERVISOR
    entry = AuditEntry.objects.get(action="user.role_changed")
    assert entry.changes == {"role": ["agent", "supervisor"]}
    assert entry.actor == cast.admin and entry.ip == "127.0.0.1"


def test_staff_cannot_become_customers(cast):
    with pytest.raises(Exception, match="Staff cannot become customers"):
        actions.update_user(cast.admin, cast.agent, role=Role.CUSTOMER)


def test_the_last_admin_keeps_the_role_and_cannot_be_deactivated(cast):
    with pytest.raises(BusinessRuleError):
        actions.update_user(None, cast.admin, role=Role.AGENT)
    with pytest.raises(BusinessRuleError):
        actions.deactivate_user(None, cast.admin)
    with pytest.raises(BusinessRuleError):
        actions.deactivate_user(cast.admin, cast.admin)


def test_memberships_are_added_changed_and_removed(client, cast):
    client.force_login(cast.admin)
    url = reverse("accounts:membership_set", args=[cast.agent.pk])
    client.post(url, {"group": cast.tech.pk, "access": Access.READ})
    assert Membership.objects.get(user=cast.agent, group=cast.tech).access == Access.READ
    client.post(reverse("accounts:membership_remove", args=[cast.agent.pk, cast.tech.pk]))
    assert not Membership.objects.filter(user=cast.agent, group=cast.tech).exists()
    assert list(
        AuditEntry.objects.filter(object_id=str(cast.agent.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["membership.set", "membership.removed"]


# --- deactivation ---------------------------------------------------------------------------


def test_the_deactivation_page_lists_the_users_open_tickets(client, cast, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    client.force_login(cast.admin)
    page = client.get(reverse("accounts:user_deactivate", args=[cast.agent.pk]))
    assert page.status_code == 200
    assert f"#{ticket.number}".encode() in page.content


def test_deactivating_hands_open_tickets_to_a_group(client, cast, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    client.force_login(cast.admin)
    response = client.post(
        reverse("accounts:user_deactivate", args=[cast.agent.pk]),
        {"handover": "group", "group": cast.aftersales.pk},
    )
    assert response.status_code == 302
    cast.agent.refresh_from_db()
    ticket.refresh_from_db()
    assert not cast.agent.is_active
    assert (ticket.group, ticket.assignee) == (cast.aftersales, None)
    reasons = set(
        TicketEvent.objects.filter(ticket=ticket, type=EventType.CHANGED).values_list(
            "reason", flat=True
        )
    )
    assert any(cast.agent.name in reason for reason in reasons)
    entry = AuditEntry.objects.get(action="user.deactivated")
    assert entry.changes["tickets_handed_over"] == 1


def test_deactivating_hands_open_tickets_to_another_agent(cast, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    moved = actions.deactivate_user(cast.admin, cast.agent, reassign_to=cast.supervisor)
    ticket.refresh_from_db()
    assert moved == 1 and ticket.assignee == cast.supervisor


def test_deactivating_without_a_handover_leaves_tickets_and_warns(client, cast, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    client.force_login(cast.admin)
    response = client.post(
        reverse("accounts:user_deactivate", args=[cast.agent.pk]), {"handover": "keep"}, follow=True
    )
    ticket.refresh_from_db()
    assert ticket.assignee == cast.agent
    texts = [str(m) for m in response.context["messages"]]
    assert any("still assigned" in text for text in texts)
    assert AuditEntry.objects.get(action="user.deactivated").changes["tickets_left_assigned"] == 1


def test_a_deactivated_user_cannot_log_in_and_is_reactivated(client, cast):
    actions.deactivate_user(cast.admin, cast.agent)
    client.force_login(cast.agent)
    assert client.get(reverse("tickets:list")).status_code == 302  # session no longer valid
    client.force_login(cast.admin)
    client.post(reverse("accounts:user_reactivate", args=[cast.agent.pk]))
    cast.agent.refresh_from_db()
    assert cast.agent.is_active
    assert AuditEntry.objects.filter(action="user.reactivated").exists()


# --- groups ---------------------------------------------------------------------------------


def test_an_admin_creates_a_group_with_escalation_and_signature(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        reverse("accounts:group_new"),
        {
            "name": "VIP 服务部",
            "email": "vip@kefu.example",
            "escalation_group": cast.tech.pk,
            "signature": "VIP 服务部 · 400-000-0000",
        },
    )
    group = Group.objects.get(name="VIP 服务部")
    assert response.status_code == 302
    assert group.escalation_group == cast.tech
    assert group.signature == "VIP 服务部 · 400-000-0000"
    assert AuditEntry.objects.filter(action="group.created", object_id=str(group.pk)).exists()


def test_making_a_group_the_default_moves_the_flag(cast):
    actions.save_group(cast.admin, cast.tech, is_default=True)
    cast.cs.refresh_from_db()
    assert not cast.cs.is_default and Group.objects.get(is_default=True) == cast.tech


def test_a_group_with_open_tickets_or_the_default_is_not_deactivated(cast, make_ticket):
    make_ticket(group=cast.aftersales)
    with pytest.raises(BusinessRuleError, match="open tickets"):
        actions.deactivate_group(cast.admin, cast.aftersales)
    with pytest.raises(BusinessRuleError):
        actions.deactivate_group(cast.admin, cast.cs)
    actions.deactivate_group(cast.admin, cast.quality)
    cast.quality.refresh_from_db()
    assert not cast.quality.is_active
    assert Group.objects.filter(pk=cast.quality.pk).exists()  # deactivated, never deleted


def test_escalation_groups_cannot_loop(cast):
    actions.set_escalation_group(cast.admin, cast.cs, cast.tech)
    with pytest.raises(Exception, match="loop"):
        actions.save_group(cast.admin, cast.tech, escalation_group=cast.cs)


def test_the_command_line_records_itself_as_no_actor(cast):
    actions.create_user(None, email="ops@kefu.example", name="Ops", role=Role.AGENT)
    entry = AuditEntry.objects.get(action="user.created")
    assert entry.actor is None and entry.actor_repr == ""
    assert entry.changes["email"] == [None, "ops@kefu.example"]


def test_token_expiry_from_the_command_line(cast, capsys):
    from kefu.cli import main

    assert main(["token", "create", cast.agent.email, "--expires", "2099-06-30"]) == 0
    token = ApiToken.objects.get(user=cast.agent)
    assert timezone.localtime(token.expires_at).date() == date(2099, 6, 30)
    assert main(["token", "create", cast.agent.email, "--expires", "tomorrow"]) == 1
    assert "--expires" in capsys.readouterr().err


@pytest.mark.parametrize("language", ["en", "zh-hans", "zh-hant"])
def test_the_user_and_group_pages_render_in_every_language(client, cast, make_ticket, language):
    make_ticket(assignee=cast.agent)
    actions.create_api_token(None, cast.agent, "ERP")
    cast.admin.language = language
    cast.admin.save()
    client.force_login(cast.admin)
    # The preferences middleware activates the user's language on this thread; restore it after.
    with translation.override(None):
        user_page = client.get(reverse("accounts:user", args=[cast.agent.pk]))
        group_page = client.get(reverse("accounts:group", args=[cast.cs.pk]))
        users_page = client.get(reverse("accounts:users") + "?status=all&role=customer")
    assert user_page.status_code == 200
    assert b"ERP" in user_page.content and cast.cs.name.encode() in user_page.content
    assert group_page.status_code == 200 and users_page.status_code == 200
