"""``kefu token create EMAIL``: print a new API token for a user, and nothing else."""

from __future__ import annotations

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.actions import create_api_token
from kefu.accounts.models import User
from kefu.cli import validation_error_line


def parse_expiry(value: str) -> datetime:
    """``2027-06-30`` (valid through that day, in the server's time zone) or an ISO date-time."""
    try:
        if len(value.strip()) == 10:
            day = datetime.strptime(value.strip(), "%Y-%m-%d").date()  # noqa: DTZ007 - a date
            return timezone.make_aware(datetime.combine(day, time.max))
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            _("--expires takes a date like 2027-06-30 or a date and time like 2027-06-30T18:00.")
        ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Create an API token for a user and print only the token (for scripts)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="A label to recognise the token by later.")
        parser.add_argument(
            "--expires",
            default="",
            metavar="DATE",
            help="Last day the token works (YYYY-MM-DD) or an ISO date-time; default: never.",
        )

    def handle(self, *args, email, name, expires, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(_("No user has the e-mail address %(email)s.") % {"email": email})
        expires_at = parse_expiry(expires) if expires else None
        try:
            _token, raw = create_api_token(
                None, user, name=name or _("created with kefu token create"), expires_at=expires_at
            )
        except ValidationError as error:
            raise CommandError(validation_error_line(error)) from None
        self.stdout.write(raw)
