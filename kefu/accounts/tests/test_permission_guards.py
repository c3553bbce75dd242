"""One answer for the same case (docs/architecture.md, "Permission guards"): console pages give
customers 404 and staff without the role 403; the API and actions give 403 with the reason; a
deactivated user's rights are gone everywhere; the system (``None``) passes the action guards."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from kefu.accounts.access import (
    require_admin,
    require_admin_page,
    require_staff,
    require_staff_page,
)

ADMIN_PAGES = [
    reverse("accounts:users"),
    reverse("audit:log"),
    reverse("intake:mailboxes"),
    reverse("notifications:groups"),
    reverse("triage:overview"),
    reverse("sla:calendar_new"),
    reverse("automation:trigger_new"),
    reverse("tickets:categories"),
    reverse("tickets:custom_fields"),
    reverse("tickets:ticket_types"),
    reverse("tickets:tags"),
]
STAFF_API = [
    "/automation/triggers",
    "/automation/macros",
    "/routing/rules",
    "/sla/calendars",
    "/sla/policies",
    "/triage/status",
    "/groups",
    "/tags",
    "/custom-fields",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_answer_customers_404_and_other_staff_403(client, cast, url):
    client.force_login(cast.admin)
    assert client.get(url).status_code == 200
    client.force_login(cast.supervisor)
    assert client.get(url).status_code == 403
    client.force_login(cast.alice)
    assert client.get(url).status_code == 404


def api_get(client, cast, user, path: str):
    return client.get("/api/v1" + path, headers={"Authorization": f"Bearer {cast.token(user)}"})


@pytest.mark.parametrize("path", STAFF_API)
def test_staff_api_answers_customers_403_with_the_reason(client, cast, path):
    assert api_get(client, cast, cast.agent, path).status_code == 200
    response = api_get(client, cast, cast.alice, path)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only ")


def test_the_admin_api_answers_other_staff_403(client, cast):
    assert api_get(client, cast, cast.admin, "/automation/webhooks").status_code == 200
    assert api_get(client, cast, cast.supervisor, "/automation/webhooks").status_code == 403


def test_a_deactivated_administrator_passes_no_guard(cast):
    cast.admin.is_active = False
    with pytest.raises(PermissionDenied):
        require_admin(cast.admin)
    with pytest.raises(PermissionDenied):
        require_staff(cast.admin)
    with pytest.raises(Http404):
        require_admin_page(cast.admin)
    with pytest.raises(Http404):
        require_staff_page(cast.admin)


def test_the_action_guards_let_the_system_through_and_stop_customers(cast):
    require_admin(None)
    require_staff(None)
    require_staff(cast.agent)
    with pytest.raises(PermissionDenied, match="Only administrators"):
        require_admin(cast.agent)
    with pytest.raises(PermissionDenied, match="Only staff"):
        require_staff(cast.alice)
