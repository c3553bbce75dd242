"""Agent replies to e-mail tickets: out through the ticket's mailbox, threaded, exactly once.

Registered with ``kefu.tickets.outbound`` so the tickets app's ``send_reply_to_customer`` job
hands e-mail tickets to the mailbox they came from. The Message-ID is derived from the message's
primary key and stored before the first attempt (``email_reply_message_id``), so a retried job sends the very same mail (receivers
and our own threading de-duplicate by it).
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from kefu.lib.mail import make_message


def outgoing_message_id(message, mailbox) -> str:
    domain = mailbox.email_address.rsplit("@", 1)[-1]
    return f"<kefu.{message.pk}.{message.ticket.number}@{domain}>"


def email_reply_message_id(message) -> str | None:
    """The Message-ID of a reply the ticket's mailbox will send (its domain), or None."""
    from kefu.tickets.models import Channel

    if message.ticket.channel != Channel.EMAIL or message.is_internal:
        return None
    mailbox = mailbox_for_ticket(message.ticket)
    return outgoing_message_id(message, mailbox) if mailbox is not None else None


def mailbox_for_ticket(ticket):
    """The mailbox the ticket's mail goes out through, or None (the site's sender).

    The group's "send as" mailbox when it is set and active (a ticket moved to 售后服务部 is
    answered from the after-sales address); otherwise the active mailbox the customer last
    wrote to. Each mailbox sends through its own SMTP account, so the From always matches the
    logged-in sender.
    """
    from kefu.intake.models import GroupMailSettings, InboundEmail, Outcome

    sending = (
        GroupMailSettings.objects.filter(
            group_id=ticket.group_id,
            sending_mailbox__isnull=False,
            sending_mailbox__is_active=True,
        )
        .select_related("sending_mailbox")
        .first()
    )
    if sending is not None:
        return sending.sending_mailbox

    inbound = (
        InboundEmail.objects.filter(
            ticket=ticket,
            mailbox__isnull=False,
            mailbox__is_active=True,
            outcome__in=(Outcome.TICKET_CREATED, Outcome.MESSAGE_ADDED),
        )
        .select_related("mailbox")
        .order_by("-created_at", "-pk")
        .first()
    )
    return inbound.mailbox if inbound is not None else None


def automatic_message_id(automatic, mailbox) -> str:
    domain = mailbox.email_address.rsplit("@", 1)[-1] if mailbox is not None else "kefu.local"
    return f"<kefu.auto.{automatic.pk}.{automatic.ticket.number}@{domain}>"


AUTOMATIC_TEMPLATES = {"acknowledgement": "ticket_acknowledgement", "resolved": "ticket_resolved"}


def send_automatic(automatic) -> None:
    """Send one ``AutomaticMail`` (its Message-ID already stored) as the ticket's mailbox, or
    from the site's sender when the ticket has no active mailbox.

    Marked as automatic (RFC 3834 ``Auto-Submitted``, Microsoft's ``X-Auto-Response-Suppress``)
    so well-behaved auto-responders do not answer it.
    """
    from django.core.mail import get_connection

    ticket = automatic.ticket
    contact = ticket.contact
    mailbox = mailbox_for_ticket(ticket)
    thread = list(
        ticket.messages.filter(is_internal=False)
        .exclude(message_id="")
        .order_by("created_at", "pk")
        .values_list("message_id", "author_contact_id")
    )
    customer_ids = [message_id for message_id, author in thread if author is not None]
    sla = getattr(ticket, "sla", None)  # the SLA app's TicketSLA, when it is installed
    first_response_due_at = None
    if sla is not None and getattr(sla, "first_response_at", None) is None:
        first_response_due_at = getattr(sla, "first_response_due_at", None)
    email: EmailMultiAlternatives = make_message(
        AUTOMATIC_TEMPLATES[automatic.kind],
        {
            "ticket": ticket,
            "contact": contact,
            "first_response_due_at": first_response_due_at,
        },
        to=[automatic.recipient],
        language=contact.language or None,
        message_id=automatic.message_id,
        in_reply_to=customer_ids[-1] if customer_ids else None,
        references=[message_id for message_id, _author in thread][-20:] or None,
    )
    email.extra_headers["Auto-Submitted"] = (
        "auto-replied" if automatic.kind == "acknowledgement" else "auto-generated"
    )
    email.extra_headers["X-Auto-Response-Suppress"] = "All"
    if mailbox is not None:
        from kefu.intake.email.smtp import smtp_connection

        email.from_email = mailbox.from_header
        email.connection = smtp_connection(mailbox)
    else:
        email.connection = get_connection()
    email.send()


def deliver_email_reply(message) -> bool:
    """Send ``message`` (a public agent reply) by e-mail when its ticket came by e-mail."""
    from kefu.intake.models import TicketParticipant
    from kefu.tickets.models import Channel

    ticket = message.ticket
    if ticket.channel != Channel.EMAIL or message.is_internal:
        return False
    mailbox = mailbox_for_ticket(ticket)
    contact = ticket.contact
    if mailbox is None or not contact.email:
        return False

    thread = list(
        ticket.messages.filter(is_internal=False)
        .exclude(message_id="")
        .exclude(pk=message.pk)
        .order_by("created_at", "pk")
        .values_list("message_id", "author_contact_id")
    )
    customer_ids = [message_id for message_id, author in thread if author is not None]
    in_reply_to = customer_ids[-1] if customer_ids else None
    references = [message_id for message_id, _author in thread][-20:]

    ours = mailbox.email_address.lower()
    cc = [
        address
        for address in TicketParticipant.objects.filter(ticket=ticket, contact__is_active=True)
        .exclude(contact__email__isnull=True)
        .values_list("contact__email", flat=True)
        if address and address.lower() not in (ours, contact.email.lower())
    ]
    email: EmailMultiAlternatives = make_message(
        "ticket_reply",
        {"ticket": ticket, "message": message, "contact": contact},
        to=[contact.email],
        language=contact.language or None,
        message_id=message.message_id,
        in_reply_to=in_reply_to,
        references=references or None,
    )
    email.from_email = mailbox.from_header
    email.cc = cc
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    from kefu.intake.email.smtp import smtp_connection

    email.connection = smtp_connection(mailbox)
    email.send()
    return True
