"""Bearer tokens, throttling, the error shape under /api/, the docs page and reference lists."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from kefu.accounts.actions import create_api_token, revoke_api_token
from kefu.accounts.models import ApiToken


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer kefu_wrong", "Token kefu_test", "Basic YTpi"]
)
def test_it_refuses_a_missing_or_bad_token_with_401(cast, api_as, authorization):
    client = api_as(None)
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/tickets", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": response.json()["detail"], "errors": []}


def test_it_accepts_a_token_from_kefu_token_create(cast, api_as):
    _token, raw = create_api_token(None, cast.agent)
    assert api_as(token=raw).get("/tickets").status_code == 200


def test_it_refuses_a_revoked_token(cast, api_as):
    token, raw = create_api_token(None, cast.agent)
    revoke_api_token(cast.agent, token)
    assert api_as(token=raw).get("/tickets").status_code == 401


def test_it_refuses_the_token_of_a_deactivated_user(cast, api_as):
    client = api_as(cast.agent)
    cast.agent.is_active = False
    cast.agent.save()
    assert client.get("/tickets").status_code == 401


def test_it_records_token_use_at_most_once_a_minute(cast, api_as):
    client = api_as(cast.agent)
    token = ApiToken.objects.get(user=cast.agent)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/groups")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get("/groups")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        client.get("/groups")
        token.refresh_from_db()
        assert token.last_used_at == start + timedelta(seconds=90)


@override_settings(API_THROTTLE_PER_MINUTE=3)
def test_it_throttles_a_token_with_429_and_retry_after(cast, api_as):
    client = api_as(cast.agent)
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        statuses = [client.get("/groups").status_code for _ in range(4)]
        other = api_as(cast.admin).get("/groups")
        throttled = client.get("/groups")
    assert statuses == [200, 200, 200, 429]
    assert other.status_code == 200  # per token, not global
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.json()["errors"] == []


def test_an_unexpected_error_is_a_json_500_without_a_traceback(cast, api_as, monkeypatch, caplog):
    from kefu.api import groups

    class Exploding:
        def filter(self, **kwargs):
            raise RuntimeError("secret internals")

    monkeypatch.setattr(groups.Group, "objects", Exploding())
    response = api_as(cast.agent).get("/groups")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal error", "errors": []}
    assert b"secret internals" not in response.content
    assert "secret internals" in caplog.text  # but the log has it


def test_an_unknown_api_path_is_json_404(cast, api_as):
    response = api_as(cast.agent).get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["errors"] == []


def test_a_non_numeric_id_is_404(cast, api_as):
    assert api_as(cast.agent).get("/tickets/abc").status_code == 404


def test_openapi_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/tickets" in schema.json()["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assets = re.findall(r"/static/ninja/[^\"']+", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert all(client.get(asset).status_code == 200 for asset in assets)
    assert "cdn" not in html.lower()


# --- reference lists ------------------------------------------------------------------------


def test_staff_list_the_groups(cast, api_as):
    cast.aftersales.is_active = False
    cast.aftersales.save()
    for user in (cast.agent, cast.quality_agent, cast.admin):
        response = api_as(user).get("/groups")
        assert response.status_code == 200
        assert {item["id"] for item in response.json()["items"]} == {
            cast.cs.pk,
            cast.tech.pk,
            cast.quality.pk,
        }


def test_customer_cannot_list_groups(cast, api_as):
    response = api_as(cast.alice).get("/groups")
    assert response.status_code == 403
    assert response.json()["detail"]


def test_it_lists_ticket_types_for_everyone(cast, api_as):
    for user in (cast.agent, cast.alice):
        items = api_as(user).get("/ticket-types").json()["items"]
        assert "incident" in {item["key"] for item in items}
    assert api_as(None).get("/ticket-types").status_code == 401


def test_wrong_method_is_a_json_405(client, cast):
    response = client.delete(
        "/api/v1/groups", HTTP_AUTHORIZATION=f"Bearer {cast.token(cast.agent)}"
    )
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Method Not Allowed", "errors": []}


def test_unknown_api_path_is_a_json_404(client, db):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["errors"] == []
