"""Fetching mailboxes for a user: administrators only; for anyone else a mailbox does not exist."""

from __future__ import annotations

from django.http import Http404

from kefu.intake.models import InboundEmail, Mailbox, Outcome
from kefu.tickets.access import get_ticket_for_user


def mailboxes_for(user):
    if not (user.is_authenticated and user.is_active and user.is_admin):
        return Mailbox.objects.none()
    return Mailbox.objects.select_related("group")


def get_mailbox_for_user(user, pk) -> Mailbox:
    try:
        return mailboxes_for(user).get(pk=pk)
    except (Mailbox.DoesNotExist, ValueError, TypeError):
        raise Http404("No such mailbox") from None


def get_failed_email_for_user(user, pk) -> InboundEmail:
    if not (user.is_authenticated and user.is_active and user.is_admin):
        raise Http404("No such mail")
    try:
        return InboundEmail.objects.select_related("mailbox").get(pk=pk, outcome=Outcome.FAILED)
    except (InboundEmail.DoesNotExist, ValueError, TypeError):
        raise Http404("No such mail") from None


def get_raw_mail_for_message(user, message_pk) -> InboundEmail:
    """The stored original of a message that came by e-mail: staff who may see its ticket only."""
    if not (user.is_authenticated and user.is_active and user.is_staff_member):
        raise Http404("No such mail")
    try:
        inbound = (
            InboundEmail.objects.select_related("ticket_message")
            .filter(ticket_message_id=message_pk)
            .exclude(raw="")
            .order_by("-created_at", "-id")
            .first()
        )
    except (ValueError, TypeError):
        inbound = None
    if inbound is None or inbound.ticket_message is None:
        raise Http404("No such mail")
    get_ticket_for_user(user, inbound.ticket_message.ticket_id)
    return inbound
