"""Routing pages and /api/v1/routing: who reads, who edits, and the outsiders."""

from __future__ import annotations

import pytest

from kefu.routing.actions import save_group_routing
from kefu.routing.models import AgentProfile, AssignmentRule, Availability, Strategy
from kefu.test import PASSWORD


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def api(client, cast, user, method, path, data=None):
    call = getattr(client, method)
    kwargs = {"headers": {"authorization": f"Bearer {cast.token(user)}"}}
    if data is not None:
        kwargs.update(data=data, content_type="application/json")
    return call(f"/api/v1/routing{path}", **kwargs)


RULE = {
    "name": "Faults → 售后",
    "conditions": [{"field": "text", "operator": "contains_any", "value": ["黑屏", "E23"]}],
    "actions": {"priority": "high"},
}


def test_an_admin_creates_a_rule_in_the_form_without_json(client, cast):
    login(client, cast.admin)
    assert client.get("/routing/rules/new/").status_code == 200
    response = client.post(
        "/routing/rules/new/",
        {
            "name": "产品故障",
            "is_active": "on",
            "match_mode": "all",
            "keyword_where": "text",
            "keywords": "黑屏，报错\nE23",
            "regex_where": "subject",
            "regex": r"E\d+",
            "channel_op": "in",
            "channel": ["email", "web"],
            "language_op": "in",
            "language": ["zh"],
            "set_group": cast.aftersales.pk,
            "set_priority": "high",
            "add_tags": "产品故障, display",
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert rule.conditions[0] == {
        "field": "text",
        "operator": "contains_any",
        "value": ["黑屏", "报错", "E23"],
    }
    assert {"field": "channel", "operator": "in", "value": ["email", "web"]} in rule.conditions
    assert rule.actions == {
        "group": cast.aftersales.pk,
        "priority": "high",
        "tags": ["产品故障", "display"],
    }
    page = client.get(f"/routing/rules/{rule.pk}/")
    assert "黑屏, 报错, E23" in page.content.decode()
    listing = client.get("/routing/").content.decode()
    assert "产品故障" in listing and "售后服务部" in listing


def test_the_form_shows_a_clear_error_for_a_bad_regex_and_no_action(client, cast):
    login(client, cast.supervisor)
    response = client.post(
        "/routing/rules/new/",
        {
            "name": "x",
            "match_mode": "all",
            "keyword_where": "text",
            "regex_where": "text",
            "regex": "E(23",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Invalid regular expression E(23" in body
    assert "Choose at least one action." in body
    assert not AssignmentRule.objects.exists()


def test_rules_move_up_and_down_in_the_list(client, cast):
    login(client, cast.admin)
    first = api(client, cast, cast.admin, "post", "/rules", {**RULE, "name": "a"}).json()
    second = api(client, cast, cast.admin, "post", "/rules", {**RULE, "name": "b"}).json()
    client.post(f"/routing/rules/{second['id']}/move/", {"direction": "up"})
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["b", "a"]
    client.post(f"/routing/rules/{second['id']}/move/", {"direction": "down"})
    assert list(AssignmentRule.objects.values_list("pk", flat=True)) == [first["id"], second["id"]]


@pytest.mark.parametrize("who", ["agent", "tech_agent"])
def test_an_agent_reads_rules_but_cannot_edit_them(client, cast, who):
    rule = api(client, cast, cast.admin, "post", "/rules", RULE).json()
    agent = getattr(cast, who)
    login(client, agent)
    assert client.get("/routing/").status_code == 200
    assert client.get(f"/routing/rules/{rule['id']}/").status_code == 200
    assert client.post(f"/routing/rules/{rule['id']}/", {"name": "hijack"}).status_code == 403
    assert client.post(f"/routing/rules/{rule['id']}/delete/").status_code == 403
    assert client.get("/routing/rules/new/").status_code == 403
    assert (
        api(client, cast, agent, "patch", f"/rules/{rule['id']}", {"name": "x"}).status_code == 403
    )
    assert api(client, cast, agent, "post", "/rules", RULE).status_code == 403
    assert AssignmentRule.objects.get().name == RULE["name"]


def test_customer_cannot_see_routing_pages_or_api(client, cast):
    rule = api(client, cast, cast.admin, "post", "/rules", RULE).json()
    login(client, cast.alice)
    for path in ("/routing/", f"/routing/rules/{rule['id']}/", "/routing/agents/"):
        assert client.get(path).status_code == 404
    # The API answers a list with 403 and the reason; an object the customer cannot see is 404.
    for path in ("/rules", "/groups", "/agents"):
        assert api(client, cast, cast.alice, "get", path).status_code == 403
    assert api(client, cast, cast.alice, "get", f"/rules/{rule['id']}").status_code == 404
    assert api(client, cast, cast.alice, "delete", f"/rules/{rule['id']}").status_code == 404
    assert client.post("/routing/availability/", {"availability": "away"}).status_code == 404


def test_the_api_creates_changes_reorders_and_deletes_rules(client, cast):
    created = api(client, cast, cast.supervisor, "post", "/rules", RULE)
    assert created.status_code == 201
    rule = created.json()
    assert rule["conditions"][0]["value"] == ["黑屏", "E23"]
    other = api(client, cast, cast.admin, "post", "/rules", {**RULE, "name": "b"}).json()
    changed = api(client, cast, cast.admin, "patch", f"/rules/{rule['id']}", {"is_active": False})
    assert changed.json()["is_active"] is False
    order = api(
        client, cast, cast.admin, "post", "/rules/reorder", {"ids": [other["id"], rule["id"]]}
    )
    assert [r["id"] for r in order.json()["items"]] == [other["id"], rule["id"]]
    assert api(client, cast, cast.admin, "delete", f"/rules/{rule['id']}").status_code == 204
    assert [r["id"] for r in api(client, cast, cast.agent, "get", "/rules").json()["items"]] == [
        other["id"]
    ]


def test_the_api_rejects_an_invalid_regex_with_the_field(client, cast):
    bad = {**RULE, "conditions": [{"field": "subject", "operator": "matches", "value": "(("}]}
    response = api(client, cast, cast.admin, "post", "/rules", bad)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "conditions"
    assert "Invalid regular expression" in body["detail"]


def test_group_strategy_by_admin_or_the_groups_supervisor_only(client, cast):
    path = f"/groups/{cast.cs.pk}"
    assert api(client, cast, cast.agent, "patch", path, {"strategy": "load"}).status_code == 403
    assert (
        api(client, cast, cast.supervisor, "patch", f"/groups/{cast.tech.pk}", {"strategy": "load"})
    ).status_code == 403
    response = api(client, cast, cast.supervisor, "patch", path, {"strategy": "round_robin"})
    assert response.json()["strategy"] == "round_robin"
    login(client, cast.admin)
    client.post(
        f"/routing/groups/{cast.aftersales.pk}/", {"strategy": "weighted", "max_in_a_row": 2}
    )
    listing = api(client, cast, cast.agent, "get", "/groups").json()["items"]
    assert {g["group"]["id"]: g["strategy"] for g in listing}[cast.aftersales.pk] == "weighted"
    login(client, cast.agent)
    assert client.post(f"/routing/groups/{cast.cs.pk}/", {"strategy": "none"}).status_code == 403


def test_agent_profiles_by_supervisors_and_availability_by_the_agent(client, cast):
    path = f"/agents/{cast.agent.pk}"
    denied = api(client, cast, cast.agent, "patch", path, {"capacity": 99})
    assert denied.status_code == 403
    changed = api(
        client,
        cast,
        cast.supervisor,
        "patch",
        path,
        {"capacity": 5, "skills": ["zh", "display"], "shift_hours": {"mon": [["09:00", "18:00"]]}},
    )
    assert changed.status_code == 200
    assert changed.json()["skills"] == ["zh", "display"]
    bad = api(client, cast, cast.supervisor, "patch", path, {"shift_hours": {"mon": [["9", "x"]]}})
    assert bad.status_code == 422
    away = api(client, cast, cast.agent, "post", f"{path}/availability", {"availability": "away"})
    assert away.json()["availability"] == "away"
    assert (
        api(
            client,
            cast,
            cast.quality_agent,
            "post",
            f"{path}/availability",
            {"availability": "available"},
        ).status_code
        == 403
    )
    listing = api(client, cast, cast.tech_agent, "get", "/agents").json()["items"]
    assert {a["user"]["id"]: a["availability"] for a in listing}[cast.agent.pk] == "away"


def test_the_nav_switch_sets_my_availability(client, cast):
    login(client, cast.agent)
    page = client.get("/tickets/").content.decode()
    assert 'action="/routing/availability/"' in page
    response = client.post("/routing/availability/", {"availability": "away", "next": "/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert AgentProfile.objects.get(user=cast.agent).availability == Availability.AWAY


def test_the_agents_page_shows_availability_capacity_skills_and_load(client, cast, make_ticket):
    save_group_routing(cast.admin, cast.cs, strategy=Strategy.ROUND_ROBIN)
    make_ticket(assignee=cast.agent)
    AgentProfile.objects.create(user=cast.agent, capacity=1, skills=["billing"])
    login(client, cast.supervisor)
    body = client.get("/routing/agents/").content.decode()
    assert "billing" in body and "at capacity (1/1 open)" in body
    page = client.get(f"/routing/agents/{cast.agent.pk}/")
    assert page.status_code == 200
    saved = client.post(
        f"/routing/agents/{cast.agent.pk}/",
        {
            "capacity": 3,
            "weight": 2,
            "skills": "zh, 显示器",
            "time_zone": "",
            "shift_hours": "mon 09:00-12:00 13:00-18:00\nsat 10:00-14:00",
        },
    )
    assert saved.status_code == 302
    profile = AgentProfile.objects.get(user=cast.agent)
    assert profile.shift_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "18:00"]],
        "sat": [["10:00", "14:00"]],
    }
    bad = client.post(
        f"/routing/agents/{cast.agent.pk}/",
        {"capacity": 3, "weight": 2, "shift_hours": "someday 9-5"},
    )
    assert bad.status_code == 400
    login(client, cast.quality_agent)
    assert (
        client.post(f"/routing/agents/{cast.agent.pk}/", {"capacity": 0, "weight": 1}).status_code
        == 403
    )
