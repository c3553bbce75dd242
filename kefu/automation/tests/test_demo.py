"""The demo automation loads through the actions and works on a ticket."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from kefu.automation.actions import process_due_time_rules
from kefu.automation.demo import load_demo
from kefu.automation.models import CannedResponse, Macro, TimeRule, Trigger
from kefu.customers.demo import DemoContext
from kefu.tickets.actions import update_ticket
from kefu.tickets.models import Message, Ticket


def test_the_demo_rules_remind_resolve_and_close(cast, make_ticket):
    context = DemoContext(
        groups={"cs": cast.cs, "aftersales": cast.aftersales},
        staff={"admin": cast.admin, "wang": cast.agent},
        organizations={},
        contacts={},
    )
    load_demo(context)
    assert TimeRule.objects.count() == 3 and Trigger.objects.count() == 1
    assert Macro.objects.count() == 2 and CannedResponse.objects.count() == 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(priority="urgent")
        assert Message.objects.filter(ticket=ticket, is_internal=True).count() == 1
        update_ticket(cast.agent, ticket, state="pending_customer")
    for days, state in ((3.1, "pending_customer"), (7.1, "resolved"), (12.2, "closed")):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            process_due_time_rules()
        assert Ticket.objects.get(pk=ticket.pk).state == state
    reminder = Message.objects.get(ticket=ticket, is_internal=False, author_user=None)
    assert f"#{ticket.number}" in reminder.body_text
