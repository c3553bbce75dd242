"""Triggers: every condition and action, change conditions, loop protection, e-mails."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from kefu.automation.actions import save_trigger
from kefu.automation.models import AutomationMail, MailStatus, Trigger
from kefu.automation.rules import Situation, condition_holds, normalise_condition
from kefu.customers.models import Tier
from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import Category, EventType, Message, Ticket


def trigger(cast, *, events=("created",), conditions=(), actions=(), match="all", name="T"):
    return save_trigger(
        cast.admin,
        name=name,
        events=list(events),
        match=match,
        conditions=list(conditions),
        actions=list(actions),
    )


def note_texts(ticket: Ticket) -> list[str]:
    return list(
        Message.objects.filter(ticket=ticket, is_internal=True).values_list("body_text", flat=True)
    )


NOTE = {"type": "add_note", "body": "fired for #{{ ticket.number }}"}


def cond(field, operator, value=""):
    return {"field": field, "operator": operator, "value": value}


# --- conditions, one by one ------------------------------------------------------------------


@pytest.fixture
def ticket(cast, make_ticket):
    cast.acme.tier = Tier.KEY_ACCOUNT
    cast.acme.save()
    category = Category.objects.create(name="Display")
    return make_ticket(
        subject="屏幕黑屏 Screen stays black",
        body="The display shows error E23 after 开机",
        priority="high",
        tags=["vip", "屏幕"],
        category=category,
        complexity="complex",
        channel="email",
        assignee=cast.agent,
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (cond("state", "is", "new"), True),
        (cond("state", "is_not", "new"), False),
        (cond("priority", "is", "high"), True),
        (cond("priority", "is", "urgent"), False),
        (cond("type", "is", "question"), True),
        (cond("channel", "is", "email"), True),
        (cond("channel", "is_not", "email"), False),
        (cond("tags", "contains", "VIP"), True),
        (cond("tags", "contains", "屏幕"), True),
        (cond("tags", "not_contains", "vip"), False),
        (cond("complexity", "is", "complex"), True),
        (cond("complexity", "is", "simple"), False),
        (cond("organization_tier", "is", "key_account"), True),
        (cond("organization_tier", "is", "standard"), False),
        (cond("subject", "contains", "黑屏"), True),
        (cond("subject", "contains", "screen STAYS"), True),
        (cond("subject", "not_contains", "黑屏"), False),
        (cond("body", "contains", "e23"), True),
        (cond("body", "contains", "开机"), True),
        (cond("body", "contains", "printer"), False),
    ],
)
def test_it_evaluates_each_field_condition(cast, ticket, row, expected):
    row = normalise_condition(row)
    assert condition_holds(row, Situation(ticket=ticket)) is expected


def test_it_evaluates_conditions_on_groups_people_categories_and_organisations(cast, ticket):
    situation = Situation(ticket=ticket)
    checks = [
        (cond("group", "is", cast.cs.name), True),
        (cond("group", "is", str(cast.tech.pk)), False),
        (cond("assignee", "is", cast.agent.email), True),
        (cond("assignee", "is", "none"), False),
        (cond("category", "is", "Display"), True),
        (cond("organization", "is", "Acme 有限公司"), True),
        (cond("organization", "is_not", "Globex"), True),
    ]
    for row, expected in checks:
        assert condition_holds(normalise_condition(row), situation) is expected, row


def test_it_rejects_unknown_values_with_a_clear_error(cast):
    with pytest.raises(ValidationError, match="No group named Sales"):
        normalise_condition(cond("group", "is", "Sales"))
    with pytest.raises(ValidationError, match="use one of"):
        normalise_condition(cond("priority", "is", "critical"))
    with pytest.raises(ValidationError, match="cannot be combined"):
        normalise_condition(cond("subject", "is", "x"))
    with pytest.raises(ValidationError) as error:
        trigger(cast, conditions=[cond("state", "is", "gone")], actions=[NOTE])
    assert "Condition 1" in str(error.value.message_dict["conditions"])


def test_change_conditions_match_only_the_change(cast, make_ticket):
    trigger(
        cast,
        events=["updated"],
        conditions=[cond("state", "changed_from", "new"), cond("state", "changed_to", "on_hold")],
        actions=[NOTE],
    )
    ticket = make_ticket()
    update_ticket(cast.agent, ticket, state="open")
    assert note_texts(ticket) == []
    ticket = make_ticket()
    update_ticket(cast.agent, ticket, state="on_hold")
    assert note_texts(ticket) == [f"fired for #{ticket.number}"]


def test_priority_changed_to_urgent_fires_on_that_change_only(cast, make_ticket):
    trigger(
        cast,
        events=["updated"],
        conditions=[cond("priority", "changed_to", "urgent")],
        actions=[NOTE],
    )
    ticket = make_ticket(priority="urgent")  # created urgent: not a change
    update_ticket(cast.agent, ticket, subject="Still urgent")
    assert note_texts(ticket) == []
    other = make_ticket()
    update_ticket(cast.agent, other, priority="urgent")
    assert len(note_texts(other)) == 1


def test_any_match_needs_one_condition(cast, make_ticket):
    trigger(
        cast,
        match="any",
        conditions=[cond("priority", "is", "urgent"), cond("subject", "contains", "发票")],
        actions=[NOTE],
    )
    assert note_texts(make_ticket(subject="开发票")) != []
    assert note_texts(make_ticket(subject="Other")) == []


# --- events -----------------------------------------------------------------------------------


def test_customer_and_agent_replies_fire_their_own_triggers(cast, make_ticket):
    trigger(cast, name="c", events=["customer_replied"], actions=[{**NOTE, "body": "customer"}])
    trigger(cast, name="a", events=["agent_replied"], actions=[{**NOTE, "body": "agent"}])
    ticket = make_ticket()
    add_message(cast.alice, ticket, body="More details")
    assert note_texts(ticket) == ["customer"]
    add_message(cast.agent, ticket, body="Thanks")
    add_message(cast.agent, ticket, body="internal", internal=True)
    assert note_texts(ticket) == ["customer", "agent", "internal"]


def test_a_customer_reply_that_reopens_carries_the_state_change(cast, make_ticket):
    trigger(
        cast,
        events=["customer_replied"],
        conditions=[cond("state", "changed_from", "resolved")],
        actions=[{"type": "set_priority", "value": "high"}],
    )
    ticket = make_ticket()
    add_message(cast.alice, ticket, body="first")
    assert Ticket.objects.get(pk=ticket.pk).priority == "medium"
    update_ticket(cast.agent, ticket, state="resolved")
    add_message(cast.alice, ticket, body="It broke again")
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"


def test_inactive_triggers_do_not_fire(cast, make_ticket):
    rule = trigger(cast, actions=[NOTE])
    save_trigger(cast.admin, rule, is_active=False)
    assert note_texts(make_ticket()) == []


# --- actions ----------------------------------------------------------------------------------


def test_it_sets_fields_with_the_trigger_named_as_reason(cast, make_ticket):
    category = Category.objects.create(name="Hardware")
    trigger(
        cast,
        name="硬件故障",
        conditions=[cond("subject", "contains", "黑屏")],
        actions=[
            {"type": "set_priority", "value": "urgent"},
            {"type": "set_state", "value": "open"},
            {"type": "set_type", "value": "question"},
            {"type": "set_group", "value": cast.aftersales.name},
            {"type": "set_category", "value": "Hardware"},
            {"type": "set_complexity", "value": "complex"},
            {"type": "add_tags", "value": "硬件, screen"},
            {"type": "remove_tags", "value": "old"},
        ],
    )
    ticket = make_ticket(subject="黑屏", tags=["old"])
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.state, ticket.group, ticket.category, ticket.complexity) == (
        "urgent",
        "open",
        cast.aftersales,
        category,
        "complex",
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["screen", "硬件"]
    reasons = set(ticket.events.filter(type=EventType.CHANGED).values_list("reason", flat=True))
    assert reasons == {"Trigger: 硬件故障"}
    assert all(e.actor is None for e in ticket.events.filter(type=EventType.CHANGED))


def test_it_assigns_and_unassigns(cast, make_ticket):
    trigger(cast, name="assign", actions=[{"type": "set_assignee", "value": cast.agent.email}])
    ticket = make_ticket()
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.agent
    trigger(
        cast,
        name="unassign",
        events=["updated"],
        conditions=[cond("priority", "changed_to", "low")],
        actions=[{"type": "set_assignee", "value": ""}],
    )
    update_ticket(cast.agent, ticket, priority="low")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_a_failing_action_is_recorded_and_never_breaks_the_change(cast, make_ticket):
    rule = trigger(cast, actions=[{"type": "set_assignee", "value": cast.quality_agent.email}])
    ticket = make_ticket()  # quality_agent cannot work 客服部 tickets
    assert Ticket.objects.filter(pk=ticket.pk, assignee=None).exists()
    rule.refresh_from_db()
    assert "cannot work tickets" in rule.last_error
    assert rule.fired_count == 0


def test_it_mails_customer_assignee_and_group_once_even_when_retried(cast, make_ticket):
    trigger(
        cast,
        actions=[
            {
                "type": "notify",
                "value": value,
                "subject": "#{{ ticket.number }} for {{ customer.name }}",
                "body": "Dear {{ customer.name }}, {{ agent.name }} has it.",
            }
            for value in ("customer", "assignee", "group")
        ],
    )
    ticket = make_ticket(assignee=cast.agent)
    mails = AutomationMail.objects.filter(ticket=ticket)
    assert sorted(mails.values_list("to_address", flat=True)) == sorted(
        [
            "alice@acme.example",
            "agent@kefu.example",
            "agent@kefu.example",
            "supervisor@kefu.example",
            "tech@kefu.example",
        ]
    )
    run_pending_jobs()
    ours = [m for m in mail.outbox if m.subject == f"#{ticket.number} for Alice 李"]
    assert len(ours) == 5
    sent = ours[0]
    assert sent.subject == f"#{ticket.number} for Alice 李"
    assert "王小明 Wang has it" in sent.body
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert set(mails.values_list("status", flat=True)) == {MailStatus.SENT}
    # A duplicated job (a reaped worker) finds the mail sent.
    from kefu.automation.tasks import send_automation_mail

    outbox_size = len(mail.outbox)
    send_automation_mail.enqueue(mails.first().pk)
    run_pending_jobs()
    assert len(mail.outbox) == outbox_size


def test_it_replies_to_the_customer(cast, make_ticket):
    trigger(cast, actions=[{"type": "add_reply", "body": "Hello {{ customer.name }}"}])
    ticket = make_ticket()
    reply = Message.objects.get(
        ticket=ticket, is_internal=False, author_user=None, author_contact=None
    )
    assert reply.body_text == "Hello Alice 李"


# --- loops ------------------------------------------------------------------------------------


def test_a_trigger_does_not_refire_itself_on_its_own_change(cast, make_ticket):
    rule = trigger(
        cast,
        events=["updated"],
        conditions=[cond("priority", "changed")],
        actions=[{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": "x"}],
    )
    ticket = make_ticket()
    update_ticket(cast.agent, ticket, priority="low")
    assert Ticket.objects.get(pk=ticket.pk).priority == "urgent"
    rule.refresh_from_db()
    assert rule.fired_count == 1


def test_two_triggers_that_undo_each_other_stop(cast, make_ticket):
    up = trigger(
        cast,
        name="up",
        events=["updated"],
        conditions=[cond("priority", "changed_to", "low")],
        actions=[{"type": "set_priority", "value": "high"}, NOTE],
    )
    down = trigger(
        cast,
        name="down",
        events=["updated"],
        conditions=[cond("priority", "changed_to", "high")],
        actions=[{"type": "set_priority", "value": "low"}, NOTE],
    )
    ticket = make_ticket()
    update_ticket(cast.agent, ticket, priority="low")
    up.refresh_from_db()
    down.refresh_from_db()
    assert (up.fired_count, down.fired_count) == (1, 1)
    assert Ticket.objects.get(pk=ticket.pk).priority == "low"
    # A later, separate change may fire them again.
    update_ticket(cast.agent, ticket, priority="high")
    down.refresh_from_db()
    assert down.fired_count == 2


def test_a_note_adding_trigger_on_replies_does_not_loop(cast, make_ticket):
    rule = trigger(
        cast,
        events=["agent_replied", "updated"],
        actions=[{"type": "add_reply", "body": "auto"}, {"type": "add_tags", "value": "a"}],
    )
    ticket = make_ticket()
    add_message(cast.agent, ticket, body="hi")
    rule.refresh_from_db()
    assert rule.fired_count == 1
    assert Trigger.objects.count() == 1


def test_a_chain_of_triggers_runs_each_trigger_once(cast, make_ticket):
    for n in range(1, 9):
        trigger(
            cast,
            name=f"chain {n}",
            events=["updated"],
            conditions=[cond("tags", "contains", f"t{n - 1}")],
            actions=[{"type": "add_tags", "value": f"t{n}"}, {"type": "remove_tags", "value": "x"}],
        )
    ticket = make_ticket(tags=["x"])
    update_ticket(cast.agent, ticket, tags=["t0"])
    tags = set(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True))
    assert tags == {f"t{n}" for n in range(9)}
    assert set(Trigger.objects.values_list("fired_count", flat=True)) == {1}
