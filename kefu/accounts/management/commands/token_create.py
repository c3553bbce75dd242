"""``kefu token create EMAIL``: print a new API token for a user, and nothing else."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.accounts.actions import create_api_token
from kefu.accounts.models import User
from kefu.cli import validation_error_line


class Command(BaseCommand):
    help = "Create an API token for a user and print only the token (for scripts)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="A label to recognise the token by later.")

    def handle(self, *args, email, name, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(_("No user has the e-mail address %(email)s.") % {"email": email})
        try:
            _token, raw = create_api_token(
                None, user, name=name or _("created with kefu token create")
            )
        except ValidationError as error:
            raise CommandError(validation_error_line(error)) from None
        self.stdout.write(raw)
