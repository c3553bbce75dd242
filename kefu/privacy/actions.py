"""Erasure of a customer's personal data (data-subject requests) and purging of spam.

Administrators only. Nothing else in Kefu deletes customer records: contacts, organisations,
users and groups are deactivated. These two actions are the exception, and each leaves a
tombstone — a timeline row on every ticket it touched and an audit entry — so that what
disappeared, when and by whom is never a mystery.

- ``anonymise``: the contact's name, e-mail, phone, WeChat id and notes are replaced; the bodies
  of every message on their tickets (and of their messages elsewhere) are blanked, subjects
  replaced, attachments and raw e-mails deleted (files included); their portal login is
  anonymised and deactivated. Ticket numbers, states, times and SLA figures stay for reporting.
- ``purge_spam``: their tickets are deleted entirely (messages, attachments, files, timelines),
  then the contact is anonymised as above.

Erasure reaches into customers, tickets and intake, so it is an app of its own above them in the
import order (docs/architecture.md); it records into the audit log like every app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.accounts.access import is_active_admin
from kefu.accounts.models import ApiToken, User
from kefu.audit.actions import record
from kefu.audit.models import AuditEntry
from kefu.customers.models import Contact
from kefu.intake.models import InboundEmail, TicketParticipant
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.models import Attachment, EventType, Message, Ticket, TicketEvent
from kefu.tickets.search import index_tickets

ANONYMISE = "anonymise"
PURGE_SPAM = "purge_spam"
MODES = (ANONYMISE, PURGE_SPAM)
TOMBSTONE_REASON = gettext_noop("Personal data erased by an administrator")


@dataclass(frozen=True)
class ErasureResult:
    mode: str
    contact_id: int
    tickets_anonymised: int = 0
    tickets_deleted: int = 0
    messages_blanked: int = 0
    attachments_deleted: int = 0
    raw_emails_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "contact": self.contact_id,
            "tickets_anonymised": self.tickets_anonymised,
            "tickets_deleted": self.tickets_deleted,
            "messages_blanked": self.messages_blanked,
            "attachments_deleted": self.attachments_deleted,
            "raw_emails_deleted": self.raw_emails_deleted,
        }


def require_privacy_admin(actor: User | None) -> None:
    # Not even the system: an erasure always names the administrator who asked for it.
    if not is_active_admin(actor):
        raise PermissionDenied(_("Only administrators erase personal data."))


def erased_name(contact_id: int) -> str:
    return _("Erased customer %(id)s") % {"id": contact_id}


def _delete_files_after_commit(files: list) -> None:
    """Files go only once the rows are gone for good: a rolled-back erasure keeps them."""

    def delete() -> None:
        for field_file in files:
            try:
                field_file.storage.delete(field_file.name)
            except OSError:
                pass  # already gone; the row that named it is deleted

    if files:
        transaction.on_commit(delete)


@transaction.atomic
def erase_contact(actor: User, contact, *, mode: str = ANONYMISE) -> ErasureResult:
    """Anonymise ``contact`` and their tickets, or purge their tickets as spam (see above)."""
    require_privacy_admin(actor)
    if mode not in MODES:
        raise BusinessRuleError(_("Choose anonymise or purge_spam."), field="mode")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    tickets = Ticket.objects.filter(contact=contact)
    ticket_ids = list(tickets.values_list("pk", flat=True))
    # Their messages on other people's tickets (Cc'd replies) are erased too.
    messages = Message.objects.filter(Q(ticket_id__in=ticket_ids) | Q(author_contact=contact))
    attachments = Attachment.objects.filter(message__in=messages)
    inbound = InboundEmail.objects.filter(
        Q(ticket_id__in=ticket_ids) | Q(ticket_message__in=messages)
    )
    if contact.email:
        inbound = inbound | InboundEmail.objects.filter(from_email__iexact=contact.email)
    files = [a.file for a in attachments if a.file] + [i.raw for i in inbound if i.raw]
    counts: dict[str, int] = {
        "attachments_deleted": attachments.count(),
        "raw_emails_deleted": sum(1 for i in inbound if i.raw),
    }
    inbound.update(raw="", from_email="", subject="")
    attachments.delete()
    anonymous = erased_name(contact.pk)

    if mode == PURGE_SPAM:
        others = Message.objects.filter(author_contact=contact).exclude(ticket_id__in=ticket_ids)
        counts["messages_blanked"] = others.update(body_text="", body_html="", delivery_error="")
        try:
            counts["tickets_deleted"] = len(ticket_ids)
            TicketEvent.objects.filter(ticket_id__in=ticket_ids).delete()
            Message.objects.filter(ticket_id__in=ticket_ids).delete()
            tickets.delete()
        except ProtectedError:
            raise BusinessRuleError(
                _("Some of these tickets are referred to by other records and cannot be purged.")
            ) from None
    else:
        counts["messages_blanked"] = messages.update(body_text="", body_html="", delivery_error="")
        tickets.update(subject=_("Personal data erased"), updated_at=timezone.now())
        # Timeline rows that quote the customer's name or the old subjects.
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, type=EventType.CREATED).exclude(
            new_value=""
        ).update(new_value=anonymous)
        # Subjects, and the names a merge of duplicate customer records wrote.
        TicketEvent.objects.filter(
            ticket_id__in=ticket_ids, field__in=["subject", "contact", "customer"]
        ).update(old_value="", new_value="")
        TicketEvent.objects.bulk_create(
            TicketEvent(
                ticket_id=pk,
                type=EventType.CHANGED,
                actor=actor,
                field="customer",
                new_value=anonymous,
                reason=TOMBSTONE_REASON,
                is_internal=True,
            )
            for pk in ticket_ids
        )
        counts["tickets_anonymised"] = len(ticket_ids)
    _anonymise_contact(actor, contact, anonymous)
    for duplicate in _merged_into(contact):
        # Records merged into this one earlier still hold the old identifiers.
        _anonymise_contact(actor, duplicate, erased_name(duplicate.pk))
    _delete_files_after_commit(files)
    if mode == ANONYMISE and ticket_ids:
        index_tickets(ticket_ids)
    result = ErasureResult(mode=mode, contact_id=contact.pk, **counts)
    # Earlier audit entries about this contact named them; the erasure must not leave that behind.
    AuditEntry.objects.filter(object_type="customers.contact", object_id=str(contact.pk)).update(
        object_repr=anonymous, changes={}
    )
    record(
        actor,
        "contact.purged_spam" if mode == PURGE_SPAM else "contact.anonymised",
        contact,
        result.as_dict(),
    )
    return result


def _merged_into(contact) -> list:
    """Every contact merged (directly or through a chain) into ``contact``."""
    if not any(f.name == "merged_into" for f in Contact._meta.get_fields()):
        return []
    found: list = []
    frontier = [contact.pk]
    while frontier:
        batch = list(Contact.objects.filter(merged_into_id__in=frontier).exclude(pk=contact.pk))
        batch = [c for c in batch if c.pk not in {f.pk for f in found}]
        found += batch
        frontier = [c.pk for c in batch]
    return found


def _anonymise_contact(actor: User, contact, anonymous: str) -> None:

    user = contact.user
    contact.name = anonymous
    contact.email = f"erased-{contact.pk}@erased.invalid"  # keeps the "one identifier" rule
    contact.phone = None
    contact.wechat_id = None
    contact.notes = ""
    contact.language = ""
    contact.email_bounced_at = None
    contact.email_bounce_reason = ""
    contact.is_active = False
    contact.save()
    TicketParticipant.objects.filter(contact=contact).delete()
    if user is not None:
        AuditEntry.objects.filter(object_type="accounts.user", object_id=str(user.pk)).update(
            object_repr=anonymous, changes={}
        )
        user.email = f"erased-user-{user.pk}@erased.invalid"
        user.name = anonymous
        user.is_active = False
        user.set_unusable_password()
        user.save()
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
