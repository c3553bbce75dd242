"""Ticket-event handlers of learned triage (registered in ``TriageConfig.ready()``).

Both run inside the ticket action's transaction and stay cheap: creation enqueues the prediction
job (the database backend commits it with the ticket); a change by a person marks predictions of
the changed fields as overridden. Neither imports scikit-learn.
"""

from __future__ import annotations

from kefu.lib import config_cache
from kefu.tickets import events
from kefu.triage.models import FIELDS, TriageConfig
from kefu.triage.status import scikit_learn_installed


def predict_new_ticket(event: events.TicketCreated) -> None:
    config = config_cache.snapshot(
        "triage.config",
        lambda: TriageConfig.objects.filter(pk=1).values("is_enabled", "active_version_id").first(),
    )
    if config is None or not config["is_enabled"] or config["active_version_id"] is None:
        return
    if not scikit_learn_installed():
        return
    from kefu.triage.tasks import predict_ticket

    predict_ticket.enqueue(event.ticket.pk)


def count_overrides(event: events.TicketChanged) -> None:
    if event.actor is None or not set(event.changes) & set(FIELDS):
        return
    from kefu.triage.actions import record_overrides

    record_overrides(event.ticket, event.actor, event.changes)  # type: ignore[arg-type]


def register() -> None:
    events.register(events.TicketCreated, predict_new_ticket)
    events.register(events.TicketChanged, count_overrides)
