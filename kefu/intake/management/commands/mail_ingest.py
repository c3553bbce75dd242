"""``kefu mail ingest FILE|-``: ingest one raw RFC 5322 message (for MTA pipes and tests)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from kefu.intake.actions import IngestDeferred, ingest_email, is_transient
from kefu.intake.models import Mailbox, Outcome
from kefu.lib.text import clean_line

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, the sender should try again


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
        try:
            result = ingest_email(raw, self._mailbox(mailbox))
        except (IngestDeferred, DatabaseError) as error:
            if isinstance(error, DatabaseError) and not is_transient(error):
                raise
            # EX_TEMPFAIL: the MTA keeps the mail in its queue and delivers it again later.
            self.stderr.write(
                _("Could not store the e-mail just now (%(error)s); deliver it again later.")
                % {"error": error}
            )
            sys.exit(EX_TEMPFAIL)
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
        # A mail that failed for its content is kept with its reason (and retried
        # automatically), so the exit status stays 0: a non-zero status would make an MTA pipe
        # bounce it back to the customer.
        (self.stderr if inbound.outcome == Outcome.FAILED else self.stdout).write(line)

    def _mailbox(self, address: str) -> Mailbox | None:
        # Arguments that are not UTF-8 arrive as lone surrogates (surrogateescape).
        address = clean_line(address).strip()
        if not address:
            return None
        target = Mailbox.objects.filter(email_address__iexact=address).first()
        if target is None:
            raise CommandError(_("No mailbox has the address %(address)s.") % {"address": address})
        return target
