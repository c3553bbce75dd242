"""The customer portal: who sees what, replying, closing, opening tickets, and the outsiders."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.tickets.actions import NewTicket, UploadedFile, add_message, create_ticket, update_ticket
from kefu.tickets.models import Channel, State, Ticket


@pytest.fixture
def tickets_of_everyone(cast):
    """One ticket per customer, each with a subject naming its owner."""
    return {
        name: create_ticket(
            getattr(cast, name), NewTicket(subject=f"Ticket of {name}", body=f"{name} writes")
        )
        for name in ("alice", "alan", "bob", "bella", "carol")
    }


def listed_subjects(client, user, show="all"):
    client.force_login(user)
    response = client.get(reverse("portal:tickets"), {"show": show})
    assert response.status_code == 200
    return {ticket.subject for ticket in response.context["tickets"]}


# --- list -----------------------------------------------------------------------------------


def test_it_lists_own_and_shared_organisation_tickets(client, cast, tickets_of_everyone):
    assert listed_subjects(client, cast.alice) == {"Ticket of alice", "Ticket of alan"}


def test_customer_cannot_list_colleagues_tickets_when_the_organisation_does_not_share(
    client, cast, tickets_of_everyone
):
    assert listed_subjects(client, cast.bob) == {"Ticket of bob"}


def test_consumer_without_organisation_lists_only_their_own(client, cast, tickets_of_everyone):
    assert listed_subjects(client, cast.carol) == {"Ticket of carol"}


def test_it_names_the_colleague_who_opened_a_shared_ticket(client, cast, tickets_of_everyone):
    client.force_login(cast.alice)
    content = client.get(reverse("portal:tickets"), {"show": "all"}).content.decode()
    assert "Alan" in content
    assert "Bob" not in content


def test_it_separates_open_from_solved_and_closed(client, cast, make_ticket):
    make_ticket(cast.carol, subject="Still open")
    solved = make_ticket(cast.carol, subject="Solved one")
    update_ticket(cast.agent, solved, state=State.RESOLVED)
    closed = make_ticket(cast.carol, subject="Closed one")
    update_ticket(cast.carol, closed, state=State.CLOSED)

    assert listed_subjects(client, cast.carol, "open") == {"Still open"}
    assert listed_subjects(client, cast.carol, "closed") == {"Solved one", "Closed one"}
    assert listed_subjects(client, cast.carol, "all") == {"Still open", "Solved one", "Closed one"}


def test_it_shows_customer_friendly_states(client, cast, make_ticket):
    ticket = make_ticket(cast.carol)
    update_ticket(cast.agent, ticket, state=State.PENDING_CUSTOMER)
    client.force_login(cast.carol)
    content = client.get(reverse("portal:tickets")).content.decode()
    assert "Waiting for your reply" in content


def test_it_pages_through_tickets_with_a_cursor(client, cast, make_ticket, monkeypatch):
    monkeypatch.setattr("kefu.portal.views.PAGE_SIZE", 3)
    created = [make_ticket(cast.carol, subject=f"Ticket {n}") for n in range(7)]
    client.force_login(cast.carol)

    seen, after = [], None
    for _page in range(5):
        response = client.get(reverse("portal:tickets"), {"after": after} if after else {})
        seen += [ticket.pk for ticket in response.context["tickets"]]
        after = response.context["next_cursor"]
        if after is None:
            break

    newest_first = sorted(created, key=lambda t: (t.updated_at, t.pk), reverse=True)
    assert seen == [ticket.pk for ticket in newest_first]


def test_it_ignores_a_malformed_cursor(client, cast, make_ticket):
    make_ticket(cast.carol)
    client.force_login(cast.carol)
    response = client.get(reverse("portal:tickets"), {"after": "not-a-cursor"})
    assert response.status_code == 200
    assert len(response.context["tickets"]) == 1


def test_the_list_runs_a_fixed_number_of_queries(client, cast, make_ticket):
    client.force_login(cast.alice)
    make_ticket(cast.alice)
    make_ticket(cast.alan)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("portal:tickets"))
    for n in range(10):
        make_ticket(cast.alan if n % 2 else cast.alice)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("portal:tickets"))
    assert len(response.context["tickets"]) == 12
    assert len(many) == len(few)
    assert len(many) <= 5  # session, user, contact, organisation, tickets


# --- one ticket -----------------------------------------------------------------------------


def test_it_shows_the_public_conversation(client, cast, make_ticket):
    ticket = make_ticket(cast.alice, subject="Printer E23", body="It stopped printing.")
    add_message(
        cast.agent,
        ticket,
        body="Please restart it.",
        attachments=[UploadedFile("manual.pdf", b"%PDF-1.4", "application/pdf")],
    )
    client.force_login(cast.alice)
    response = client.get(reverse("portal:ticket", args=[ticket.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Printer E23" in content
    assert f"#{ticket.number}" in content
    assert "It stopped printing." in content
    assert "Please restart it." in content
    attachment = ticket.messages.get(body_text="Please restart it.").attachments.get()
    download_url = reverse("tickets:attachment", args=[attachment.pk])
    assert download_url in content
    assert client.get(download_url).status_code == 200


def test_colleague_reads_a_shared_ticket(client, cast, make_ticket):
    ticket = make_ticket(cast.alice, subject="Shared in Acme")
    client.force_login(cast.alan)
    assert client.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 200


@pytest.mark.parametrize("outsider", ["bob", "carol"])
def test_outsider_gets_404_on_someone_elses_ticket(client, cast, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    client.force_login(getattr(cast, outsider))
    assert client.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "hi"}).status_code == 404
    assert client.post(reverse("portal:close", args=[ticket.pk])).status_code == 404
    ticket.refresh_from_db()
    assert ticket.messages.count() == 1
    assert ticket.state == State.NEW


def test_customer_cannot_see_a_non_sharing_colleagues_ticket(client, cast, make_ticket):
    ticket = make_ticket(cast.bella)
    client.force_login(cast.bob)
    assert client.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 404


def test_customer_never_sees_internal_notes_their_attachments_or_staff_fields(
    client, cast, make_ticket
):
    ticket = make_ticket(cast.alice, tags=["vip-escalation"], assignee=cast.agent)
    add_message(
        cast.agent,
        ticket,
        body="Customer is difficult, check contract",
        internal=True,
        attachments=[UploadedFile("contract-notes.txt", b"secret", "text/plain")],
    )
    update_ticket(cast.agent, ticket, priority="urgent", group=cast.cs)
    client.force_login(cast.alice)
    content = client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()

    assert "Customer is difficult" not in content
    assert "contract-notes.txt" not in content
    assert "vip-escalation" not in content
    assert cast.cs.name not in content
    assert cast.agent.name not in content  # the assignee; only "Support team" is shown
    assert "Support team" in content
    assert "urgent" not in content.lower()
    note_attachment = ticket.messages.get(is_internal=True).attachments.get()
    download = client.get(reverse("tickets:attachment", args=[note_attachment.pk]))
    assert download.status_code == 404


def test_it_shows_state_changes_but_not_internal_events(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    update_ticket(cast.agent, ticket, state=State.PENDING_CUSTOMER, reason="internal reasoning")
    update_ticket(cast.supervisor, ticket, group=cast.tech)
    client.force_login(cast.alice)
    content = client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "Status changed to Waiting for your reply" in content
    assert "internal reasoning" not in content
    assert cast.tech.name not in content


# --- reply ----------------------------------------------------------------------------------


def test_customer_replies_with_an_attachment(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    photo = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg")
    response = client.post(
        reverse("portal:reply", args=[ticket.pk]),
        {"body": "Here is a photo", "attachments": [photo]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("portal:ticket", args=[ticket.pk])
    message = ticket.messages.latest("id")
    assert message.body_text == "Here is a photo"
    assert message.author_contact == cast.alice.contact
    assert message.attachments.get().filename == "photo.jpg"
    assert "Your reply has been sent." in response.content.decode()


def test_colleague_replies_to_a_shared_ticket(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alan)
    client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "Same problem here"})
    assert ticket.messages.latest("id").author_contact == cast.alan.contact


def test_htmx_reply_appends_the_message_and_clears_the_form(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    response = client.post(
        reverse("portal:reply", args=[ticket.pk]),
        {"body": "Via htmx"},
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Via htmx" in content
    assert 'id="reply-form"' in content and 'hx-swap-oob="true"' in content
    assert "<textarea" in content and "Via htmx</textarea>" not in content
    assert "<html" not in content


def test_htmx_reply_with_an_error_keeps_the_text(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    bad = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("portal:reply", args=[ticket.pk]),
        {"body": "My long explanation", "attachments": [bad]},
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()
    assert response["HX-Retarget"] == "#reply-form"
    assert "My long explanation</textarea>" in content
    assert ".exe are not accepted" in content
    assert ticket.messages.count() == 1


def test_plain_reply_with_an_empty_body_shows_the_error(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    response = client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["body"]
    assert ticket.messages.count() == 1


def test_replying_reopens_a_solved_ticket(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    update_ticket(cast.agent, ticket, state=State.RESOLVED)
    client.force_login(cast.alice)
    page = client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "Replying reopens this ticket" in page

    client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "Still broken"})
    ticket.refresh_from_db()
    assert ticket.state == State.OPEN
    page = client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "Replying reopens this ticket" not in page


# --- close ----------------------------------------------------------------------------------


def test_customer_closes_a_ticket(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    assert "Close ticket" in client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()

    response = client.post(reverse("portal:close", args=[ticket.pk]), follow=True)
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED
    content = response.content.decode()
    assert "This ticket is closed" in content
    assert reverse("portal:new") in content
    assert "Close ticket" not in content
    assert 'id="reply-form"' not in content


def test_customer_cannot_reply_to_a_closed_ticket(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    update_ticket(cast.alice, ticket, state=State.CLOSED)
    client.force_login(cast.alice)
    response = client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "One more thing"})
    assert response.status_code == 200
    assert "This ticket is closed; please open a new one." in response.content.decode()
    assert ticket.messages.count() == 1


# --- new ticket -----------------------------------------------------------------------------


def test_customer_opens_a_ticket_with_attachments(client, cast):
    client.force_login(cast.carol)
    files = [
        SimpleUploadedFile("a.txt", b"first", content_type="text/plain"),
        SimpleUploadedFile("b.png", b"\x89PNG", content_type="image/png"),
    ]
    response = client.post(
        reverse("portal:new"),
        {
            "subject": "洗衣机漏水",
            "body": "Water on the floor",
            "attachments": files,
        },
        follow=True,
    )
    ticket = Ticket.objects.get(subject="洗衣机漏水")
    assert ticket.contact == cast.carol.contact
    assert ticket.channel == Channel.WEB
    assert sorted(a.filename for a in ticket.messages.get().attachments.all()) == ["a.txt", "b.png"]
    assert response.redirect_chain[-1][0] == reverse("portal:ticket", args=[ticket.pk])
    assert f"Ticket #{ticket.number} created." in response.content.decode()


def test_new_ticket_without_a_subject_keeps_the_description(client, cast):
    client.force_login(cast.carol)
    response = client.post(reverse("portal:new"), {"subject": "", "body": "Long story typed here"})
    assert response.status_code == 200
    assert response.context["form"].errors["subject"]
    assert "Long story typed here</textarea>" in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_rejects_a_blocked_file_type_next_to_the_field(client, cast):
    client.force_login(cast.carol)
    bad = SimpleUploadedFile("run.bat", b"@echo off", content_type="application/x-bat")
    response = client.post(
        reverse("portal:new"), {"subject": "Keep me", "body": "And me", "attachments": [bad]}
    )
    form = response.context["form"]
    assert ".bat are not accepted" in str(form.errors["attachments"])
    content = response.content.decode()
    assert 'value="Keep me"' in content and "And me</textarea>" in content
    assert not Ticket.objects.exists()


def test_new_ticket_rejects_a_file_over_the_size_limit(client, cast, settings):
    settings.MAX_UPLOAD_BYTES = 10
    client.force_login(cast.carol)
    big = SimpleUploadedFile("big.log", b"x" * 11, content_type="text/plain")
    response = client.post(
        reverse("portal:new"), {"subject": "Logs", "body": "See file", "attachments": [big]}
    )
    assert "larger than the limit" in str(response.context["form"].errors["attachments"])
    assert not Ticket.objects.exists()


# --- who may use the portal -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "supervisor", "agent"])
def test_staff_are_sent_to_the_console(client, cast, make_ticket, role):
    ticket = make_ticket(cast.alice)
    client.force_login(getattr(cast, role))
    for url in (
        reverse("portal:tickets"),
        reverse("portal:new"),
        reverse("portal:ticket", args=[ticket.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("tickets:list")
    client.post(reverse("portal:close", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.state == State.NEW


def test_anonymous_visitors_are_sent_to_login(client, cast, make_ticket):
    ticket = make_ticket(cast.alice)
    for url in (
        reverse("portal:tickets"),
        reverse("portal:new"),
        reverse("portal:ticket", args=[ticket.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    response = client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "anonymous"})
    assert response.status_code == 302
    assert ticket.messages.count() == 1


def test_the_portal_nav_links_my_tickets_and_new_ticket(client, cast):
    client.force_login(cast.carol)
    content = client.get(reverse("portal:tickets")).content.decode()
    assert f'href="{reverse("portal:new")}"' in content
    assert f'href="{reverse("portal:tickets")}"' in content


# --- stored XSS -----------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src=x onerror="alert(1)">'


def test_xss_payloads_in_subject_body_and_names_are_inert(client, cast):
    from kefu.customers.models import Contact

    Contact.objects.filter(user=cast.alan).update(name=f"Alan {IMAGE}")
    ticket = create_ticket(
        cast.alan, NewTicket(subject=f"Help {SCRIPT}", body=f"Body {IMAGE} {SCRIPT}")
    )
    add_message(cast.agent, ticket, body="Reply", body_html=f"<p>ok</p>{SCRIPT}{IMAGE}")
    client.force_login(cast.alice)
    pages = [
        client.get(reverse("portal:tickets")).content.decode(),
        client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode(),
    ]
    for content in pages:
        assert SCRIPT not in content
        assert not re.search(r"<img[^>]*onerror", content)
    assert "&lt;script&gt;" in pages[1]
