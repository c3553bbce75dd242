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
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import Group, Role, User
from kefu.audit.actions import changes_for, record
from kefu.customers.actions import clear_email_bounce, find_or_create_contact, flag_email_bounced
from kefu.customers.models import Contact
from kefu.intake.email.classify import classify
from kefu.intake.email.parse import ParsedEmail, parse_email
from kefu.intake.models import (
    Authentication,
    AutoMailKind,
    AutoMailStatus,
    AutomaticMail,
    GroupMailSettings,
    InboundEmail,
    Mailbox,
    Outcome,
    TicketParticipant,
)
from kefu.intake.oauth import disconnect_mailbox_tokens
from kefu.lib.errors import BusinessRuleError
from kefu.lib.text import clean_text
from kefu.tickets import events
from kefu.tickets.access import can_work_ticket
from kefu.tickets.actions import (
    NewTicket,
    UploadedFile,
    add_message,
    create_ticket,
    validate_upload,
)
from kefu.tickets.models import Channel, Message, State, Ticket

logger = logging.getLogger(__name__)

_TICKET_NUMBER = re.compile(r"\[#(\d{1,18})\]")
MAX_SUBJECT = 255
# When a failed mail is ingested again automatically: the first entry after the failure, each
# next one after the previous retry failed; after the last the administrators are told.
MAIL_RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)


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


class IngestDeferred(Exception):
    """The ingest failed for a transient reason (the database unreachable, locked or busy, the
    disk full): nothing was recorded, so delivering the same mail again later ingests it
    afresh. The webhook answers 503 with ``Retry-After``, ``kefu mail ingest`` exits 75
    (EX_TEMPFAIL) and the IMAP fetch leaves the mail unseen."""


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is not the message's fault, so the same mail may succeed later.

    A ``DataError`` is the content not fitting a column; every other database error (lost
    connection, lock timeout, an integrity clash with a concurrent writer that the
    de-duplication did not explain) and an ``OSError`` from storage are transient.
    """
    if isinstance(error, DataError):
        return False
    return isinstance(error, DatabaseError | OSError)


def ingest_email(
    raw: bytes, mailbox: Mailbox | None = None, *, replacing: InboundEmail | None = None
) -> IngestResult:
    """Turn one raw message into a ticket, a message on a ticket, or a recorded non-ticket.

    Idempotent: the same Message-ID (or, without one, the same bytes) is ingested once; a second
    call returns the first record with ``duplicate=True``. Commits before returning, so a caller
    may mark the mail seen on the server as soon as this returns. A failure caused by the
    message (unparseable, no sender, too large) is recorded as ``FAILED`` with the raw source
    and retried automatically (``retry_failed_mail``); a transient failure raises
    ``IngestDeferred`` and records nothing. ``replacing`` is a failed record being retried: it
    is removed in the same transaction as the new ingest commits, or kept (with the new reason)
    when the retry fails again.
    """
    try:
        return _ingest_or_record_failure(raw, mailbox, replacing)
    except IngestDeferred:
        raise
    except Exception as error:
        if not is_transient(error):
            raise
        logger.warning("ingest deferred: %s: %s", type(error).__name__, error)
        raise IngestDeferred(f"{type(error).__name__}: {error}") from error


def _ingest_or_record_failure(
    raw: bytes, mailbox: Mailbox | None, replacing: InboundEmail | None
) -> IngestResult:
    digest = hashlib.sha256(raw).hexdigest()
    if len(raw) > settings.MAX_INBOUND_EMAIL_MB * 1024 * 1024:
        reason = _("The e-mail is %(size)s MB, over the limit of %(limit)s MB.") % {
            "size": round(len(raw) / 1024 / 1024, 1),
            "limit": settings.MAX_INBOUND_EMAIL_MB,
        }
        return _record_failure(raw, mailbox, f"sha256:{digest}", ParsedEmail(), reason, replacing)
    try:
        parsed = parse_email(raw)
    except Exception as error:
        if is_transient(error):
            raise
        logger.exception("parsing failed for sha256:%s", digest)
        reason = _("The e-mail cannot be parsed: %(error)s") % {"error": error}
        return _record_failure(raw, mailbox, f"sha256:{digest}", ParsedEmail(), reason, replacing)
    dedup_key = (parsed.message_id or f"sha256:{digest}")[:255]
    existing = InboundEmail.objects.filter(dedup_key=dedup_key).first()
    if existing is not None and (replacing is None or existing.pk != replacing.pk):
        return IngestResult(existing, duplicate=True)
    try:
        with transaction.atomic():
            if replacing is not None:
                _discard(replacing)
            return IngestResult(_ingest(raw, parsed, dedup_key, mailbox))
    except IntegrityError:
        # A concurrent ingest of the same mail won the unique dedup_key.
        existing = InboundEmail.objects.filter(dedup_key=dedup_key).first()
        if existing is not None and (replacing is None or existing.pk != replacing.pk):
            return IngestResult(existing, duplicate=True)
        raise  # not this mail's fault: transient
    except (ValidationError, PermissionDenied) as error:
        return _record_failure(raw, mailbox, dedup_key, parsed, _describe(error), replacing)
    except Exception as error:
        if is_transient(error):
            raise
        # Never let one bad mail stop a mailbox: it is kept, with its raw source, as failed.
        logger.exception("ingest failed for %s", dedup_key)
        reason = f"{type(error).__name__}: {error}"
        return _record_failure(raw, mailbox, dedup_key, parsed, reason, replacing)


def record_failed_email(raw: bytes, mailbox: Mailbox | None, reason: str) -> IngestResult:
    """Keep a mail whose ingest raised as failed — raw bytes and reason stored — so the IMAP
    fetch may mark it seen and go on; Retry (a person or a job) takes it from there. Raises only
    when nothing can be written (the database is down): then the mail must stay unseen."""
    try:
        parsed = parse_email(raw)
    except Exception:  # parse_email promises not to raise; this record must not depend on it
        parsed = ParsedEmail()
    dedup_key = (parsed.message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}")[:255]
    return _record_failure(raw, mailbox, dedup_key, parsed, clean_text(reason))


def _discard(inbound: InboundEmail) -> None:
    """Remove a failed record whose mail is being ingested again; its file goes on commit."""
    name, storage = inbound.raw.name, inbound.raw.storage
    InboundEmail.objects.filter(pk=inbound.pk).delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


def _record_failure(
    raw: bytes,
    mailbox: Mailbox | None,
    dedup_key: str,
    parsed: ParsedEmail,
    reason: str,
    replacing: InboundEmail | None = None,
) -> IngestResult:
    if replacing is not None and InboundEmail.objects.filter(pk=replacing.pk).exists():
        # A retry that failed again keeps its record and raw source, with the fresh reason.
        InboundEmail.objects.filter(pk=replacing.pk).update(reason=reason)
        replacing.reason = reason
        return IngestResult(replacing)
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
                "retry_due_at": timezone.now() + MAIL_RETRY_DELAYS[0],
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
        if inbound.ticket is not None and classification.kind == "bounce":
            _record_bounce(inbound.ticket, parsed, classification.permanent)
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
    clear_email_bounce(contact)  # they wrote from it, so the address works again
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
            NewTicket(
                subject=subject,
                body=body_text,
                body_html=body_html or None,
                channel=Channel.EMAIL,
                group=mailbox.group if mailbox is not None and mailbox.group_id else None,
                attachments=uploads,
                author_contact=contact,
                message_id=parsed.message_id[:255],
                in_reply_to=_first(parsed.in_reply_to),
            ),
        )
        message = ticket.messages.order_by("pk").first()
        outcome = Outcome.TICKET_CREATED
        queue_automatic_mail(ticket, AutoMailKind.ACKNOWLEDGEMENT, f"ack:{ticket.pk}")
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
        automatic = AutomaticMail.objects.filter(message_id__in=ids).select_related("ticket")
        if (found := automatic.first()) is not None:
            return found.ticket
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
    if not parsed.cc:
        return
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
    ids = [i[:255] for i in ids]
    returned = Message.objects.filter(message_id__in=ids, author_contact=None)
    found = returned.select_related("ticket").first()
    if found is not None:
        return found.ticket
    automatic = AutomaticMail.objects.filter(message_id__in=ids).select_related("ticket").first()
    return automatic.ticket if automatic is not None else None


_DIAGNOSTIC = re.compile(r"^(?:Diagnostic-Code|Status)\s*:\s*(?:smtp;\s*)?(.+)$", re.I | re.M)


def _record_bounce(ticket: Ticket, parsed: ParsedEmail, permanent: bool) -> None:
    """A bounce of our mail: the failure shows on the message it returns; a permanent one also
    flags the addresses it names among the ticket's recipients, so replies stop going there."""
    ids = [i[:255] for i in [*parsed.embedded_message_ids, *parsed.thread_ids]]
    diagnostics = _DIAGNOSTIC.findall(parsed.delivery_status)
    detail = "; ".join(d.strip() for d in diagnostics)[:500] or parsed.subject[:200]
    if permanent:
        reason = _("Bounced (permanent failure): %(detail)s") % {"detail": detail}
    else:
        reason = _("Delivery delayed or failed temporarily: %(detail)s") % {"detail": detail}
    Message.objects.filter(ticket=ticket, message_id__in=ids, author_contact=None).update(
        delivery_error=reason
    )
    AutomaticMail.objects.filter(ticket=ticket, message_id__in=ids).update(
        status=AutoMailStatus.FAILED, reason=reason
    )
    if not permanent:
        return
    named = " ".join(
        [parsed.delivery_status, *parsed.headers.get("x-failed-recipients", []), parsed.body_text]
    ).lower()
    recipients = [
        ticket.contact,
        *(p.contact for p in ticket.participants.select_related("contact")),
    ]
    for contact in recipients:
        if contact.email and contact.email.lower() in named:
            flag_email_bounced(contact, detail)


# --- automatic mail -------------------------------------------------------------------------


def queue_automatic_mail(ticket: Ticket, kind: str, dedup_key: str) -> AutomaticMail | None:
    """Record and enqueue one automatic mail to the ticket's contact, once per ``dedup_key``.

    Nothing happens when the ticket's group turned the kind off or the contact has no address.
    The mail is recorded as skipped, with the reason, when the address bounced or already got
    ``AUTO_MAIL_PER_ADDRESS_PER_HOUR`` automatic mails in the last hour — so an auto-responder
    on the other side cannot ping-pong with us.
    """
    from kefu.intake.tasks import send_automatic_mail

    preferences = GroupMailSettings.objects.filter(group_id=ticket.group_id).first()
    field = (
        "send_acknowledgement" if kind == AutoMailKind.ACKNOWLEDGEMENT else "send_resolution_notice"
    )
    if preferences is not None and not getattr(preferences, field):
        return None
    contact = ticket.contact
    if not contact.email:
        return None
    recipient = contact.email.lower()
    status, reason = AutoMailStatus.PENDING, ""
    if contact.email_bounced_at is not None:
        status, reason = AutoMailStatus.SKIPPED, _("The address bounced permanently.")
    else:
        recent = AutomaticMail.objects.filter(
            recipient=recipient,
            created_at__gte=timezone.now() - timedelta(hours=1),
            status__in=(AutoMailStatus.PENDING, AutoMailStatus.SENT),
        ).count()
        if recent >= settings.AUTO_MAIL_PER_ADDRESS_PER_HOUR:
            status = AutoMailStatus.SKIPPED
            reason = _("Rate limit: %(n)s automatic mails to this address in the last hour.") % {
                "n": recent
            }
    with transaction.atomic():
        automatic, created = AutomaticMail.objects.get_or_create(
            dedup_key=dedup_key[:120],
            defaults={
                "ticket": ticket,
                "kind": kind,
                "recipient": recipient,
                "status": status,
                "reason": reason,
            },
        )
    if created and status == AutoMailStatus.PENDING:
        send_automatic_mail.enqueue(automatic.pk)
    return automatic


def on_ticket_state_changed(event: events.TicketStateChanged) -> None:
    """An e-mail ticket that becomes resolved tells its customer (when the group wants it)."""
    ticket = event.ticket
    if event.new_state != State.RESOLVED or getattr(ticket, "channel", "") != Channel.EMAIL:
        return
    resolved_at = getattr(ticket, "resolved_at", None) or timezone.now()
    key = f"resolved:{ticket.pk}:{int(resolved_at.timestamp())}"
    queue_automatic_mail(ticket, AutoMailKind.RESOLVED, key)  # type: ignore[arg-type]


def save_group_mail_settings(
    actor: User,
    group: Group,
    *,
    send_acknowledgement: bool,
    send_resolution_notice: bool,
    sending_mailbox: Mailbox | None = None,
) -> GroupMailSettings:
    _require_admin(actor)
    if sending_mailbox is not None and not sending_mailbox.is_active:
        raise BusinessRuleError(
            _("The mailbox %(mailbox)s is deactivated.") % {"mailbox": sending_mailbox},
            field="sending_mailbox",
        )
    values = {
        "send_acknowledgement": send_acknowledgement,
        "send_resolution_notice": send_resolution_notice,
        "sending_mailbox": sending_mailbox,
    }
    changes = changes_for(GroupMailSettings.objects.filter(group=group).first(), values)
    preferences, _created = GroupMailSettings.objects.update_or_create(group=group, defaults=values)
    if changes:
        record(actor, "group_mail.updated", group, changes)
    return preferences


def retry_inbound_email(actor: User, inbound: InboundEmail) -> IngestResult:
    """Ingest a failed mail again from its stored raw source (after the cause was fixed)."""
    _require_admin(actor)
    if inbound.outcome != Outcome.FAILED:
        raise BusinessRuleError(_("Only failed mail can be retried."))
    if not inbound.raw:
        raise BusinessRuleError(_("The raw message of this mail was not kept."))
    with inbound.raw.open("rb") as handle:
        raw = handle.read()
    return ingest_email(raw, inbound.mailbox, replacing=inbound)


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
    "authentication",
    "oauth_client_id",
    "oauth_tenant",
    "oauth_authorize_url",
    "oauth_token_url",
    "oauth_scopes",
    "group",
    "allowed_senders",
    "denied_senders",
    "poll_interval_seconds",
)
MIN_POLL_SECONDS = 30
SECRET_FIELDS = ("imap_password", "smtp_password", "oauth_client_secret")
# Changing one of these makes the stored OAuth2 tokens someone else's: connect again.
OAUTH_PROVIDER_FIELDS = (
    "authentication",
    "oauth_client_id",
    "oauth_tenant",
    "oauth_authorize_url",
    "oauth_token_url",
    "oauth_scopes",
)


def _require_admin(actor: User) -> None:
    require_admin(actor, _("Only administrators manage mailboxes."))


@transaction.atomic
def save_mailbox(actor: User, mailbox: Mailbox | None = None, **values) -> Mailbox:
    """Create (``mailbox=None``) or change a mailbox. Secrets are write-only: an empty or
    missing ``imap_password``/``smtp_password``/``oauth_client_secret`` keeps the stored one.

    Changing the authentication or the OAuth2 provider settings forgets the OAuth2 tokens
    (they were issued to the old app): the mailbox must be connected again.
    """
    _require_admin(actor)
    mailbox = mailbox or Mailbox()
    is_new = mailbox.pk is None
    # Secrets are masked by ``record`` (secret-looking names): only "changed" is kept.
    changes = changes_for(mailbox, {k: v for k, v in values.items() if k in MAILBOX_FIELDS})
    for name in SECRET_FIELDS:
        if values.get(name):
            changes[name] = ["", "changed"]
    unknown = set(values) - set(MAILBOX_FIELDS) - set(SECRET_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    for name in MAILBOX_FIELDS:
        if name in values:
            setattr(mailbox, name, values[name])
    for name in SECRET_FIELDS:
        if values.get(name):
            setattr(mailbox, name, values[name])
    if mailbox.poll_interval_seconds < MIN_POLL_SECONDS:
        raise ValidationError(
            {
                "poll_interval_seconds": _("Poll at most every %(n)s seconds.")
                % {"n": MIN_POLL_SECONDS}
            }
        )
    if mailbox.is_oauth:
        _check_oauth_settings(mailbox)
    elif mailbox.pk is None and not mailbox.imap_password_encrypted:
        raise ValidationError({"imap_password": _("Enter the IMAP password.")})
    if not is_new and any(name in changes for name in OAUTH_PROVIDER_FIELDS):
        disconnect_mailbox_tokens(mailbox)
    mailbox.email_address = (mailbox.email_address or "").strip().lower()
    mailbox.full_clean(
        exclude=[
            "imap_password_encrypted",
            "smtp_password_encrypted",
            "oauth_client_secret_encrypted",
        ]
    )
    if mailbox.is_active and mailbox.next_fetch_at is None:
        mailbox.next_fetch_at = timezone.now()
    mailbox.save()
    if changes:
        record(actor, "mailbox.created" if is_new else "mailbox.updated", mailbox, changes)
    return mailbox


def _check_oauth_settings(mailbox: Mailbox) -> None:
    from kefu.intake.email.oauth import endpoint_problem

    errors: dict[str, str] = {}
    if not mailbox.oauth_client_id.strip():
        errors["oauth_client_id"] = _("Enter the client id of the app registered at the provider.")
    if not mailbox.oauth_client_secret_encrypted:
        errors["oauth_client_secret"] = _("Enter the client secret.")
    if mailbox.authentication == Authentication.OAUTH2:
        for name in ("oauth_authorize_url", "oauth_token_url"):
            url = getattr(mailbox, name).strip()
            if not url:
                errors[name] = _("Enter the provider's endpoint address.")
            elif problem := endpoint_problem(url):
                errors[name] = problem
    if errors:
        raise ValidationError(errors)


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
