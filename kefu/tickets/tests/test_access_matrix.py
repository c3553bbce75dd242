"""The access table of issue 2, one test per (role, ticket, action) cell.

| who        | sees                                         | may change                               |
|------------|----------------------------------------------|------------------------------------------|
| admin      | every ticket                                 | everything                               |
| supervisor | tickets of groups they belong to             | those tickets, incl. reassigning groups  |
| agent      | tickets of groups they belong to (full/read) | tickets of their full groups             |
| customer   | own; the organisation's when it shares       | reply to / close what they see; never    |
|            |                                              | internal notes or staff-only fields      |

Staff go through the HTML console; customers through ``kefu.tickets.access`` and the actions,
the same path the portal and the API take. Anything outside "sees" is a 404 and never listed.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from kefu.accounts.models import Access, Membership
from kefu.tickets.access import get_ticket_for_user, visible_messages
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import Priority, State, Ticket

ALLOW, DENY, HIDDEN = "allow", "deny", "hidden"
ACTIONS = ("read", "list", "reply", "note", "update", "close")


def row(
    who, situation, actor, *, owner="alice", group="cs", read, list, reply, note, update, close
):
    expected = dict(zip(ACTIONS, (read, list, reply, note, update, close), strict=True))
    return {
        "who": who,
        "situation": situation,
        "actor": actor,
        "owner": owner,
        "group": group,
        "expected": expected,
    }


EVERYTHING = {action: ALLOW for action in ACTIONS}
NOTHING = {action: HIDDEN for action in ACTIONS}
READ_ONLY = {
    "read": ALLOW,
    "list": ALLOW,
    "reply": DENY,
    "note": DENY,
    "update": DENY,
    "close": DENY,
}
CUSTOMER_SEES = {
    "read": ALLOW,
    "list": ALLOW,
    "reply": ALLOW,
    "note": DENY,
    "update": DENY,
    "close": ALLOW,
}

# Groups: cs = 客服部 (agent full, supervisor full, tech_agent read); tech (tech_agent full);
# quality (quality_agent full); aftersales (the supervisor is given read access below).
TABLE = [
    row("admin", "any group, no membership", "admin", group="quality", **EVERYTHING),
    row("supervisor", "full group", "supervisor", group="cs", **EVERYTHING),
    row("supervisor", "read group", "supervisor", group="aftersales", **EVERYTHING),
    row("supervisor", "other group", "supervisor", group="tech", **NOTHING),
    row("agent", "full group", "agent", group="cs", **EVERYTHING),
    row("agent", "full group (second agent)", "tech_agent", group="tech", **EVERYTHING),
    row("agent", "read group", "tech_agent", group="cs", **READ_ONLY),
    row("agent", "other group", "quality_agent", group="cs", **NOTHING),
    row("agent", "other group (no membership at all there)", "agent", group="tech", **NOTHING),
    row("customer", "own", "alice", owner="alice", **CUSTOMER_SEES),
    row("customer", "own, no organisation", "carol", owner="carol", **CUSTOMER_SEES),
    row("customer", "same organisation, sharing on", "alice", owner="alan", **CUSTOMER_SEES),
    row("customer", "same organisation, sharing off", "bella", owner="bob", **NOTHING),
    row("customer", "other organisation", "alice", owner="bob", **NOTHING),
    row("customer", "other organisation (sharing one's own)", "bob", owner="alice", **NOTHING),
    row(
        "customer", "consumer looking at an organisation's ticket", "carol", owner="alan", **NOTHING
    ),
]

CASES = [
    pytest.param(entry, action, id=f"{entry['who']}:{entry['actor']}:{entry['situation']}:{action}")
    for entry in TABLE
    for action in ACTIONS
]


@pytest.fixture
def matrix_ticket(cast, make_ticket):
    Membership.objects.create(user=cast.supervisor, group=cast.aftersales, access=Access.READ)

    def build(entry) -> Ticket:
        owner = getattr(cast, entry["owner"])
        return make_ticket(
            owner, group=getattr(cast, entry["group"]), subject=f"Matrix ticket of {owner.name}"
        )

    return build


@pytest.mark.parametrize(("entry", "action"), CASES)
def test_access_matrix(client, cast, matrix_ticket, entry, action):
    ticket = matrix_ticket(entry)
    actor = getattr(cast, entry["actor"])
    expected = entry["expected"][action]
    if actor.is_customer:
        outcome = customer_outcome(actor, ticket, action)
    else:
        client.force_login(actor)
        outcome = console_outcome(client, ticket, action)
    assert outcome == expected
    assert_effect(ticket, action, happened=expected == ALLOW)


def console_outcome(client, ticket: Ticket, action: str) -> str:
    if action == "list":
        html = client.get(reverse("tickets:list"), {"view": "recent"}).content.decode()
        return ALLOW if ticket.subject in html else HIDDEN
    if action == "read":
        response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    elif action in ("reply", "note"):
        response = client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": f"matrix {action}", "kind": action}
        )
    else:
        change = {"priority": Priority.URGENT} if action == "update" else {"state": State.CLOSED}
        data = {
            "state": ticket.state,
            "priority": ticket.priority,
            "type": ticket.type.key,
            "group": ticket.group_id,
            "assignee": "",
            "tags": "",
            "reason": "",
            **change,
        }
        response = client.post(reverse("tickets:update", args=[ticket.pk]), data)
    ok_status = 200 if action == "read" else 302
    return {ok_status: ALLOW, 403: DENY, 404: HIDDEN}[response.status_code]


def customer_outcome(actor, ticket: Ticket, action: str) -> str:
    if action == "list":
        return ALLOW if Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists() else HIDDEN
    try:
        fetched = get_ticket_for_user(actor, ticket.pk, write=action != "read")
        if action in ("reply", "note"):
            add_message(actor, fetched, body=f"matrix {action}", internal=action == "note")
        elif action == "update":
            update_ticket(actor, fetched, priority=Priority.URGENT)
        elif action == "close":
            update_ticket(actor, fetched, state=State.CLOSED)
    except Http404:
        return HIDDEN
    except PermissionDenied:
        return DENY
    return ALLOW


def assert_effect(ticket: Ticket, action: str, *, happened: bool) -> None:
    """A denied or hidden write leaves no trace; an allowed one is stored."""
    ticket.refresh_from_db()
    if action in ("reply", "note"):
        stored = ticket.messages.filter(body_text=f"matrix {action}", is_internal=action == "note")
        assert stored.exists() == happened
    elif action == "update":
        assert (ticket.priority == Priority.URGENT) == happened
    elif action == "close":
        assert (ticket.state == State.CLOSED) == happened


def test_customer_never_reads_internal_notes_or_staff_only_changes(cast, make_ticket):
    ticket = make_ticket(cast.alan)
    add_message(cast.agent, ticket, body="internal remark", internal=True)
    update_ticket(cast.agent, ticket, priority=Priority.HIGH, state=State.OPEN)
    for customer in (cast.alan, cast.alice):
        fetched = get_ticket_for_user(customer, ticket.pk)
        assert "internal remark" not in [m.body_text for m in visible_messages(customer, fetched)]
        fields = set(fetched.events.visible_to(customer).values_list("field", flat=True))
        assert "priority" not in fields and "state" in fields
