"""The demo's e-mail tickets were resolved "before" this install: their resolution notices are
recorded as not sent, so the worker does not mail the made-up customers on the first start."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from kefu.customers.demo import DemoContext

REASON_DEMO_HISTORY = gettext_noop("Demo history: not sent.")


def load_demo(context: DemoContext) -> None:
    from kefu.intake.models import AutoMailStatus, AutomaticMail

    AutomaticMail.objects.filter(status=AutoMailStatus.PENDING).update(
        status=AutoMailStatus.SKIPPED, reason=REASON_DEMO_HISTORY
    )
