"""``kefu demo load``: fill an installation with the demo departments, people and tickets."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kefu.demo.load import demo_logins, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo data (departments, staff, customers, tickets); does nothing the second time."
    )

    def handle(self, *args, **options):
        if not load_demo():
            self.stdout.write(_("The demo data is already loaded; nothing changed."))
            return
        self.stdout.write(_("Demo data loaded. Logins (e-mail / password):"))
        for role, email, password in demo_logins():
            self.stdout.write(f"  {role:<14} {email:<28} {password}")
