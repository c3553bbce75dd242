"""The tick's claim query reads the partial index on ``check_due_at`` (PostgreSQL plan), so its
cost follows the number of due rows, not the number of open tickets. The 1M-ticket proof is
``bench/sla_tick.py``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from kefu.sla.actions.clock import due_rows
from kefu.sla.models import TicketSLA
from kefu.tickets.models import Ticket, TicketType

OPEN_ROWS = 50_000
DUE_ROWS = 20


def _columns(table: str, *, skip: set[str]) -> str:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return ", ".join(column.name for column in description if column.name not in skip)


@pytest.mark.postgres
def test_the_claim_query_uses_the_partial_index_on_50k_open_tickets(cast):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's; this runs in CI's PostgreSQL pass")
    now = timezone.now()
    template = Ticket.objects.create(
        number=999_999,
        subject="load",
        type=TicketType.objects.first(),
        contact=cast.alice.contact,
        group=cast.cs,
    )
    TicketSLA.objects.create(ticket=template)
    # Copy the template rows in SQL (the ORM would take ~25 s for 50k tickets).
    ticket_columns = _columns("tickets_ticket", skip={"id", "number"})
    sla_columns = _columns("sla_ticketsla", skip={"id", "ticket_id", "check_due_at", "next_due_at"})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO tickets_ticket (number, {ticket_columns}) "  # noqa: S608 - names from the schema
            f"SELECT 1000000 + n, {ticket_columns} FROM tickets_ticket, "
            "generate_series(1, %s) AS n WHERE id = %s",
            [OPEN_ROWS, template.pk],
        )
        # Most rows wait for a later day, a third have nothing left to check, a few are due now.
        cursor.execute(
            f"INSERT INTO sla_ticketsla (ticket_id, check_due_at, next_due_at, {sla_columns}) "  # noqa: S608
            "SELECT t.id, CASE WHEN t.number < 1000000 + %s THEN %s - interval '1 minute' "
            "WHEN t.number %% 3 = 0 THEN NULL "
            "ELSE %s + (1 + t.number %% 30) * interval '1 day' END, "
            f"%s + interval '1 day', {', '.join('s.' + c for c in sla_columns.split(', '))} "
            "FROM tickets_ticket t, sla_ticketsla s WHERE t.number >= 1000000 AND s.ticket_id = %s",
            [DUE_ROWS + 1, now, now, now, template.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_ticketsla")
    plan = due_rows(now).explain()
    assert "ticketsla_check_due" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert len(list(due_rows(now))) == DUE_ROWS
