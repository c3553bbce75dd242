"""Organisation-shared tickets in the portal ("mine" / "my organisation's", who opened them) and
the ticket page's live thread — with the customers of a non-sharing organisation as outsiders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.tickets.actions import NewTicket, add_message, create_ticket


@pytest.fixture
def tickets(cast):
    return {
        name: create_ticket(
            getattr(cast, name), NewTicket(subject=f"Ticket of {name}", body="help")
        )
        for name in ("alice", "alan", "bob", "bella")
    }


def listed(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("portal:tickets"), {"show": "all", **params})
    assert response.status_code == 200
    return response, {ticket.subject for ticket in response.context["tickets"]}


def test_members_of_a_sharing_organisation_see_its_tickets_by_default(client, cast, tickets):
    response, subjects = listed(client, cast.alice)
    assert subjects == {"Ticket of alice", "Ticket of alan"}
    content = response.content.decode()
    assert "Acme 有限公司" in content  # the "organisation's tickets" tab
    assert "Alan" in content  # who opened the colleague's ticket


def test_the_mine_filter_shows_only_ones_own(client, cast, tickets):
    _response, subjects = listed(client, cast.alice, whose="mine")
    assert subjects == {"Ticket of alice"}


def test_a_search_respects_the_mine_filter(client, cast, tickets):
    client.force_login(cast.alice)
    response = client.get(
        reverse("portal:tickets"), {"show": "all", "whose": "mine", "q": "ticket"}
    )
    assert {hit.ticket.subject for hit in response.context["hits"]} == {"Ticket of alice"}


def test_search_results_page_with_a_signed_cursor(client, cast, tickets, monkeypatch):
    monkeypatch.setattr("kefu.portal.views.PAGE_SIZE", 1)
    client.force_login(cast.alice)
    search = {"show": "all", "q": "ticket"}
    first = client.get(reverse("portal:tickets"), search)
    second = client.get(reverse("portal:tickets"), {**search, "from": first.context["next_from"]})
    seen = [hit.ticket.subject for page in (first, second) for hit in page.context["hits"]]
    assert sorted(seen) == ["Ticket of alan", "Ticket of alice"]  # never Bob's or Bella's
    assert second.context["next_from"] is None
    forged = client.get(reverse("portal:tickets"), {**search, "from": "1"})
    assert [hit.ticket.pk for hit in forged.context["hits"]] == [
        hit.ticket.pk for hit in first.context["hits"]
    ]


def test_customer_cannot_see_colleagues_tickets_when_the_organisation_does_not_share(
    client, cast, tickets
):
    response, subjects = listed(client, cast.bob, whose="organization")
    assert subjects == {"Ticket of bob"}
    assert response.context["shared_organization"] is None
    assert "Opened by me" not in response.content.decode()
    client.force_login(cast.bob)
    assert client.get(reverse("portal:ticket", args=[tickets["bella"].pk])).status_code == 404


def test_a_colleague_opens_a_shared_ticket_and_sees_who_opened_it(client, cast, tickets):
    client.force_login(cast.alice)
    response = client.get(reverse("portal:ticket", args=[tickets["alan"].pk]))
    assert response.status_code == 200
    assert "Alan" in response.content.decode()


def test_the_ticket_page_subscribes_to_live_updates(client, cast, tickets):
    client.force_login(cast.alice)
    content = client.get(reverse("portal:ticket", args=[tickets["alice"].pk])).content.decode()
    assert f'data-ticket-id="{tickets["alice"].pk}"' in content
    assert "data-live" in content
    assert reverse("portal:conversation", args=[tickets["alice"].pk]) in content


def test_the_live_thread_shows_a_new_agent_reply_but_never_a_note(client, cast, tickets):
    ticket = tickets["alice"]
    add_message(cast.agent, ticket, body="We replaced the part")
    add_message(cast.agent, ticket, body="secret internal remark", internal=True)
    client.force_login(cast.alice)
    response = client.get(
        reverse("portal:conversation", args=[ticket.pk]), headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert "We replaced the part" in content
    assert "secret internal remark" not in content
    assert 'id="ticket-state"' in content  # the status is refreshed too


def test_an_outsider_cannot_fetch_a_live_thread(client, cast, tickets):
    client.force_login(cast.bob)
    assert client.get(reverse("portal:conversation", args=[tickets["alice"].pk])).status_code == 404
    client.force_login(cast.agent)  # staff use the console
    assert client.get(reverse("portal:conversation", args=[tickets["alice"].pk])).status_code == 302
