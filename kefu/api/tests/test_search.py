"""``GET /api/v1/tickets?q=``: ranked search with a cursor, access rules and error shape."""

from __future__ import annotations


def test_the_api_ranks_search_results_and_respects_access(api_as, cast, make_ticket):
    first = make_ticket(subject="Printer E23", body="printer error")
    second = make_ticket(subject="Scanner", body="the printer next to it works")
    response = api_as(cast.agent).get("/tickets", {"q": "printers", "limit": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body["items"]] == [first.pk]
    response = api_as(cast.agent).get(
        "/tickets", {"q": "printers", "limit": 1, "cursor": body["next_cursor"]}
    )
    assert [item["id"] for item in response.json()["items"]] == [second.pk]
    assert response.json()["next_cursor"] is None
    assert api_as(cast.quality_agent).get("/tickets", {"q": "printer"}).json()["items"] == []
    assert api_as(cast.bob).get("/tickets", {"q": "printer"}).json()["items"] == []


def test_the_api_reports_a_bad_query_on_the_q_field(api_as, cast):
    response = api_as(cast.agent).get("/tickets", {"q": "priority:soon"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"
