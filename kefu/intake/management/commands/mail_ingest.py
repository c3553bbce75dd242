"""``kefu mail ingest FILE|-``: ingest one raw RFC 5322 message (for MTA pipes and tests)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.intake.actions import ingest_email
from kefu.intake.models import Mailbox, Outcome
from kefu.lib.text import clean_line


class Command(BaseCommand):
    help = "Ingest one raw e-mail from FILE or standard input (-) into tickets."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .eml file, or - for standard input.")
        parser.add_argument(
            "--mailbox",
            default="",
            help="The address of the mailbox the mail arrived at (its group and sender lists "
            "apply, and replies go out through its SMTP account).",
        )

    def handle(self, *args, file, mailbox, **options):
        target = None
        # Arguments that are not UTF-8 arrive as lone surrogates (surrogateescape).
        mailbox = clean_line(mailbox).strip()
        if mailbox:
            target = Mailbox.objects.filter(email_address__iexact=mailbox).first()
            if target is None:
                raise CommandError(
                    _("No mailbox has the address %(address)s.") % {"address": mailbox}
                )
        if file == "-":
            raw = sys.stdin.buffer.read()
        else:
            try:
                with open(file, "rb") as handle:
                    raw = handle.read()
            except OSError as error:
                raise CommandError(
                    _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
                ) from None
        if not raw.strip():
            raise CommandError(_("The input is empty; expected one raw e-mail message."))
        result = ingest_email(raw, target)
        inbound = result.inbound
        if result.duplicate:
            line = _("Already ingested (%(outcome)s).") % {"outcome": inbound.get_outcome_display()}
        elif inbound.ticket is not None and inbound.outcome in (
            Outcome.TICKET_CREATED,
            Outcome.MESSAGE_ADDED,
        ):
            line = _("%(outcome)s: ticket #%(number)s") % {
                "outcome": inbound.get_outcome_display(),
                "number": inbound.ticket.number,
            }
        else:
            line = _("%(outcome)s: %(reason)s") % {
                "outcome": inbound.get_outcome_display(),
                "reason": inbound.reason,
            }
        # A failed mail is kept with its reason, so the exit status stays 0: a non-zero status
        # would make an MTA pipe bounce it back to the customer.
        (self.stderr if inbound.outcome == Outcome.FAILED else self.stdout).write(line)
