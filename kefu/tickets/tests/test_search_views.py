"""The search box in the console and the portal, including the outsiders."""

from __future__ import annotations

from django.urls import reverse

from kefu.tickets.actions import add_message

LIST = "tickets:list"


def test_an_agent_finds_tickets_with_highlighted_snippets(client, cast, make_ticket):
    ticket = make_ticket(subject="显示屏 黑屏", body="开机后<b>黑屏</b>，报错 E23")
    make_ticket(subject="Unrelated", body="nothing here")
    client.force_login(cast.agent)
    response = client.get(reverse(LIST), {"q": "显示屏 黑屏", "view": "recent"})
    assert response.status_code == 200
    assert [t.pk for t in response.context["page"].tickets] == [ticket.pk]
    html = response.content.decode()
    assert "<mark>显示屏</mark> <mark>黑屏</mark>" in html
    assert "开机后&lt;b&gt;<mark>黑屏</mark>&lt;/b&gt;" in html


def test_an_outsider_agent_finds_nothing_of_another_group(client, cast, make_ticket):
    make_ticket(subject="显示屏 黑屏")
    client.force_login(cast.quality_agent)
    response = client.get(reverse(LIST), {"q": "黑屏", "view": "recent"})
    assert response.context["page"].tickets == []
    assert "黑屏" not in response.content.decode().split('id="ticket-table"')[1]


def test_a_ticket_number_jumps_to_the_ticket_only_when_visible(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.get(reverse(LIST), {"q": f"#{ticket.number}"})
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    client.force_login(cast.quality_agent)
    response = client.get(reverse(LIST), {"q": f"#{ticket.number}"})
    assert response.status_code == 200
    assert "There is no ticket" in response.content.decode()


def test_a_bad_filter_is_reported_and_the_query_kept(client, cast):
    client.force_login(cast.agent)
    response = client.get(reverse(LIST), {"q": "printer state:bogus"})
    html = response.content.decode()
    assert "Unknown state bogus" in html
    assert 'value="printer state:bogus"' in html


def test_search_pages_follow_the_ranked_list(client, cast, make_ticket, monkeypatch):
    from kefu.tickets import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = {make_ticket(subject=f"Router {i}").pk for i in range(5)}
    client.force_login(cast.agent)
    seen, params = [], {"q": "router", "view": "recent"}
    while True:
        page = client.get(reverse(LIST), params).context["page"]
        seen += [t.pk for t in page.tickets]
        if not page.next_cursor:
            break
        params["cursor"] = page.next_cursor
    assert sorted(seen) == sorted(made)


def test_the_console_search_costs_a_fixed_number_of_queries(
    client, cast, make_ticket, django_assert_max_num_queries
):
    for i in range(8):
        make_ticket(subject=f"打印机 {i}", body="打印不出来")
    client.force_login(cast.agent)
    client.get(reverse(LIST), {"q": "打印"})  # warm the session and caches
    # 9, + category tree and custom field filters, + routing and notification navigation.
    with django_assert_max_num_queries(12):
        response = client.get(reverse(LIST), {"q": "打印"})
    assert len(response.context["page"].tickets) == 8


def test_customers_search_their_own_public_text_in_the_portal(client, cast, make_ticket):
    own = make_ticket(cast.alice, subject="洗衣机漏水", body="洗衣机底部漏水")
    add_message(cast.agent, own, body="内部 漏水 secretnote", internal=True)
    make_ticket(cast.bob, subject="洗衣机漏水 Globex", body="漏水")
    client.force_login(cast.alice)
    response = client.get(reverse("portal:tickets"), {"q": "漏水", "show": "all"})
    assert [hit.ticket.pk for hit in response.context["hits"]] == [own.pk]
    html = response.content.decode()
    assert "secretnote" not in html and "Globex" not in html
    assert "<mark>漏水</mark>" in html
    assert client.get(reverse("portal:tickets"), {"q": "secretnote"}).context["hits"] == []
    client.force_login(cast.bob)
    response = client.get(reverse("portal:tickets"), {"q": f"#{own.number}"})
    assert response.status_code == 200 and response.context["hits"] == []
