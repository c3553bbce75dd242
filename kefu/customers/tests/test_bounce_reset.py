"""Staff clear a bounce flag by hand once the address works again."""

from __future__ import annotations

from django.test import Client

from kefu.audit.models import AuditEntry
from kefu.customers.actions import flag_email_bounced
from kefu.test import PASSWORD


def login(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_an_agent_clears_a_bounce_flag_on_the_contact_page_and_it_is_audited(cast):
    contact = cast.alice.contact
    flag_email_bounced(contact, "550 5.2.2 mailbox full")
    page = login(cast.agent).get(f"/customers/{contact.pk}/")
    assert b"mailbox full" in page.content and b"The address works again" in page.content

    url = f"/customers/{contact.pk}/bounce/reset/"
    assert login(cast.alice).post(url).status_code == 404  # customers never reach the console
    contact.refresh_from_db()
    assert contact.email_bounced_at is not None

    response = login(cast.agent).post(url, follow=True)
    contact.refresh_from_db()
    assert contact.email_bounced_at is None and contact.email_bounce_reason == ""
    assert b"will be sent again" in response.content
    entry = AuditEntry.objects.get(action="contact.bounce_cleared")
    assert entry.actor == cast.agent

    again = login(cast.agent).post(url, follow=True)
    assert b"not marked as bouncing" in again.content


def test_the_api_shows_and_clears_the_bounce_flag(cast):
    contact = cast.bob.contact
    flag_email_bounced(contact, "550 no such user")
    staff = {"Authorization": f"Bearer {cast.token(cast.agent)}"}
    shown = Client().get(f"/api/v1/contacts/{contact.pk}", headers=staff).json()
    assert shown["email_bounced_at"] is not None

    url = f"/api/v1/contacts/{contact.pk}/clear-bounce"
    customer = {"Authorization": f"Bearer {cast.token(cast.bob)}"}
    assert Client().post(url, headers=customer).status_code == 403
    cleared = Client().post(url, headers=staff)
    assert cleared.status_code == 200 and cleared.json()["email_bounced_at"] is None
    refused = Client().post(url, headers=staff)
    assert refused.status_code == 400  # a business rule, not a malformed request
    assert refused.json()["errors"][0]["field"] == "email"
