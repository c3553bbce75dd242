"""Macros and canned responses: applying, placeholders, personal and shared access."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from kefu.automation.access import get_macro_for_user, usable
from kefu.automation.actions import apply_macro, save_canned_response, save_macro
from kefu.automation.actions.macros import search_canned_responses
from kefu.automation.models import CannedResponse, Macro, Visibility
from kefu.tickets.models import EventType, Message, Ticket


@pytest.fixture
def ask_serial(cast):
    return save_macro(
        cast.admin,
        name="Ask for the serial number",
        visibility=Visibility.EVERYONE,
        actions=[
            {"type": "set_state", "value": "pending_customer"},
            {"type": "set_priority", "value": "high"},
            {"type": "add_tags", "value": "serial"},
            {"type": "set_assignee", "value": "me"},
        ],
        reply_body="{{ customer.name }}，请提供 #{{ ticket.number }} 的序列号。{{ agent.name }}",
    )


def test_one_click_replies_and_changes_with_the_macro_as_reason(cast, make_ticket, ask_serial):
    ticket = make_ticket()
    apply_macro(cast.agent, ticket, ask_serial)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.priority, ticket.assignee) == (
        "pending_customer",
        "high",
        cast.agent,
    )
    assert list(ticket.tags.values_list("name", flat=True)) == ["serial"]
    reply = Message.objects.get(ticket=ticket, author_user=cast.agent)
    assert reply.body_text == f"Alice 李，请提供 #{ticket.number} 的序列号。王小明 Wang"
    assert not reply.is_internal
    by_macro = ticket.events.filter(
        type=EventType.CHANGED, actor=cast.agent, reason="Macro: Ask for the serial number"
    )
    assert set(by_macro.values_list("field", flat=True)) == {
        "state",
        "priority",
        "tags",
        "assignee",
    }
    ask_serial.refresh_from_db()
    assert ask_serial.used_count == 1


def test_a_read_only_member_cannot_apply_a_macro(cast, make_ticket, ask_serial):
    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        apply_macro(cast.tech_agent, ticket, ask_serial)
    assert Ticket.objects.get(pk=ticket.pk).state == "new"


def test_personal_macros_are_their_owners_only(cast, make_ticket):
    mine = save_macro(cast.agent, name="mine", reply_body="hi", visibility=Visibility.PERSONAL)
    assert mine.owner == cast.agent
    assert list(usable(Macro, cast.agent)) == [mine]
    assert not usable(Macro, cast.supervisor).exists()
    with pytest.raises(Http404):
        get_macro_for_user(cast.supervisor, mine.pk)
    with pytest.raises(PermissionDenied):
        apply_macro(cast.supervisor, make_ticket(), mine)


def test_group_macros_are_for_members_and_the_outsider_never_sees_them(cast):
    shared = save_macro(
        cast.supervisor, name="cs", reply_body="hi", visibility=Visibility.GROUP, group=cast.cs
    )
    assert usable(Macro, cast.agent).filter(pk=shared.pk).exists()
    assert usable(Macro, cast.tech_agent).filter(pk=shared.pk).exists()  # read member of cs
    assert not usable(Macro, cast.quality_agent).exists()
    assert not usable(Macro, cast.alice).exists()
    with pytest.raises(Http404):
        get_macro_for_user(cast.quality_agent, shared.pk)
    # Agents use it but only its supervisor or an admin changes it.
    with pytest.raises(PermissionDenied):
        get_macro_for_user(cast.agent, shared.pk, write=True)
    assert get_macro_for_user(cast.supervisor, shared.pk, write=True) == shared


def test_only_admins_share_with_everyone_and_supervisors_with_their_groups(cast):
    with pytest.raises(PermissionDenied):
        save_macro(cast.agent, name="x", reply_body="hi", visibility=Visibility.EVERYONE)
    with pytest.raises(PermissionDenied):
        save_macro(
            cast.agent, name="x", reply_body="hi", visibility=Visibility.GROUP, group=cast.cs
        )
    with pytest.raises(PermissionDenied):
        save_macro(
            cast.supervisor, name="x", reply_body="hi", visibility=Visibility.GROUP, group=cast.tech
        )
    with pytest.raises(PermissionDenied):
        save_canned_response(cast.supervisor, title="x", body="y", visibility=Visibility.EVERYONE)


def test_canned_responses_are_found_by_chinese_and_english_substrings(cast):
    save_canned_response(
        cast.admin, title="重启设备 Restart", body="请断电30秒后重新开机。", visibility="everyone"
    )
    save_canned_response(
        cast.admin, title="Greeting", body="Hello {{ customer.name }}", visibility="everyone"
    )
    save_canned_response(cast.quality_agent, title="重启 private", body="mine")
    titles = lambda user, q: [c.title for c in search_canned_responses(user, q)]  # noqa: E731
    assert titles(cast.agent, "重启") == ["重启设备 Restart"]
    assert titles(cast.agent, "断电") == ["重启设备 Restart"]
    assert titles(cast.agent, "restart") == ["重启设备 Restart"]
    assert titles(cast.agent, "hello") == ["Greeting"]
    assert titles(cast.agent, "") == ["Greeting", "重启设备 Restart"]
    assert titles(cast.quality_agent, "重启") == ["重启 private", "重启设备 Restart"]
    assert titles(cast.alice, "") == []


def test_the_ticket_page_offers_macros_and_applies_one(client, cast, make_ticket, ask_serial):
    ticket = make_ticket()
    client.force_login(cast.agent)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Ask for the serial number" in page and 'id="canned-q"' in page
    response = client.post(
        reverse("automation:apply_macro", args=[ticket.pk]), {"macro": ask_serial.pk}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).state == "pending_customer"


def test_the_outsider_cannot_apply_macros_or_search_canned_responses(
    client, cast, make_ticket, ask_serial
):
    ticket = make_ticket()
    save_canned_response(cast.admin, title="Greeting", body="Hi", visibility="everyone")
    for user in (cast.quality_agent, cast.alice):
        client.force_login(user)
        response = client.post(
            reverse("automation:apply_macro", args=[ticket.pk]), {"macro": ask_serial.pk}
        )
        assert response.status_code == 404
        response = client.get(reverse("automation:canned_search", args=[ticket.pk]), {"q": "Gr"})
        assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).state == "new"


def test_canned_search_fills_placeholders_for_the_ticket(client, cast, make_ticket):
    ticket = make_ticket()
    item = save_canned_response(
        cast.admin,
        title="问候",
        body="{{ customer.name }} #{{ ticket.number }}",
        visibility="everyone",
    )
    client.force_login(cast.agent)
    page = client.get(reverse("automation:canned_search", args=[ticket.pk]), {"q": "问"})
    assert f'data-canned-text="Alice 李 #{ticket.number}"' in page.content.decode()
    response = client.post(reverse("automation:canned_used", args=[ticket.pk, item.pk]))
    assert response.status_code == 204
    assert CannedResponse.objects.get(pk=item.pk).used_count == 1
