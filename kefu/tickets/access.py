"""Fetching tickets for a user: the only way views, API and CLI get hold of a ticket.

Anything a user may not see is a 404, never a 403, so its existence does not leak. A ticket the user
sees but may not change (an agent's read-only group) is a 403 on write.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.accounts.access import workable_group_ids
from kefu.accounts.models import Role, User
from kefu.tickets.models import Attachment, Message, Ticket


def can_work_ticket(user: User, ticket: Ticket) -> bool:
    """Staff write access: change fields, reply, add notes (the table's "may change" column)."""
    if not user.is_staff_member:
        return False
    group_ids = workable_group_ids(user)
    return group_ids is None or ticket.group_id in group_ids


def can_reply(user: User, ticket: Ticket) -> bool:
    """Public replies: staff who work the ticket, and customers who can see it."""
    if user.role == Role.CUSTOMER:
        return Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists()
    return can_work_ticket(user, ticket)


def can_see_ticket(user: User, ticket_id: int) -> bool:
    return Ticket.objects.visible_to(user).filter(pk=ticket_id).exists()


def get_ticket_for_user(user: User, pk: int, *, write: bool = False) -> Ticket:
    try:
        ticket = (
            Ticket.objects.visible_to(user)
            .select_related("contact", "organization", "group", "assignee", "type")
            .get(pk=pk)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("No such ticket") from None
    if write and not (can_work_ticket(user, ticket) or user.role == Role.CUSTOMER):
        raise PermissionDenied("You can read this ticket but not change it.")
    return ticket


def get_ticket_by_number_for_user(user: User, number: int) -> Ticket:
    ticket_id = (
        Ticket.objects.visible_to(user).filter(number=number).values_list("pk", flat=True).first()
    )
    if ticket_id is None:
        raise Http404("No such ticket")
    return get_ticket_for_user(user, ticket_id)


def visible_messages(user: User, ticket: Ticket):
    messages = ticket.messages.select_related("author_user", "author_contact").prefetch_related(
        "attachments"
    )
    if not user.is_staff_member:
        messages = messages.filter(is_internal=False)
    return messages


def get_attachment_for_user(user: User, pk: int) -> Attachment:
    try:
        attachment = Attachment.objects.select_related("message").get(pk=pk)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment") from None
    message: Message = attachment.message
    if message.is_internal and not user.is_staff_member:
        raise Http404("No such attachment")
    if not Ticket.objects.visible_to(user).filter(pk=message.ticket_id).exists():
        raise Http404("No such attachment")
    return attachment
