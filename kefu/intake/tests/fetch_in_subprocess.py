"""Run one mailbox fetch in its own process, optionally dying half-way (``os._exit``, no
clean-up, like a killed worker). Used by ``test_live_mail.py``; not a test module itself.

    python -m kefu.intake.tests.fetch_in_subprocess MODE IMAP_PORT USER PASSWORD

MODE: ``die-before-commit`` (after the mail was parsed and its ticket written, before the
transaction commits), ``die-before-seen`` (after the commit, before ``\\Seen``) or ``fetch``.
Migrates the (scratch) database first and prints the resulting counts as JSON.
"""

from __future__ import annotations

import json
import os
import sys


def main(mode: str, port: int, user: str, password: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kefu.accounts.models import Group
    from kefu.intake import actions
    from kefu.intake.email import imap
    from kefu.intake.models import InboundEmail, Mailbox
    from kefu.intake.tasks import fetch_mailbox
    from kefu.tickets.models import Message, Ticket

    Group.objects.get_or_create(name="Support", defaults={"is_default": True})
    mailbox = Mailbox.objects.filter(email_address="support@kefu.example").first()
    if mailbox is None:
        mailbox = Mailbox(
            name="Support",
            email_address="support@kefu.example",
            imap_host="127.0.0.1",
            imap_port=port,
            imap_security="none",
            imap_user=user,
            smtp_host="127.0.0.1",
            smtp_port=1,
            smtp_security="none",
        )
        mailbox.imap_password = password
        mailbox.save()

    if mode == "die-before-commit":
        finish = actions._finish

        def finish_then_die(*args, **kwargs):
            finish(*args, **kwargs)
            os._exit(3)

        actions._finish = finish_then_die
    elif mode == "die-before-seen":

        def die(client, uid):
            os._exit(3)

        imap.mark_seen = die
    fetch_mailbox.call(mailbox.pk)
    counts = {
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "inbound": InboundEmail.objects.count(),
    }
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
