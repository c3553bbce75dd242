"""Demo notifications: a mention in an internal note, so the bell has something to show."""

from __future__ import annotations

from django.utils import timezone

from kefu.customers.demo import DemoContext
from kefu.notifications.models import Notification


def load_demo(context: DemoContext) -> None:
    from kefu.tickets.actions import add_message
    from kefu.tickets.models import Ticket

    supervisor = context.staff["supervisor"]
    ticket = Ticket.objects.filter(group=context.groups["cs"]).order_by("pk").first()
    if ticket is not None:
        add_message(
            supervisor,
            ticket,
            body="@wang 请今天回复这位客户，并抄送售后。Please answer today.",
            internal=True,
        )
    # The demo's history happened "before" this install: nothing of it is mailed to the
    # made-up staff addresses (the jobs find emailed_at set and stop).
    Notification.objects.filter(emailed_at__isnull=True).update(emailed_at=timezone.now())
