"""E-mail messages in the timeline: quoted history folded away, the original one click away."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.intake.actions import ingest_email
from kefu.intake.models import InboundEmail
from kefu.test import PASSWORD
from kefu.tickets.actions import add_message

REPLY = (
    "Die Anzeige ist wieder da, danke!\n\n"
    "-- \nMax Mustermann\n\n"
    "Am Mo., 2. März 2026 um 10:15 Uhr schrieb Kefu <support@kefu.example>:\n"
    "> Bitte starten Sie das Gerät neu.\n"
)


def login(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def mailed(cast, mail):
    """A 客服部 ticket opened by Alice's mail, which quotes an earlier answer."""
    return ingest_email(mail(sender="Alice 李 <alice@acme.example>", body=REPLY)).ticket


def test_the_console_folds_the_quote_and_signature_of_an_email_message(cast, mailed):
    page = login(cast.agent).get(f"/tickets/{mailed.pk}/").content.decode()
    body = page.split('class="body">', 1)[1].split("</div>", 1)[0]
    assert "Die Anzeige ist wieder da, danke!" in body
    details = page.split('<details class="quoted-text">', 1)[1].split("</details>", 1)[0]
    assert "Show quoted text" in details
    assert "Max Mustermann" in details
    assert "&gt; Bitte starten Sie das Gerät neu." in details
    assert "Bitte starten" not in page.split('<details class="quoted-text">', 1)[0]


def test_the_portal_folds_the_quote_for_the_customer_too(cast, mailed):
    page = login(cast.alice).get(f"/portal/{mailed.pk}/").content.decode()
    assert '<details class="quoted-text">' in page
    assert "Die Anzeige ist wieder da, danke!" in page.split("<details", 1)[0]


def test_an_email_without_a_quote_shows_its_html_and_no_fold(cast, mail):
    ticket = ingest_email(mail(sender="alice@acme.example", body="<b>只有新内容</b>")).ticket
    page = login(cast.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "quoted-text" not in page
    assert "&lt;b&gt;只有新内容&lt;/b&gt;" in page  # plain text stays escaped


def test_messages_from_other_channels_are_never_folded(cast, make_ticket):
    ticket = make_ticket(cast.alice, body="Hello\n-- \nAlice")
    add_message(cast.agent, ticket, body="On Monday, you wrote:\n> Hello")
    page = login(cast.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "quoted-text" not in page
    assert "Download .eml" not in page


def test_staff_download_the_original_mail_from_the_timeline(cast, mailed):
    client = login(cast.agent)
    message = mailed.messages.get()
    url = f"/intake/messages/{message.pk}/original.eml"
    assert url in client.get(f"/tickets/{mailed.pk}/").content.decode()
    assert url in client.get(f"/tickets/{mailed.pk}/timeline/").content.decode()

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="message-{message.pk}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    raw = b"".join(response.streaming_content)
    assert raw == InboundEmail.objects.get(ticket_message=message).raw.open("rb").read()


@pytest.mark.parametrize("who", ["quality_agent", "alice", "bob"])
def test_outsiders_and_customers_cannot_download_the_original(cast, mailed, who):
    message = mailed.messages.get()
    response = login(getattr(cast, who)).get(f"/intake/messages/{message.pk}/original.eml")
    assert response.status_code == 404


def test_the_portal_never_links_the_original_mail(cast, mailed):
    assert "original.eml" not in login(cast.alice).get(f"/portal/{mailed.pk}/").content.decode()


def test_a_message_without_a_stored_original_has_no_download(cast, mailed):
    message = mailed.messages.get()
    InboundEmail.objects.filter(ticket_message=message).update(raw="")
    client = login(cast.agent)
    assert "Download .eml" not in client.get(f"/tickets/{mailed.pk}/").content.decode()
    assert client.get(f"/intake/messages/{message.pk}/original.eml").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(mailed):
    message = mailed.messages.get()
    response = Client().get(f"/intake/messages/{message.pk}/original.eml")
    assert response.status_code == 302
