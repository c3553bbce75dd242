"""The page registry (kefu.lib.panels): what a higher app registers shows on a lower app's page,
after what registered before it, and only to those who may see it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.lib import panels

SECTION = "testapp/_visits.html"
CELL = "testapp/_visits_cell.html"


@pytest.fixture
def test_app(settings, tmp_path):
    """A later app (say after-sales) with a section on the contact page and a list column."""
    (tmp_path / "testapp").mkdir()
    (tmp_path / SECTION).write_text("<h2>Visits</h2><p>{{ note }} for {{ contact.name }}</p>")
    (tmp_path / CELL).write_text("<td>{{ value }} visits</td>")
    templates = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    settings.TEMPLATES = templates
    seen = []

    def visits(request, contact):
        seen.append((request.user, contact))
        return SECTION, {"note": f"Visits seen by {request.user.name}", "contact": contact}

    def visit_counts(user, contacts):
        return {contact.pk: {"visit_count": 7} for contact in contacts}

    panels.register_section("contact", visits)
    panels.register_columns("contact", [panels.Column("visit_count", "Visits", CELL)], visit_counts)
    yield seen
    panels.unregister("contact", visits)
    panels.unregister("contact", visit_counts)


def test_it_shows_a_registered_section_after_the_tickets(client, cast, make_ticket, test_app):
    make_ticket(cast.alice, subject="Printer jam")
    client.force_login(cast.agent)
    html = client.get(reverse("customers:contact", args=[cast.alice.contact.pk])).content.decode()
    assert f"Visits seen by {cast.agent.name} for {cast.alice.contact.name}" in html
    assert html.index("Printer jam") < html.index("<h2>Visits</h2>") < html.index("<h2>Assets</h2>")
    assert test_app == [(cast.agent, cast.alice.contact)]
    listed = client.get(reverse("customers:contacts"))
    assert [column.name for column in listed.context["columns"]][-1] == "visit_count"
    assert "<td>7 visits</td>" in listed.content.decode()
    rows = dict(listed.context["rows"])
    assert rows[cast.alice.contact].visit_count == 7


def test_customer_cannot_reach_a_registered_section(client, cast, test_app):
    client.force_login(cast.bob)
    response = client.get(reverse("customers:contact", args=[cast.bella.contact.pk]))
    assert response.status_code == 404
    assert test_app == []


def test_the_tickets_section_shows_only_tickets_the_viewer_may_see(client, cast, make_ticket):
    make_ticket(cast.alice, subject="Printer jam")
    client.force_login(cast.quality_agent)  # staff, but an outsider to cs tickets
    html = client.get(reverse("customers:contact", args=[cast.alice.contact.pk])).content.decode()
    assert "Printer jam" not in html and "0 open of 0" in html
