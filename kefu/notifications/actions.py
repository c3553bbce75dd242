"""Every write of the notifications app: delivering, reading, choosing, and the waiting tick.

``notify`` is called from the ticket event handlers (``handlers.py``) and the tick, inside the
transaction of the change that caused it: the rows, the e-mail jobs and the live badge update
commit (or vanish) together with that change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin, require_staff
from kefu.accounts.models import Group, Role, User
from kefu.audit.actions import record
from kefu.lib import config_cache
from kefu.notifications.mentions import staff_who_can_see
from kefu.notifications.models import (
    DEFAULT_EMAIL,
    DEFAULT_IN_APP,
    GroupWaitingSetting,
    Kind,
    Notification,
    NotificationPreference,
    WaitingAlert,
)
from kefu.realtime.publish import publish as publish_realtime
from kefu.realtime.publish import user_group_name
from kefu.tickets.models import Message, State, Ticket, TicketEvent

# Tickets in these states wait for an agent; the others wait for the customer or are done.
WAITING_STATES = (State.NEW, State.OPEN)
TICK_BATCH = 200


# --- preferences ----------------------------------------------------------------------------


def preferences_for(user: User) -> dict[str, tuple[bool, bool]]:
    """Each kind's (in the app, by e-mail) for ``user``, defaults filled in."""
    chosen = {
        row.kind: (row.is_in_app, row.is_by_email)
        for row in NotificationPreference.objects.filter(user=user)
    }
    return {
        kind.value: chosen.get(kind.value, (DEFAULT_IN_APP[kind], DEFAULT_EMAIL[kind]))
        for kind in Kind
    }


@transaction.atomic
def update_preferences(actor: User, choices: dict[str, dict[str, bool]]) -> dict:
    """Set ``{kind: {"in_app": bool, "email": bool}}`` for oneself; missing keys stay as they are."""
    require_staff(actor, _("Only staff receive notifications."))
    unknown = set(choices) - set(Kind.values)
    if unknown:
        raise ValidationError(
            {kind: _("Unknown kind of notification %(kind)s.") % {"kind": kind} for kind in unknown}
        )
    current = preferences_for(actor)
    for kind, choice in choices.items():
        in_app, email = current[kind]
        NotificationPreference.objects.update_or_create(
            user=actor,
            kind=kind,
            defaults={
                "is_in_app": bool(choice.get("in_app", in_app)),
                "is_by_email": bool(choice.get("email", email)),
            },
        )
    return preferences_for(actor)


# --- delivering -----------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return Notification.objects.inbox(user).unread().count()


def _publish_badge(user_id: int, count: int) -> None:
    publish_realtime([user_group_name(user_id)], {"kind": "notification", "unread": count})


def notify(
    kind: str,
    ticket: Ticket,
    recipient_ids: Iterable[int],
    *,
    actor: User | None = None,
    message: Message | None = None,
    event: TicketEvent | None = None,
) -> list[Notification]:
    """Tell each recipient who can see ``ticket`` about it, as they chose; never the actor.

    Runs inside the caller's transaction (a ticket action's, or the tick's claim).
    """
    wanted = set(recipient_ids) - {actor.pk if actor is not None else None}
    if not wanted:
        return []
    recipients = staff_who_can_see(ticket).filter(pk__in=wanted)
    return _deliver(recipients, kind, ticket=ticket, actor=actor, message=message, event=event)


def notify_admins(kind: str, *, summary: str, link: str) -> list[Notification]:
    """Tell every active administrator about something that concerns no ticket (a failed
    inbound mail), as each chose; ``link`` is the console page to look at.

    Runs inside the caller's transaction.
    """
    admins = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk")
    return _deliver(admins, kind, summary=summary[:300], link=link[:300])


def _deliver(recipients: Iterable[User], kind: str, **fields: Any) -> list[Notification]:
    """One notification per recipient who wants this kind (in the app, by e-mail or both): the
    row, its e-mail job and the live badge."""
    from kefu.notifications.tasks import send_notification_email

    created = []
    for user in recipients:
        in_app, email = preferences_for(user)[kind]
        if not (in_app or email):
            continue
        notification = Notification.objects.create(
            recipient=user, kind=kind, is_in_app=in_app, is_by_email=email, **fields
        )
        created.append(notification)
        if email:
            send_notification_email.enqueue(notification.pk)
        if in_app:
            _publish_badge(user.pk, unread_count(user))
    return created


@transaction.atomic
def mark_read(actor: User, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise PermissionDenied(_("This is someone else's notification."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
        _publish_badge(actor.pk, unread_count(actor))
    return notification


@transaction.atomic
def mark_all_read(actor: User) -> int:
    marked = Notification.objects.inbox(actor).unread().update(read_at=timezone.now())
    if marked:
        _publish_badge(actor.pk, 0)
    return marked


@transaction.atomic
def mark_ticket_read(actor: User, ticket: Ticket) -> int:
    """Opening a ticket from a notification reads every notification about that ticket."""
    marked = (
        Notification.objects.inbox(actor)
        .unread()
        .filter(ticket=ticket)
        .update(read_at=timezone.now())
    )
    if marked:
        _publish_badge(actor.pk, unread_count(actor))
    return marked


# --- waiting tickets ------------------------------------------------------------------------


def waiting_minutes(group: Group) -> int:
    """The group's own threshold, else the site's; 0 means the group is never told."""
    own = config_cache.snapshot(
        "notifications.waiting_minutes",
        lambda: dict(
            GroupWaitingSetting.objects.filter(waiting_after_minutes__isnull=False).values_list(
                "group_id", "waiting_after_minutes"
            )
        ),
    ).get(group.pk)
    return own if own is not None else settings.NOTIFY_WAITING_AFTER_MINUTES


@transaction.atomic
def set_group_waiting_minutes(actor: User, group: Group, minutes: int | None) -> None:
    """An administrator sets the group's threshold (``None``: the site default; 0: never)."""
    require_admin(actor, _("Only administrators change group settings."))
    if minutes is not None and minutes < 0:
        raise ValidationError({"waiting_after_minutes": _("Give a number of minutes, 0 or more.")})
    setting, _created = GroupWaitingSetting.objects.select_for_update().get_or_create(group=group)
    if setting.waiting_after_minutes != minutes:
        record(
            actor,
            "group_waiting.updated",
            group,
            {"waiting_after_minutes": [setting.waiting_after_minutes, minutes]},
        )
        setting.waiting_after_minutes = minutes
        setting.save(update_fields=["waiting_after_minutes"])
    # Pending alerts of this group follow the new threshold.
    for alert in WaitingAlert.objects.filter(
        ticket__group=group, notified_at__isnull=True
    ).select_related("ticket"):
        _schedule(alert, alert.ticket)


def _schedule(alert: WaitingAlert, ticket: Ticket) -> None:
    minutes = waiting_minutes(ticket.group)
    if not minutes:
        alert.delete()
        return
    alert.due_at = alert.waiting_since + timedelta(minutes=minutes)
    alert.save(update_fields=["due_at"])


def start_waiting(ticket: Ticket) -> None:
    """The ticket, unassigned, now waits for an answer (a new ticket, a customer's message).

    An alert already running keeps its start: the ticket has waited since then.
    """
    # Read from the row, not the event's object: a handler that ran first (routing) may have
    # assigned the ticket through its own update_ticket call.
    current = Ticket.objects.filter(pk=ticket.pk).values("assignee_id", "state").first()
    if current is None or current["assignee_id"] or current["state"] not in WAITING_STATES:
        return
    if WaitingAlert.objects.filter(ticket=ticket).exists():
        return
    minutes = waiting_minutes(ticket.group)
    if not minutes:
        return
    now = timezone.now()
    WaitingAlert.objects.create(
        ticket=ticket, waiting_since=now, due_at=now + timedelta(minutes=minutes)
    )


def stop_waiting(ticket: Ticket) -> None:
    """Someone took or answered the ticket, or it no longer waits for an agent."""
    WaitingAlert.objects.filter(ticket=ticket).delete()


def regroup_waiting(ticket: Ticket) -> None:
    """The ticket moved to another group: that group's threshold applies, and it is told anew."""
    alert = WaitingAlert.objects.filter(ticket=ticket).first()
    if alert is None:
        return
    alert.notified_at = None
    alert.save(update_fields=["notified_at"])
    _schedule(alert, ticket)


def _has_unanswered_customer_message(ticket: Ticket) -> bool:
    last = (
        Message.objects.filter(ticket=ticket, is_internal=False)
        .order_by("-created_at", "-id")
        .values_list("author_contact_id", flat=True)
        .first()
    )
    return last is not None


def restart_waiting_if_unanswered(ticket: Ticket) -> None:
    """Unassigned again: it waits if the customer's message is the last public one."""
    if _has_unanswered_customer_message(ticket):
        start_waiting(ticket)


def process_waiting_alerts() -> int:
    """The tick: tell the groups of tickets whose wait passed its threshold.

    Reads only due, unclaimed rows (partial index ``waiting_alert_due``) and claims each with a
    conditional UPDATE, so two tick processes never notify twice.
    """
    from kefu.accounts.access import assignable_agents

    now = timezone.now()
    due = list(
        WaitingAlert.objects.filter(notified_at__isnull=True, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:TICK_BATCH]
    )
    handled = 0
    for ticket_id in due:
        with transaction.atomic():
            claimed = WaitingAlert.objects.filter(
                pk=ticket_id, notified_at__isnull=True, due_at__lte=now
            ).update(notified_at=now)
            if not claimed:
                continue
            ticket = Ticket.objects.select_related("group").get(pk=ticket_id)
            if ticket.assignee_id or ticket.state not in WAITING_STATES:
                stop_waiting(ticket)
                continue
            members = assignable_agents(ticket.group).values_list("pk", flat=True)
            notify(Kind.GROUP_WAITING, ticket, members)
            handled += 1
    return handled
