"""Running triggers and rule actions, loop-safe.

Loop safety: rule actions change tickets through ``update_ticket``/``add_message``, which publish
domain events, which run triggers again — synchronously, nested inside the first handler. A
thread-local *firing scope* spans the outermost trigger run: it records every (trigger, ticket)
pair that fired and its nesting depth. Inside one scope a trigger fires at most once per ticket,
so a scope fires at most as many times as there are triggers; nesting also stops at
``MAX_DEPTH`` as a stack guard. The events one action publishes share a scope. So "priority
changed → set priority" or two triggers that undo each other run once each and stop; a separate
later change starts a new scope and may fire the trigger again, as it should.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.automation.models import AutomationMail, Trigger, Webhook
from kefu.automation.placeholders import render
from kefu.automation.rules import Recipient, Situation, conditions_hold, field_changes
from kefu.lib import config_cache
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)

MAX_DEPTH = 5
_local = threading.local()


@contextmanager
def firing_scope(ticket: Ticket | None = None) -> Iterator[tuple[set[tuple[int, int]], int]]:
    """The (trigger, ticket) pairs fired so far in this run, and the nesting depth.

    One ticket action may publish two events (a reply that also opens the ticket: updated and
    agent_replied); both carry the same ticket object, so the outermost scope keeps its set on
    that object and a trigger subscribed to both still fires once for the action.
    """
    depth = getattr(_local, "depth", 0)
    if depth == 0:
        fired = getattr(ticket, "_automation_fired", None) if ticket is not None else None
        if fired is None:
            fired = set()
            if ticket is not None:
                ticket._automation_fired = fired  # type: ignore[attr-defined]
        _local.fired = fired
    _local.depth = depth + 1
    try:
        yield _local.fired, depth
    finally:
        _local.depth = depth
        if depth == 0:
            _local.fired = set()


def in_site_language(text_function) -> str:
    """Reasons are stored once, in the site's language (the timeline shows them as written)."""
    with translation.override(settings.LANGUAGE_CODE):
        return text_function()


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related(
        "group", "assignee", "type", "contact", "organization", "category"
    ).get(pk=ticket.pk)


def active_triggers() -> list[Trigger]:
    """The active triggers (a per-process snapshot; read-only)."""
    return config_cache.snapshot(
        "automation.triggers", lambda: list(Trigger.objects.filter(is_active=True))
    )


def run_triggers(
    event: str,
    ticket: Ticket,
    *,
    changes: dict[str, tuple[Any, Any]] | None = None,
    message: Message | None = None,
) -> list[str]:
    """Fire the active triggers for ``event`` whose conditions match; returns their names."""
    triggers = [t for t in active_triggers() if event in t.events]
    if not triggers:
        return []
    fired_names: list[str] = []
    with firing_scope(ticket) as (fired, depth):
        if depth >= MAX_DEPTH:
            logger.warning("triggers nested %s deep on ticket %s; stopping", depth, ticket.pk)
            return []
        situation = Situation(
            ticket=_fresh(ticket), event=event, changes=changes or {}, message=message
        )
        for trigger in triggers:
            key = (trigger.pk, ticket.pk)
            if key in fired or not conditions_hold(trigger.conditions, situation, trigger.match):
                continue
            fired.add(key)
            reason = in_site_language(lambda t=trigger: _("Trigger: %(name)s") % {"name": t.name})
            if _perform_safely(trigger, situation.ticket, reason):
                fired_names.append(trigger.name)
            situation = Situation(
                ticket=_fresh(ticket), event=event, changes=changes or {}, message=message
            )
    return fired_names


def _perform_safely(rule: Any, ticket: Ticket, reason: str) -> bool:
    """Run a rule's actions in a savepoint: a failing rule (an assignee who left the group) is
    recorded on the rule and never breaks the change that triggered it."""
    model = type(rule)
    try:
        with transaction.atomic():
            perform(rule.actions, ticket, reason=reason, source=reason)
    except Exception as error:
        logger.warning(
            "%s %s failed on ticket %s", model.__name__, rule.pk, ticket.pk, exc_info=True
        )
        model.objects.filter(pk=rule.pk).update(last_error=f"#{ticket.number}: {error}"[:2000])
        return False
    model.objects.filter(pk=rule.pk).update(
        fired_count=F("fired_count") + 1, last_fired_at=timezone.now()
    )
    return True


def perform(actions: list[dict], ticket: Ticket, *, reason: str, source: str) -> Ticket:
    """Apply rule actions as the system: field changes first (one timeline entry per field, with
    ``reason``), then notes, replies, e-mails and webhook calls in the order written."""
    changes = field_changes(actions, ticket)
    if changes:
        ticket = update_ticket(None, ticket, reason=reason, **changes)
    ticket = _fresh(ticket)
    agent = ticket.assignee
    for row in actions:
        kind = row["type"]
        if kind in ("add_note", "add_reply"):
            add_message(
                None, ticket, body=render(row["body"], ticket, agent), internal=kind == "add_note"
            )
        elif kind == "notify":
            enqueue_mails(ticket, row, source=source, agent=agent)
        elif kind == "webhook":
            from kefu.automation.actions.webhooks import enqueue_delivery

            hook = Webhook.objects.filter(pk=int(row["value"]), is_active=True).first()
            if hook is not None:
                enqueue_delivery(hook, "trigger", ticket, extra={"rule": source})
    return ticket


def _recipients(ticket: Ticket, recipient: str) -> list[tuple[str, str]]:
    if recipient == Recipient.CUSTOMER:
        contact = ticket.contact
        if contact.email and contact.email_bounced_at is None:
            return [(contact.email, contact.language)]
        return []
    if recipient == Recipient.ASSIGNEE:
        assignee = ticket.assignee
        return [(assignee.email, assignee.language)] if assignee and assignee.is_active else []
    members = User.objects.staff().filter(memberships__group=ticket.group).distinct()
    return [(user.email, user.language) for user in members]


def enqueue_mails(ticket: Ticket, row: dict, *, source: str, agent: User | None) -> list[int]:
    """Render the e-mail now (what the ticket looked like when the rule fired) and enqueue one
    job per recipient inside the current transaction."""
    from kefu.automation.tasks import send_automation_mail

    subject = " ".join(render(row["subject"], ticket, agent).split())[:255]
    body = render(row["body"], ticket, agent)
    ids = []
    for address, language in _recipients(ticket, row["value"]):
        mail = AutomationMail.objects.create(
            ticket=ticket,
            source=source[:200],
            to_address=address,
            language=language or "",
            subject=subject,
            body=body,
        )
        send_automation_mail.enqueue(mail.pk)
        ids.append(mail.pk)
    return ids
