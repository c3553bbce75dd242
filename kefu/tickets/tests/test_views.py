"""The agent console: list, ticket page, replies, changes, new tickets, attachments, XSS."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.customers.models import Contact
from kefu.tickets import views
from kefu.tickets.actions import UploadedFile, add_message, update_ticket
from kefu.tickets.models import Channel, EventType, Message, Priority, State, Ticket

XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = '<img src=x onerror="alert(1)">'


def detail_url(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.pk])


def update_data(ticket: Ticket, **overrides) -> dict:
    data = {
        "state": ticket.state,
        "priority": ticket.priority,
        "type": ticket.type.key,
        "group": ticket.group_id,
        "assignee": ticket.assignee_id or "",
        "tags": "",
        "reason": "",
    }
    data.update(overrides)
    return data


def list_html(client, **params) -> str:
    response = client.get(reverse("tickets:list"), params)
    assert response.status_code == 200
    return response.content.decode()


# --- who gets in ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tickets:list", "tickets:new"])
def test_it_sends_anonymous_users_to_the_login_page(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_customer_cannot_open_any_console_page(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    for url in (
        reverse("tickets:list"),
        reverse("tickets:new"),
        detail_url(ticket),
        reverse("tickets:timeline", args=[ticket.pk]),
        reverse("customers:search") + "?q=a",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "x", "kind": "reply"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("tickets:update", args=[ticket.pk]), update_data(ticket)).status_code
        == 404
    )


def test_outsider_agent_neither_lists_nor_opens_another_departments_ticket(
    client, cast, make_ticket
):
    ticket = make_ticket(subject="客服部 only ticket")
    client.force_login(cast.quality_agent)
    assert "客服部 only ticket" not in list_html(client, view="open")
    assert "客服部 only ticket" not in list_html(client, view="recent")
    assert client.get(detail_url(ticket)).status_code == 404
    assert client.get(reverse("tickets:timeline", args=[ticket.pk])).status_code == 404
    reply = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "x", "kind": "reply"})
    assert reply.status_code == 404
    assert (
        client.post(reverse("tickets:update", args=[ticket.pk]), update_data(ticket)).status_code
        == 404
    )
    assert not Message.objects.filter(ticket=ticket, body_text="x").exists()


# --- the list -------------------------------------------------------------------------------


def test_it_lists_tickets_with_customer_group_and_badges(client, cast, make_ticket):
    make_ticket(cast.alice, subject="Printer jam", priority=Priority.URGENT)
    client.force_login(cast.agent)
    html = list_html(client)
    assert "Printer jam" in html
    assert "Alice 李" in html and "Acme 有限公司" in html
    assert "客服部 Customer Service" in html
    assert 'class="badge priority-urgent"' in html
    assert 'class="badge state-new"' in html


def test_it_shows_the_four_views(client, cast, make_ticket):
    mine = make_ticket(subject="Assigned to me", assignee=cast.agent)
    make_ticket(subject="Nobody has it")
    done = make_ticket(subject="Already solved")
    update_ticket(cast.admin, done, state=State.RESOLVED)
    make_ticket(subject="Tech ticket", group=cast.tech)
    client.force_login(cast.agent)

    html = list_html(client, view="mine")
    assert "Assigned to me" in html and "Nobody has it" not in html
    html = list_html(client, view="unassigned")
    assert "Nobody has it" in html and "Assigned to me" not in html and "Tech ticket" not in html
    html = list_html(client, view="open")
    assert "Assigned to me" in html and "Nobody has it" in html and "Already solved" not in html
    html = list_html(client, view="recent")
    assert "Already solved" in html
    assert mine.subject in html


def test_it_filters_by_state_priority_group_assignee_channel_and_customer(
    client, cast, make_ticket
):
    make_ticket(
        cast.alice,
        subject="Alpha",
        priority=Priority.HIGH,
        channel=Channel.PHONE,
        assignee=cast.agent,
    )
    make_ticket(cast.bob, subject="Bravo", priority=Priority.LOW, channel=Channel.EMAIL)
    make_ticket(cast.carol, subject="Charlie", group=cast.tech)
    client.force_login(cast.admin)

    def shown(**params) -> set[str]:
        html = list_html(client, view="recent", **params)
        return {name for name in ("Alpha", "Bravo", "Charlie") if name in html}

    assert shown(priority="high") == {"Alpha"}
    assert shown(channel="email") == {"Bravo"}
    assert shown(group=cast.tech.pk) == {"Charlie"}
    assert shown(assignee=cast.agent.pk) == {"Alpha"}
    assert shown(assignee="none") == {"Bravo", "Charlie"}
    assert shown(customer="globex.example") == {"Bravo"}
    assert shown(customer="陈") == {"Charlie"}
    assert shown(customer=str(cast.alice.contact.pk)) == {"Alpha"}
    assert shown(state="new") == {"Alpha", "Bravo", "Charlie"}
    assert shown(state="closed") == set()


def test_it_filters_by_ticket_type_and_lists_complaints(client, cast, make_ticket):
    make_ticket(cast.alice, subject="Alpha", type_key="complaint")
    make_ticket(cast.bob, subject="Bravo")
    make_ticket(cast.carol, subject="Charlie", type_key="complaint", group=cast.tech)
    client.force_login(cast.agent)  # the outsider's ticket (tech) stays out of sight
    html = list_html(client, view="recent", type="complaint")
    assert "Alpha" in html and "Bravo" not in html and "Charlie" not in html
    assert 'value="complaint"' in html
    html = list_html(client, view="recent", type="no-such-type")
    assert "Alpha" not in html and 'class="errorlist"' in html


def test_it_reports_an_invalid_filter_instead_of_ignoring_it(client, cast, make_ticket):
    make_ticket(subject="Alpha")
    client.force_login(cast.agent)
    html = list_html(client, priority="extreme")
    assert "Alpha" not in html
    assert 'class="errorlist"' in html


def test_it_sorts_by_priority(client, cast, make_ticket):
    make_ticket(subject="Low one", priority=Priority.LOW)
    make_ticket(subject="Urgent one", priority=Priority.URGENT)
    make_ticket(subject="Medium one", priority=Priority.MEDIUM)
    client.force_login(cast.agent)
    html = list_html(client, sort="-priority")
    assert html.index("Urgent one") < html.index("Medium one") < html.index("Low one")
    html = list_html(client, sort="priority")
    assert html.index("Low one") < html.index("Medium one") < html.index("Urgent one")


def _subjects_in(html: str) -> list[str]:
    return re.findall(r">(Ticket \d+)</a>", html)


def _link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.parametrize("sort", ["-created", "created", "-number", "-priority", "updated"])
def test_it_pages_with_a_keyset_cursor_both_ways(client, cast, make_ticket, monkeypatch, sort):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    priorities = [Priority.LOW, Priority.HIGH, Priority.MEDIUM]
    for index in range(7):
        make_ticket(subject=f"Ticket {index}", priority=priorities[index % 3])
    client.force_login(cast.agent)
    url = reverse("tickets:list")

    html = list_html(client, view="open", sort=sort)
    pages = [_subjects_in(html)]
    assert _link(html, "prev") is None
    with CaptureQueriesContext(connection) as queries:
        while _link(html, "next"):
            html = client.get(url + _link(html, "next")).content.decode()
            pages.append(_subjects_in(html))
    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [subject for page in pages for subject in page]
    assert sorted(seen) == sorted(f"Ticket {i}" for i in range(7))
    assert not any("OFFSET" in query["sql"].upper() for query in queries.captured_queries)

    back = client.get(url + _link(html, "prev")).content.decode()
    assert _subjects_in(back) == pages[1]
    first = client.get(url + _link(back, "prev")).content.decode()
    assert _subjects_in(first) == pages[0]
    assert _link(first, "prev") is None


def test_it_ignores_a_tampered_cursor(client, cast, make_ticket):
    make_ticket(subject="Ticket 1")
    client.force_login(cast.agent)
    assert "Ticket 1" in list_html(client, cursor="not-a-cursor")


@pytest.mark.parametrize("count", [2, 30])
def test_it_lists_with_a_fixed_number_of_queries(
    client, cast, make_ticket, django_assert_max_num_queries, count
):
    for index in range(count):
        make_ticket(
            cast.alice if index % 2 else cast.bob, subject=f"Ticket {index}", assignee=cast.agent
        )
    client.force_login(cast.agent)
    # + the category tree and custom field filters (kefu/tickets/tests/test_list_queries.py
    # pins the exact count).
    with django_assert_max_num_queries(10):
        html = list_html(client, view="mine")
    assert len(_subjects_in(html)) == min(count, views.PAGE_SIZE)


def test_it_returns_only_the_table_to_htmx(client, cast, make_ticket):
    make_ticket(subject="Alpha")
    client.force_login(cast.agent)
    response = client.get(reverse("tickets:list"), {"priority": "medium"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ticket-table">')
    assert "<html" not in html and "Alpha" in html
    assert "HX-Request" in response["Vary"]


def test_it_shows_my_open_count_in_the_navigation(client, cast, make_ticket):
    make_ticket(assignee=cast.agent)
    make_ticket(assignee=cast.agent)
    client.force_login(cast.agent)
    assert re.search(r'<span class="nav-count"[^>]*>2</span>', list_html(client))


# --- the ticket page ------------------------------------------------------------------------


def test_it_shows_the_timeline_of_messages_and_translated_events(client, cast, make_ticket):
    ticket = make_ticket(subject="Screen flickers")
    add_message(cast.agent, ticket, body="Please restart it.")
    add_message(cast.agent, ticket, body="Customer is a VIP", internal=True)
    update_ticket(
        cast.agent,
        ticket,
        priority=Priority.URGENT,
        state=State.PENDING_CUSTOMER,
        reason="VIP customer",
    )
    client.force_login(cast.agent)
    html = client.get(detail_url(ticket)).content.decode()

    assert f"#{ticket.number}" in html and "Screen flickers" in html
    assert (
        html.index("It stopped printing.")
        < html.index("Please restart it.")
        < html.index("Customer is a VIP")
    )
    assert re.search(r'class="msg internal".*?Internal note.*?Customer is a VIP', html, re.S)
    assert "王小明 Wang changed priority from Medium to Urgent — VIP customer" in html
    assert "changed state from Open to Waiting for customer" in html
    assert f'data-ticket-id="{ticket.pk}" data-live' in html
    assert 'id="reply-form"' in html and 'id="update-form"' in html


@pytest.mark.parametrize(("zone", "offset"), [("", "+08:00"), ("UTC", "+00:00")])
def test_it_shows_times_in_the_users_time_zone(client, cast, make_ticket, zone, offset):
    ticket = make_ticket()
    cast.agent.time_zone = zone
    cast.agent.save()
    client.force_login(cast.agent)
    html = client.get(detail_url(ticket)).content.decode()
    assert re.search(rf'<time datetime="[0-9-]+T[0-9:.]+\{offset}">', html)


def test_it_shows_the_timeline_partial(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    html = client.get(reverse("tickets:timeline", args=[ticket.pk])).content.decode()
    assert html.lstrip().startswith('<ol class="timeline" id="timeline"')
    assert "kefu-live" in html and "It stopped printing." in html


def test_read_only_agent_sees_the_ticket_but_no_forms(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.tech_agent)
    html = client.get(detail_url(ticket)).content.decode()
    assert "It stopped printing." in html
    assert 'id="reply-form"' not in html and 'id="update-form"' not in html
    assert "read-only" in html


def test_read_only_agent_cannot_post(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.tech_agent)
    assert (
        client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "x", "kind": "reply"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]), update_data(ticket, priority="urgent")
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MEDIUM and ticket.messages.count() == 1


def test_it_sends_a_public_reply_and_redirects(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "We will call you.", "kind": "reply"}
    )
    message = ticket.messages.get(body_text="We will call you.")
    assert response.status_code == 302
    assert response["Location"] == detail_url(ticket) + f"#message-{message.pk}"
    assert not message.is_internal
    ticket.refresh_from_db()
    assert ticket.state == State.OPEN and ticket.first_response_at is not None


def test_it_adds_an_internal_note_through_htmx_and_returns_the_partial(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "Check the logs", "kind": "note"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    message = ticket.messages.get(body_text="Check the logs")
    assert message.is_internal
    assert f'id="message-{message.pk}" class="msg internal"' in html
    # A fresh, empty form replaces the one that was sent (out of band).
    assert 'id="reply-form"' in html and 'hx-swap-oob="true"' in html
    assert "Check the logs</textarea>" not in html


def test_it_keeps_the_text_and_shows_the_error_when_a_reply_fails(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "half a thought"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "half a thought</textarea>" in html
    assert "Choose between a public reply and an internal note." in html
    assert ticket.messages.count() == 1

    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "   ", "kind": "reply"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Retarget"] == "#reply-form"
    assert 'class="errorlist"' in response.content.decode()


def test_it_turns_an_action_error_into_a_form_error(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    blocked = SimpleUploadedFile("setup.exe", b"MZ...", content_type="application/octet-stream")
    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "See attachment", "kind": "reply", "attachments": [blocked]},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Files of type .exe are not accepted" in html
    assert "See attachment</textarea>" in html
    assert not ticket.messages.filter(body_text="See attachment").exists()


def test_it_changes_fields_with_a_reason(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]),
        update_data(
            ticket, priority="urgent", assignee=cast.agent.pk, tags="打印机, E23", reason="VIP"
        ),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT and ticket.assignee == cast.agent
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["E23", "打印机"]
    changes = ticket.events.filter(type=EventType.CHANGED)
    assert {event.field for event in changes} == {"priority", "assignee", "tags"}
    assert all(event.reason == "VIP" for event in changes)


def test_it_changes_fields_through_htmx_and_returns_the_partials(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]),
        update_data(ticket, state="on_hold"),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="update-form"' in html and "Ticket updated." in html
    assert '<header id="ticket-header" class="ticket-header" hx-swap-oob="true">' in html
    assert "changed state from New to On hold" in html


def test_a_stale_side_form_does_not_undo_a_colleagues_change(client, cast, make_ticket):
    ticket = make_ticket()
    shown = update_data(ticket)  # the values the page showed when it was loaded
    update_ticket(cast.supervisor, ticket, state=State.ON_HOLD)  # meanwhile, elsewhere
    client.force_login(cast.agent)
    posted = {**shown, **{f"initial-{name}": value for name, value in shown.items()}}
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]), {**posted, "priority": "high"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert ticket.state == State.ON_HOLD


def test_the_side_form_posts_back_what_it_showed(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    html = client.get(detail_url(ticket)).content.decode()
    assert 'name="initial-state" value="new"' in html


def test_an_htmx_reply_refreshes_the_header_and_side_form(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "On it", "kind": "reply"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert '<header id="ticket-header" class="ticket-header" hx-swap-oob="true">' in html
    assert '<section id="update-form" class="ticket-fields" hx-swap-oob="true">' in html
    assert 'name="initial-state" value="open"' in html


def test_it_refuses_an_assignee_outside_the_group_and_keeps_the_input(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]),
        update_data(ticket, assignee=cast.quality_agent.pk, reason="keep me"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist"' in html and 'value="keep me"' in html
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_agent_cannot_move_a_ticket_to_a_group_they_do_not_work_in(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]), update_data(ticket, group=cast.tech.pk)
    )
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.group == cast.cs


def test_supervisor_moves_a_ticket_to_another_group(client, cast, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    client.force_login(cast.supervisor)
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]),
        update_data(ticket, group=cast.tech.pk, reason="Hardware"),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.group == cast.tech and ticket.assignee is None


# --- customer sidebar -----------------------------------------------------------------------


def test_it_shows_the_customer_and_their_other_visible_tickets(client, cast, make_ticket):
    ticket = make_ticket(cast.alice, subject="Current one")
    make_ticket(cast.alice, subject="Earlier one")
    make_ticket(cast.alice, subject="Hidden tech one", group=cast.tech)
    client.force_login(cast.agent)
    html = client.get(detail_url(ticket)).content.decode()
    sidebar = html[html.index('class="contact-card"') :]
    assert "alice@acme.example" in sidebar and "Acme 有限公司" in sidebar
    assert "Earlier one" in sidebar
    assert "Hidden tech one" not in sidebar
    assert "Current one" not in sidebar
    assert reverse("customers:invite", args=[cast.alice.contact.pk]) in sidebar


# --- attachments ----------------------------------------------------------------------------


def test_it_uploads_and_serves_attachments_to_those_who_may_see_them(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.agent)
    files = [
        SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png"),
        SimpleUploadedFile("page.html", b"<script>alert(1)</script>", content_type="text/html"),
    ]
    client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "Files", "kind": "reply", "attachments": files},
    )
    message = ticket.messages.get(body_text="Files")
    photo, page = message.attachments.order_by("filename")[::-1]
    assert (photo.filename, page.filename) == ("photo.png", "page.html")
    assert (
        reverse("tickets:attachment", args=[photo.pk])
        in client.get(detail_url(ticket)).content.decode()
    )

    response = client.get(reverse("tickets:attachment", args=[page.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"

    client.force_login(cast.alice)
    response = client.get(reverse("tickets:attachment", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"

    for outsider in (cast.bob, cast.quality_agent):
        client.force_login(outsider)
        assert client.get(reverse("tickets:attachment", args=[photo.pk])).status_code == 404


def test_customer_cannot_download_an_internal_note_attachment(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    note = add_message(
        cast.agent,
        ticket,
        body="internal",
        internal=True,
        attachments=[UploadedFile("notes.txt", b"secret", "text/plain")],
    )
    attachment = note.attachments.get()
    client.force_login(cast.alice)
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404
    client.force_login(cast.agent)
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 200


def test_it_sends_anonymous_attachment_requests_to_the_login_page(client, cast, make_ticket):
    ticket = make_ticket()
    message = add_message(
        cast.agent, ticket, body="x", attachments=[UploadedFile("a.txt", b"a", "text/plain")]
    )
    response = client.get(reverse("tickets:attachment", args=[message.attachments.get().pk]))
    assert response.status_code == 302


# --- a ticket on a customer's behalf --------------------------------------------------------


def new_ticket_data(**overrides) -> dict:
    data = {
        "subject": "Called about E23",
        "body": "Customer phoned: printer shows E23.",
        "channel": "phone",
        "priority": "high",
        "type": "incident",
        "tags": "电话",
    }
    data.update(overrides)
    return data


def test_it_offers_phone_as_the_default_channel(client, cast):
    client.force_login(cast.agent)
    html = client.get(reverse("tickets:new")).content.decode()
    assert '<option value="phone" selected>' in html


def test_it_creates_a_ticket_for_an_existing_contact(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:new"), new_ticket_data(contact=cast.bob.contact.pk, group=cast.cs.pk)
    )
    ticket = Ticket.objects.get(subject="Called about E23")
    assert response.status_code == 302 and response["Location"] == detail_url(ticket)
    assert ticket.contact == cast.bob.contact and ticket.organization == cast.globex
    assert (
        ticket.channel == Channel.PHONE
        and ticket.priority == Priority.HIGH
        and ticket.type.key == "incident"
    )
    assert list(ticket.tags.values_list("name", flat=True)) == ["电话"]
    assert ticket.created_by == cast.agent


def test_it_creates_a_new_contact_with_the_ticket(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:new"),
        new_ticket_data(new_name="赵先生", new_phone="+86 138 0000 0000", group=cast.cs.pk),
    )
    assert response.status_code == 302
    contact = Contact.objects.get(phone="+8613800000000")
    assert contact.name == "赵先生"
    assert Ticket.objects.get(subject="Called about E23").contact == contact


def test_it_uses_the_single_contact_matching_the_search_text(client, cast):
    client.force_login(cast.agent)
    client.post(
        reverse("tickets:new"), new_ticket_data(contact_query="bella@globex", group=cast.cs.pk)
    )
    assert Ticket.objects.get(subject="Called about E23").contact == cast.bella.contact


def test_it_asks_to_pick_when_several_contacts_match_and_keeps_the_input(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:new"), new_ticket_data(contact_query="globex", group=cast.cs.pk)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Several customers match; pick one." in html
    assert f'name="contact" value="{cast.bob.contact.pk}"' in html
    assert f'name="contact" value="{cast.bella.contact.pk}"' in html
    assert "Customer phoned: printer shows E23.</textarea>" in html
    assert not Ticket.objects.exists()


def test_it_asks_for_a_customer_when_none_is_given(client, cast):
    client.force_login(cast.agent)
    response = client.post(reverse("tickets:new"), new_ticket_data(group=cast.cs.pk))
    assert "Pick a customer or enter a new one." in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_rejects_a_bad_new_contact_and_creates_nothing(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:new"), new_ticket_data(new_email="not-an-address", group=cast.cs.pk)
    )
    assert "not a valid e-mail address" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Contact.objects.filter(name="not-an-address").exists()


def test_it_finds_contacts_without_javascript(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:new"), {"contact_query": "Alice", "find": "1", "subject": "Kept"}
    )
    html = response.content.decode()
    assert f'name="contact" value="{cast.alice.contact.pk}"' in html
    assert 'value="Kept"' in html
    assert "This field is required." not in html
    assert not Ticket.objects.exists()


def test_agent_cannot_create_a_ticket_in_a_group_they_do_not_work_in(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("tickets:new"), new_ticket_data(contact=cast.bob.contact.pk, group=cast.tech.pk)
    )
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    assert not Ticket.objects.exists()


# --- stored XSS -----------------------------------------------------------------------------


class ActiveContentFinder(HTMLParser):
    """Collects the payloads a browser would execute: in script elements or ``on*`` attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        self.found += [
            f"{tag} {name}={value}"
            for name, value in attrs
            if name.startswith("on") and "alert(" in (value or "")
        ]

    def handle_data(self, data):
        if self.in_script and "alert(" in data:
            self.found.append(f"script {data}")

    def handle_endtag(self, tag):
        self.in_script = False


def _assert_inert(html: str) -> None:
    finder = ActiveContentFinder()
    finder.feed(html)
    assert finder.found == []
    assert "<script>alert(" not in html


def test_script_and_onerror_payloads_are_inert_on_every_console_page(client, cast):
    from kefu.customers.actions import create_contact
    from kefu.tickets.actions import NewTicket, create_ticket

    contact = create_contact(
        cast.agent, name=f"Mallory {XSS_SCRIPT}{XSS_IMG}", email="mallory@evil.example"
    )
    ticket = create_ticket(
        cast.agent,
        NewTicket(
            contact=contact,
            subject=f"Help {XSS_SCRIPT}{XSS_IMG}",
            body=f"plain {XSS_SCRIPT}{XSS_IMG}",
            group=cast.cs,
            tags=[f"t{XSS_IMG}"[:60]],
        ),
    )
    add_message(cast.agent, ticket, body="html", body_html=f"<p>rich {XSS_SCRIPT}{XSS_IMG}</p>")
    add_message(cast.agent, ticket, body=f"note {XSS_SCRIPT}", internal=True)
    update_ticket(cast.agent, ticket, priority=Priority.HIGH, reason=f"why {XSS_SCRIPT}{XSS_IMG}")
    client.force_login(cast.agent)

    pages = [
        client.get(reverse("tickets:list")),
        client.get(reverse("tickets:list"), {"customer": "Mallory"}, HTTP_HX_REQUEST="true"),
        client.get(detail_url(ticket)),
        client.get(reverse("tickets:timeline", args=[ticket.pk])),
        client.get(reverse("customers:search"), {"q": "Mallory"}),
        client.post(reverse("tickets:new"), {"contact_query": "Mallory", "find": "1"}),
        client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body": XSS_IMG, "kind": "reply"},
            HTTP_HX_REQUEST="true",
        ),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        _assert_inert(html)
    detail = pages[2].content.decode()
    assert "Help &lt;script&gt;" in detail  # shown, as text
    assert "rich " in detail
