"""Agent and group signatures below public replies: stored with the reply, so the e-mail, the
portal and the API show the same text; never on notes or customers' messages."""

from __future__ import annotations

from django.urls import reverse

from kefu.accounts.actions import save_group, update_preferences
from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.actions import add_message


def sign(cast):
    update_preferences(cast.agent, signature="王小明 Wang\n客服专员 Support")
    save_group(cast.admin, cast.cs, signature="Acme Support · 400-800-1234")


def test_a_public_reply_carries_the_agents_then_the_groups_signature(cast, make_ticket):
    sign(cast)
    reply = add_message(cast.agent, make_ticket(), body="Please restart the printer.")
    assert reply.body_text == (
        "Please restart the printer.\n\n-- \n王小明 Wang\n客服专员 Support\nAcme Support · 400-800-1234"
    )
    assert "客服专员 Support" in reply.body_html


def test_the_customer_gets_the_signature_by_email_and_in_the_portal(
    client, cast, make_ticket, mailoutbox
):
    sign(cast)
    ticket = make_ticket(cast.alice)
    add_message(cast.agent, ticket, body="Fixed.")
    run_pending_jobs()
    [mail] = [m for m in mailoutbox if m.to == [cast.alice.email]]
    assert "客服专员 Support" in mail.body
    assert "400-800-1234" in mail.alternatives[0][0]

    client.force_login(cast.alice)
    assert (
        "客服专员 Support"
        in client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    )


def test_notes_and_customer_messages_are_not_signed(cast, make_ticket):
    sign(cast)
    ticket = make_ticket(cast.alice)
    assert "Support" not in add_message(cast.agent, ticket, body="note", internal=True).body_text
    assert "Support" not in add_message(cast.alice, ticket, body="thanks").body_text


def test_a_signature_already_typed_is_not_added_twice(cast, make_ticket):
    update_preferences(cast.agent, signature="Wang")
    reply = add_message(cast.agent, make_ticket(), body="Done.\n\n-- \nWang")
    assert reply.body_text.count("Wang") == 1


def test_an_agent_edits_their_signature_on_the_preferences_page(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("accounts:preferences"),
        {"language": "", "time_zone": "", "signature": "Wang  \r\nSupport\r\n"},
    )
    assert response.status_code == 302
    cast.agent.refresh_from_db()
    assert cast.agent.signature == "Wang\nSupport"


def test_customers_have_no_signature_to_edit(client, cast):
    client.force_login(cast.alice)
    response = client.get(reverse("accounts:preferences"))
    assert "signature" not in response.context["form"].fields
    client.post(reverse("accounts:preferences"), {"language": "", "signature": "Hi"})
    cast.alice.refresh_from_db()
    assert cast.alice.signature == ""
