"""Assignment rules: every condition and action, match modes, ordering, and the timeline."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.customers.models import Asset, Product, Tier
from kefu.routing.actions import move_rule, reorder_rules, save_rule
from kefu.routing.conditions import detect_language, keyword_pattern
from kefu.routing.models import AssignmentRule
from kefu.sla.models import BusinessCalendar, TicketSLA
from kefu.tickets.models import Category, EventType, Message

SHANGHAI = ZoneInfo("Asia/Shanghai")


def text(condition_field="text", operator="contains_any", value=("黑屏",)):
    return {"field": condition_field, "operator": operator, "value": list(value)}


def test_it_routes_a_chinese_fault_ticket_and_says_why(cast, make_ticket, rule):
    rule(
        [text(value=["黑屏", "E23"])],
        {"group": cast.aftersales.pk, "priority": "high"},
        name="Product faults → 售后服务部",
    )
    ticket = make_ticket(subject="显示器黑屏", body="开机后一直黑屏")
    ticket.refresh_from_db()
    assert ticket.group == cast.aftersales
    assert ticket.priority == "high"
    moved = ticket.events.get(type=EventType.CHANGED, field="group")
    assert moved.reason == "Rule 'Product faults → 售后服务部' matched: keyword 黑屏"
    assert moved.actor is None
    assert AssignmentRule.objects.get().matched_count == 1


def test_it_restarts_the_sla_clock_for_the_routed_priority(cast, make_ticket, rule):
    rule([text()], {"priority": "urgent"})
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI), tick=False):
        quiet = make_ticket(subject="普通问题", priority="medium")
        routed = make_ticket(subject="黑屏", priority="medium")
    quiet_sla, routed_sla = (TicketSLA.objects.get(ticket=t) for t in (quiet, routed))
    assert routed_sla.first_response_due_at < quiet_sla.first_response_due_at


@pytest.mark.parametrize(
    ("keyword", "subject", "matches"),
    [
        ("E23", "Printer shows E23 打印机报错", True),
        ("E23", "打印机E23报错", True),
        ("E23", "code E230", False),
        ("error", "ERROR on start", True),
        ("error", "errors everywhere", False),
        ("黑屏", "电视黑屏了", True),
        ("无法开机", "设备无法 开机", False),
    ],
)
def test_it_matches_keywords_by_word_or_substring(keyword, subject, matches):
    assert bool(keyword_pattern(keyword).search(subject)) is matches


def test_it_matches_body_subject_regex_and_negations(cast, make_ticket, rule):
    rule([{"field": "subject", "operator": "matches", "value": r"E\d{2}\b"}], {"tags": ["code"]})
    rule([text("body", "contains_none", ["urgent"])], {"complexity": "simple"})
    rule([{"field": "body", "operator": "not_matches", "value": "^$"}], {"type": "incident"})
    ticket = make_ticket(subject="Code e42 shown", body="nothing special")
    ticket.refresh_from_db()
    assert list(ticket.tags.values_list("name", flat=True)) == ["code"]
    assert ticket.complexity == "simple"
    assert ticket.type.key == "incident"
    reason = ticket.events.get(field="tags").reason
    assert "e42" in reason


def test_it_rejects_an_invalid_regex_with_a_clear_error(cast):
    with pytest.raises(ValidationError) as error:
        save_rule(
            cast.admin,
            name="broken",
            conditions=[{"field": "text", "operator": "matches", "value": "E(23"}],
            actions={"priority": "high"},
        )
    assert "Invalid regular expression E(23" in str(error.value)


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "nope", "operator": "in", "value": ["x"]},
        {"field": "channel", "operator": "in", "value": ["fax"]},
        {"field": "channel", "operator": "equals", "value": ["web"]},
        {"field": "text", "operator": "contains_any", "value": []},
        {"field": "business_hours", "operator": "inside", "value": 99999},
    ],
)
def test_it_rejects_unknown_conditions(cast, condition):
    with pytest.raises(ValidationError):
        save_rule(cast.admin, name="x", conditions=[condition], actions={"priority": "high"})


def test_it_rejects_unknown_actions_and_a_rule_without_actions(cast):
    with pytest.raises(ValidationError):
        save_rule(cast.admin, name="x", conditions=[], actions={"group": 99999})
    with pytest.raises(ValidationError):
        save_rule(cast.admin, name="x", conditions=[], actions={"explode": True})
    with pytest.raises(ValidationError):
        save_rule(cast.admin, name="x", conditions=[], actions={})


def test_agents_and_customers_cannot_write_rules(cast):
    for user in (cast.agent, cast.alice):
        with pytest.raises(PermissionDenied):
            save_rule(user, name="x", conditions=[], actions={"priority": "high"})
    assert save_rule(cast.supervisor, name="ok", conditions=[], actions={"priority": "low"})


def test_it_matches_channel_organisation_tier_and_type(cast, make_ticket, rule):
    cast.acme.tier = Tier.KEY_ACCOUNT
    cast.acme.save()
    rule(
        [
            {"field": "channel", "operator": "in", "value": ["phone"]},
            {"field": "organization", "operator": "in", "value": [cast.acme.pk]},
            {"field": "tier", "operator": "in", "value": ["key_account"]},
            {"field": "type", "operator": "not_in", "value": ["complaint"]},
        ],
        {"priority": "urgent"},
    )
    hit = make_ticket(cast.alice, channel="phone")
    miss_channel = make_ticket(cast.alice, channel="web")
    miss_org = make_ticket(cast.bob, channel="phone")
    miss_type = make_ticket(cast.alice, channel="phone", type_key="complaint")
    for ticket, expected in (
        (hit, "urgent"),
        (miss_channel, "medium"),
        (miss_org, "medium"),
        (miss_type, "medium"),
    ):
        ticket.refresh_from_db()
        assert ticket.priority == expected


def test_it_matches_product_category_and_asset(cast, make_ticket, rule):
    product = Product.objects.create(model_number="KF-200", name="Display", category="显示器")
    asset = Asset.objects.create(serial_number="SN1", product=product, contact=cast.alice.contact)
    rule([{"field": "product", "operator": "in", "value": [product.pk]}], {"tags": ["kf200"]})
    rule(
        [{"field": "product_category", "operator": "in", "value": ["显示器"]}],
        {"group": cast.aftersales.pk},
    )
    with_asset = make_ticket(asset=asset)
    without = make_ticket()
    with_asset.refresh_from_db()
    without.refresh_from_db()
    assert with_asset.group == cast.aftersales
    assert list(with_asset.tags.values_list("name", flat=True)) == ["kf200"]
    assert without.group == cast.cs


def test_it_detects_the_language_from_text_or_the_contact():
    assert detect_language("显示器黑屏，无法开机") == "zh"
    assert detect_language("The screen stays black after E23") == "en"
    assert detect_language("E23 打印机报错了怎么办") == "zh"
    assert detect_language("123", "zh-hans") == "zh"
    assert detect_language("?!", "") == ""


def test_it_matches_language(cast, make_ticket, rule):
    rule([{"field": "language", "operator": "in", "value": ["en"]}], {"tags": ["english"]})
    english = make_ticket(subject="Screen is black", body="It will not start")
    chinese = make_ticket(subject="屏幕黑了", body="无法开机")
    assert english.tags.filter(name="english").exists()
    assert not chinese.tags.exists()


def test_it_matches_business_hours_of_a_calendar(cast, make_ticket, rule):
    calendar = BusinessCalendar.objects.get(kind="china")
    rule(
        [{"field": "business_hours", "operator": "outside", "value": calendar.pk}],
        {"tags": ["after hours"]},
    )
    rule([{"field": "business_hours", "operator": "inside", "value": None}], {"tags": ["office"]})
    with time_machine.travel(datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI), tick=False):
        night = make_ticket()
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), tick=False):
        day = make_ticket()
    assert list(night.tags.values_list("name", flat=True)) == ["after hours"]
    assert list(day.tags.values_list("name", flat=True)) == ["office"]


def test_it_matches_the_mailbox_of_an_email_ticket(cast, rule):
    from kefu.intake.actions import ingest_email
    from kefu.intake.models import Mailbox

    mailbox = Mailbox.objects.create(
        name="Service",
        email_address="service@kefu.example",
        imap_host="imap.kefu.example",
        imap_user="service",
        smtp_host="smtp.kefu.example",
    )
    rule([{"field": "mailbox", "operator": "in", "value": [mailbox.pk]}], {"tags": ["mailbox"]})
    raw = (
        b"From: Carol <carol@mail.example>\r\nTo: service@kefu.example\r\n"
        b"Subject: help\r\nMessage-ID: <m1@mail.example>\r\n\r\nhello\r\n"
    )
    result = ingest_email(raw, mailbox)
    assert result.ticket.tags.filter(name="mailbox").exists()
    other = ingest_email(raw.replace(b"<m1@", b"<m2@"), None)
    assert not other.ticket.tags.exists()


def test_it_matches_complexity_set_by_an_earlier_rule(cast, make_ticket, rule):
    rule([text(value=["主板"])], {"complexity": "complex"})
    rule([{"field": "complexity", "operator": "in", "value": ["complex"]}], {"priority": "high"})
    ticket = make_ticket(subject="主板烧了")
    ticket.refresh_from_db()
    assert (ticket.complexity, ticket.priority) == ("complex", "high")


def test_it_applies_category_assignee_and_adds_tags(cast, make_ticket, rule):
    category = Category.objects.create(name="Display")
    rule([], {"category": category.pk, "assignee": cast.agent.pk, "tags": ["a", "b"]})
    ticket = make_ticket(tags=["existing"])
    ticket.refresh_from_db()
    assert ticket.category == category
    assert ticket.assignee == cast.agent
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["a", "b", "existing"]


def test_any_mode_matches_one_condition_and_all_mode_needs_every_one(cast, make_ticket, rule):
    conditions = [text(value=["黑屏"]), {"field": "channel", "operator": "in", "value": ["phone"]}]
    rule(conditions, {"tags": ["any"]}, match_mode="any")
    rule(conditions, {"tags": ["all"]}, match_mode="all")
    ticket = make_ticket(subject="黑屏", channel="web")
    assert list(ticket.tags.values_list("name", flat=True)) == ["any"]


def test_stop_processing_ends_the_rule_run_and_order_decides(cast, make_ticket, rule):
    first = rule([], {"priority": "low"}, name="first", stop_processing=True)
    second = rule([], {"priority": "urgent"}, name="second")
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.priority == "low"
    move_rule(cast.admin, second, "up")
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["second", "first"]
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.priority == "low"  # second ran, then first (which stops) overrode it
    reorder_rules(cast.admin, [first.pk, second.pk])
    with pytest.raises(ValidationError):
        reorder_rules(cast.admin, [first.pk])


def test_inactive_rules_do_not_run(cast, make_ticket, rule):
    rule([], {"priority": "urgent"}, is_active=False)
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.priority == "medium"


def test_a_rule_that_cannot_apply_leaves_a_note_and_the_ticket_is_still_created(
    cast, make_ticket, rule
):
    rule([], {"assignee": cast.quality_agent.pk}, name="wrong person")
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert "wrong person" in note.body_text


def test_it_routes_tickets_created_through_the_api_before_answering(cast, client, rule):
    rule([text(value=["黑屏"])], {"group": cast.aftersales.pk, "priority": "high"})
    response = client.post(
        "/api/v1/tickets",
        {"subject": "黑屏", "body": "无法开机", "customer": {"email": cast.alice.email}},
        content_type="application/json",
        headers={"authorization": f"Bearer {cast.token(cast.admin)}"},
    )
    assert response.status_code == 201
    data = response.json()
    assert data["group"]["id"] == cast.aftersales.pk
    assert data["priority"] == "high"
    events = client.get(
        f"/api/v1/tickets/{data['id']}/events",
        headers={"authorization": f"Bearer {cast.token(cast.admin)}"},
    ).json()
    assert any("keyword 黑屏" in (e.get("reason") or "") for e in events["items"])
