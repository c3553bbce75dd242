"""Every write of the intake app: ingesting e-mail, managing mailboxes, claiming due fetches.

``ingest_email`` is the one entry point for inbound mail — the IMAP fetch job, ``kefu mail
ingest`` and ``POST /api/v1/channels/email/inbound`` all call it. It never raises for a bad
message: whatever happens is recorded as an ``InboundEmail`` row (the de-duplication record).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Role, User
from kefu.customers.actions import find_or_create_contact
from kefu.customers.models import Contact
from kefu.intake.email.classify import classify
from kefu.intake.email.parse import ParsedEmail, parse_email
from kefu.intake.models import InboundEmail, Mailbox, Outcome, TicketParticipant
from kefu.tickets.access import can_work_ticket
from kefu.tickets.actions import UploadedFile, add_message, create_ticket, validate_upload
from kefu.tickets.models import Channel, Message, State, Ticket

logger = logging.getLogger(__name__)

_TICKET_NUMBER = re.compile(r"\[#(\d{1,18})\]")
MAX_SUBJECT = 255


@dataclass(frozen=True)
class IngestResult:
    inbound: InboundEmail
    duplicate: bool = False

    @property
    def outcome(self) -> str:
        return self.inbound.outcome

    @property
    def ticket(self) -> Ticket | None:
        return self.inbound.ticket


def ingest_email(raw: bytes, mailbox: Mailbox | None = None) -> IngestResult:
    """Turn one raw message into a ticket, a message on a ticket, or a recorded non-ticket.

    Idempotent: the same Message-ID (or, without one, the same bytes) is ingested once; a second
    call returns the first record with ``duplicate=True``. Commits before returning, so a caller
    may mark the mail seen on the server as soon as this returns.
    """
    digest = hashlib.sha256(raw).hexdigest()
    if len(raw) > settings.MAX_INBOUND_EMAIL_MB * 1024 * 1024:
        reason = _("The e-mail is %(size)s MB, over the limit of %(limit)s MB.") % {
            "size": round(len(raw) / 1024 / 1024, 1),
            "limit": settings.MAX_INBOUND_EMAIL_MB,
        }
        return _record_failure(raw, mailbox, f"sha256:{digest}", ParsedEmail(), reason)
    parsed = parse_email(raw)
    dedup_key = (parsed.message_id or f"sha256:{digest}")[:255]
    existing = InboundEmail.objects.filter(dedup_key=dedup_key).first()
    if existing is not None:
        return IngestResult(existing, duplicate=True)
    try:
        with transaction.atomic():
            return IngestResult(_ingest(raw, parsed, dedup_key, mailbox))
    except IntegrityError:
        # A concurrent ingest of the same mail won the unique dedup_key.
        existing = InboundEmail.objects.filter(dedup_key=dedup_key).first()
        if existing is not None:
            return IngestResult(existing, duplicate=True)
        logger.exception("ingest failed for %s", dedup_key)
        return _record_failure(raw, mailbox, dedup_key, parsed, _("Database error."))
    except (ValidationError, PermissionDenied) as error:
        return _record_failure(raw, mailbox, dedup_key, parsed, _describe(error))
    except Exception as error:  # never let one bad mail stop a mailbox
        logger.exception("ingest failed for %s", dedup_key)
        return _record_failure(raw, mailbox, dedup_key, parsed, f"{type(error).__name__}: {error}")


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


def _record_failure(
    raw: bytes, mailbox: Mailbox | None, dedup_key: str, parsed: ParsedEmail, reason: str
) -> IngestResult:
    with transaction.atomic():
        inbound, created = InboundEmail.objects.get_or_create(
            dedup_key=dedup_key,
            defaults={
                "mailbox": mailbox,
                "message_id": parsed.message_id[:255],
                "from_email": parsed.from_email[:255],
                "subject": parsed.subject[:255],
                "outcome": Outcome.FAILED,
                "reason": reason,
                "size": len(raw),
            },
        )
        if created:
            inbound.raw.save("message.eml", ContentFile(raw), save=True)
    return IngestResult(inbound, duplicate=not created)


def _ingest(raw: bytes, parsed: ParsedEmail, dedup_key: str, mailbox: Mailbox | None):
    classification = classify(parsed)
    inbound = InboundEmail(
        mailbox=mailbox,
        dedup_key=dedup_key,
        message_id=parsed.message_id[:255],
        from_email=parsed.from_email[:255],
        subject=parsed.subject[:255],
        kind=classification.kind,
        size=len(raw),
    )
    # Claim the key first: a concurrent ingest of the same mail fails here, before any ticket.
    inbound.outcome = Outcome.FAILED
    inbound.save()
    inbound.raw.save("message.eml", ContentFile(raw), save=False)

    if classification.is_automatic:
        inbound.outcome = Outcome.AUTOMATIC
        inbound.reason = classification.reason
        inbound.is_permanent_failure = classification.permanent
        inbound.ticket = _ticket_of_returned_mail(parsed)
        inbound.save()
        return inbound
    if (
        mailbox is not None
        and parsed.from_email
        and mailbox.sender_rule(parsed.from_email) == "deny"
    ):
        inbound.outcome = Outcome.DENIED
        inbound.reason = _("The sender is not allowed by the mailbox's sender lists.")
        inbound.save()
        return inbound
    if "@" not in parsed.from_email:
        raise ValidationError(_("The e-mail has no usable sender address."))

    staff = User.objects.filter(email__iexact=parsed.from_email, is_active=True).first()
    staff = staff if staff is not None and staff.is_staff_member else None
    ticket = _thread_ticket(parsed, staff)
    uploads, rejected = _uploads(parsed, raw)
    body_text, body_html = _bodies(parsed, rejected)
    subject = (parsed.subject or _("(no subject)"))[:MAX_SUBJECT]

    if ticket is not None and staff is not None:
        # An agent answering from their own mail client: kept as an internal note, never
        # mailed on, so a mis-addressed Cc cannot leak or loop.
        note = add_message(
            staff,
            ticket,
            body=body_text,
            body_html=body_html or None,
            internal=True,
            attachments=uploads,
            channel=Channel.EMAIL,
            message_id=parsed.message_id[:255],
            in_reply_to=_first(parsed.in_reply_to),
        )
        return _finish(inbound, ticket, note, parsed, Outcome.MESSAGE_ADDED)

    contact = find_or_create_contact(None, name=parsed.from_display_name, email=parsed.from_email)
    previous = None
    if ticket is not None and not _accepts_customer_reply(ticket):
        previous, ticket = ticket, None
    message: Message | None
    if ticket is not None:
        message = add_message(
            None,
            ticket,
            body=body_text,
            body_html=body_html or None,
            attachments=uploads,
            channel=Channel.EMAIL,
            author_contact=contact,
            message_id=parsed.message_id[:255],
            in_reply_to=_first(parsed.in_reply_to),
        )
        outcome = Outcome.MESSAGE_ADDED
    else:
        ticket = create_ticket(
            None,
            subject=subject,
            body=body_text,
            body_html=body_html or None,
            channel=Channel.EMAIL,
            group=mailbox.group if mailbox is not None and mailbox.group_id else None,
            attachments=uploads,
            author_contact=contact,
            message_id=parsed.message_id[:255],
            in_reply_to=_first(parsed.in_reply_to),
        )
        message = ticket.messages.order_by("pk").first()
        outcome = Outcome.TICKET_CREATED
        if previous is not None:
            add_message(
                None,
                ticket,
                body=_("Follow-up to ticket #%(number)s, which was already %(state)s.")
                % {"number": previous.number, "state": previous.get_state_display()},
                internal=True,
                channel=Channel.EMAIL,
            )
            inbound.reason = _("Follow-up to #%(number)s") % {"number": previous.number}
    _add_participants(ticket, parsed, contact, mailbox)
    return _finish(inbound, ticket, message, parsed, outcome)


def _finish(inbound, ticket, message, parsed: ParsedEmail, outcome: str) -> InboundEmail:
    if message is not None:
        _link_inline_images(message, parsed)
    inbound.ticket = ticket
    inbound.ticket_message = message
    inbound.outcome = outcome
    inbound.save()
    return inbound


def _first(values: list[str]) -> str:
    return values[0][:255] if values else ""


def _accepts_customer_reply(ticket: Ticket) -> bool:
    if ticket.state == State.CLOSED:
        return False
    if ticket.state == State.RESOLVED and ticket.resolved_at is not None:
        window = timedelta(days=settings.REOPEN_WINDOW_DAYS)
        return timezone.now() - ticket.resolved_at <= window
    return True


def _thread_ticket(parsed: ParsedEmail, staff: User | None) -> Ticket | None:
    """In-Reply-To/References against stored Message-IDs (ours and theirs), then ``[#number]``
    in the subject — the latter only from the ticket's participants."""
    ids = [value[:255] for value in parsed.thread_ids]
    if ids:
        known = (
            Message.objects.filter(message_id__in=ids)
            .select_related("ticket")
            .order_by("-created_at", "-pk")
            .first()
        )
        if known is not None:
            return known.ticket
    for number in _TICKET_NUMBER.findall(parsed.subject):
        ticket = Ticket.objects.select_related("contact").filter(number=int(number)).first()
        if ticket is not None and _is_participant(ticket, parsed.from_email, staff):
            return ticket
    return None


def _is_participant(ticket: Ticket, address: str, staff: User | None) -> bool:
    if staff is not None:
        return can_work_ticket(staff, ticket)
    if ticket.contact.email and ticket.contact.email.lower() == address.lower():
        return True
    return TicketParticipant.objects.filter(ticket=ticket, contact__email__iexact=address).exists()


def _add_participants(ticket, parsed: ParsedEmail, contact: Contact, mailbox) -> None:
    ours = {address.lower() for address in Mailbox.objects.values_list("email_address", flat=True)}
    staff = {
        email.lower()
        for email in User.objects.filter(
            role__in=(Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
        ).values_list("email", flat=True)
    }
    for name, address in parsed.cc:
        address = address.lower()
        if "@" not in address or address in ours or address in staff:
            continue
        if contact.email and address == contact.email.lower():
            continue
        try:
            participant = find_or_create_contact(None, name=name, email=address)
        except ValidationError:
            continue  # an unusable Cc address does not cost the customer their ticket
        if participant.pk != ticket.contact_id:
            TicketParticipant.objects.get_or_create(ticket=ticket, contact=participant)


def _uploads(parsed: ParsedEmail, raw: bytes) -> tuple[list[UploadedFile], list[str]]:
    accepted: list[UploadedFile] = []
    rejected: list[str] = []
    for attachment in parsed.attachments:
        upload = UploadedFile(attachment.filename, attachment.content, attachment.content_type)
        try:
            validate_upload(upload)
        except ValidationError as error:
            rejected.append("; ".join(error.messages))
            continue
        accepted.append(upload)
    if parsed.is_malformed:
        original = UploadedFile("original.eml", raw, "message/rfc822")
        try:
            validate_upload(original)
            accepted.append(original)
        except ValidationError as error:
            rejected.append("; ".join(error.messages))
    return accepted, rejected


def _bodies(parsed: ParsedEmail, rejected: list[str]) -> tuple[str, str]:
    text = parsed.body_text
    html = parsed.body_html
    if not text.strip() and not html.strip():
        text = _("(This e-mail has no text.)")
    if parsed.is_malformed:
        note = _("This e-mail was malformed; the original message is attached.")
        text = f"{text}\n\n[{note}]"
        html = f"{html}<p><em>[{note}]</em></p>" if html else ""
    if rejected:
        note = _("Attachments not accepted: %(list)s") % {"list": "; ".join(rejected)}
        text = f"{text}\n\n[{note}]"
        html = f"{html}<p><em>[{note}]</em></p>" if html else ""
    return text, html


def _link_inline_images(message: Message, parsed: ParsedEmail) -> None:
    """Point ``cid:`` references at the stored attachments so inline images show."""
    if "cid:" not in message.body_html:
        return
    by_name = {a.filename: a for a in message.attachments.all()}
    html = message.body_html
    for attachment in parsed.attachments:
        stored = by_name.get(attachment.filename[:255])
        if attachment.content_id and stored is not None:
            url = reverse("tickets:attachment", args=[stored.pk])
            html = html.replace(f"cid:{attachment.content_id}", url)
    if html != message.body_html:
        # The channel's own rendering detail of the message it just stored.
        Message.objects.filter(pk=message.pk).update(body_html=html)
        message.body_html = html


def _ticket_of_returned_mail(parsed: ParsedEmail) -> Ticket | None:
    """The ticket whose outgoing mail a bounce returns, matched by our stored Message-IDs."""
    ids = [*parsed.embedded_message_ids, *parsed.thread_ids]
    if not ids:
        return None
    returned = Message.objects.filter(message_id__in=[i[:255] for i in ids], author_contact=None)
    found = returned.select_related("ticket").first()
    return found.ticket if found is not None else None


# --- mailboxes ------------------------------------------------------------------------------

MAILBOX_FIELDS = (
    "name",
    "is_active",
    "email_address",
    "from_name",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_user",
    "imap_folder",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "group",
    "allowed_senders",
    "denied_senders",
    "poll_interval_seconds",
)
MIN_POLL_SECONDS = 30


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators manage mailboxes."))


@transaction.atomic
def save_mailbox(actor: User, mailbox: Mailbox | None = None, **values) -> Mailbox:
    """Create (``mailbox=None``) or change a mailbox. Passwords are write-only: an empty or
    missing ``imap_password``/``smtp_password`` keeps the stored one."""
    _require_admin(actor)
    mailbox = mailbox or Mailbox()
    unknown = set(values) - set(MAILBOX_FIELDS) - {"imap_password", "smtp_password"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    for name in MAILBOX_FIELDS:
        if name in values:
            setattr(mailbox, name, values[name])
    for name in ("imap_password", "smtp_password"):
        if values.get(name):
            setattr(mailbox, name, values[name])
    if mailbox.poll_interval_seconds < MIN_POLL_SECONDS:
        raise ValidationError(
            {
                "poll_interval_seconds": _("Poll at most every %(n)s seconds.")
                % {"n": MIN_POLL_SECONDS}
            }
        )
    if mailbox.pk is None and not mailbox.imap_password_encrypted:
        raise ValidationError({"imap_password": _("Enter the IMAP password.")})
    mailbox.email_address = (mailbox.email_address or "").strip().lower()
    mailbox.full_clean(exclude=["imap_password_encrypted", "smtp_password_encrypted"])
    if mailbox.is_active and mailbox.next_fetch_at is None:
        mailbox.next_fetch_at = timezone.now()
    mailbox.save()
    return mailbox


def claim_due_mailboxes() -> int:
    """Tick: enqueue ``fetch_mailbox`` for every active mailbox whose ``next_fetch_at`` is due.

    The conditional UPDATE moves ``next_fetch_at`` forward before the job exists, so two tick
    processes never enqueue the same fetch twice.
    """
    from kefu.intake.tasks import fetch_mailbox

    now = timezone.now()
    due = Mailbox.objects.filter(is_active=True).filter(
        Q(next_fetch_at__lte=now) | Q(next_fetch_at__isnull=True)
    )
    claimed = 0
    for pk, next_fetch_at, interval in due.values_list(
        "pk", "next_fetch_at", "poll_interval_seconds"
    )[:100]:
        with transaction.atomic():
            won = Mailbox.objects.filter(pk=pk, next_fetch_at=next_fetch_at).update(
                next_fetch_at=now + timedelta(seconds=interval)
            )
            if won:
                fetch_mailbox.enqueue(pk)
                claimed += 1
    return claimed


def record_fetch_result(mailbox: Mailbox, error: str = "") -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=timezone.now(), last_error=error)
