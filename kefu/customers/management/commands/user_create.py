"""``kefu user create``: add a staff member or a customer login (with its contact) from the
command line. It lives in customers, which knows both kinds of people."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.actions import create_user, get_or_create_group
from kefu.accounts.models import STAFF_ROLES, Access, Role
from kefu.cli import validation_error_line
from kefu.customers.actions import create_customer_user, get_or_create_organization

ROLES = "|".join(Role.values)


class Command(BaseCommand):
    help = "Create a user (admin, supervisor, agent or customer with its contact)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, metavar=ROLES)
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            metavar="GROUP",
            help="Staff only: full member of this group (created if missing); repeatable.",
        )
        parser.add_argument(
            "--read-only-group",
            action="append",
            default=[],
            metavar="GROUP",
            help="Staff only: read-only member of this group; repeatable.",
        )
        parser.add_argument(
            "--organization",
            metavar="ORGANISATION",
            help="Customers only: their organisation (created if missing).",
        )
        parser.add_argument(
            "--password",
            help="Without it the user sets a password through “Forgot password” or an invitation.",
        )

    def handle(
        self, *args, email, name, role, group, read_only_group, organization, password, **options
    ):
        if role not in Role.values:
            raise CommandError(
                _("Unknown role %(role)s; use one of %(roles)s.") % {"role": role, "roles": ROLES}
            )
        is_staff = role in STAFF_ROLES
        if (group or read_only_group) and not is_staff:
            raise CommandError(
                _("Only staff belong to groups; a customer may have an --organization.")
            )
        if organization and is_staff:
            raise CommandError(
                _("Only customers belong to an organisation; staff may have --group.")
            )
        try:
            with transaction.atomic():
                if is_staff:
                    memberships = [(get_or_create_group(None, g), Access.FULL) for g in group]
                    memberships += [
                        (get_or_create_group(None, g), Access.READ) for g in read_only_group
                    ]
                    user = create_user(
                        None,
                        email=email,
                        name=name,
                        role=role,
                        password=password,
                        groups=memberships,
                    )
                else:
                    org = get_or_create_organization(None, organization) if organization else None
                    user = create_customer_user(
                        None, email=email, name=name, password=password, organization=org
                    )
        except ValidationError as error:
            raise CommandError(validation_error_line(error)) from None
        self.stdout.write(
            _("Created %(role)s %(name)s <%(email)s>.")
            % {"role": user.get_role_display(), "name": user.name, "email": user.email}
        )
        if not password:
            self.stdout.write(
                _(
                    "No password set: %(email)s must use “Forgot password” on the login page "
                    "or follow an invitation to choose one."
                )
                % {"email": user.email}
            )
