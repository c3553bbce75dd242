"""Ticket numbers: unique, increasing, never reused (a rolled-back ticket leaves a gap)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from kefu.tickets.models import TicketNumberCounter

TICKET_NUMBER_SEQUENCE = "kefu_ticket_number_seq"  # PostgreSQL; created by migration 0008


def next_ticket_number() -> int:
    """Take the next ticket number; must run inside the caller's transaction.

    PostgreSQL: ``nextval`` of a sequence, which holds no lock, so concurrent creators do not
    wait for each other's whole transaction. SQLite, whose writers are serialised anyway: the
    ``TicketNumberCounter`` row. Either way a number taken by a transaction that rolls back is a
    harmless gap, never a duplicate.
    """
    return take_ticket_numbers(1)[0]


def take_ticket_numbers(count: int) -> list[int]:
    """``count`` new ticket numbers, ascending (contiguous on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [TICKET_NUMBER_SEQUENCE, count]
            )
            return sorted(row[0] for row in cursor.fetchall())
    counter = TicketNumberCounter.objects.filter(name="ticket")
    if not counter.update(value=F("value") + count):
        # The migration creates the row; this only runs if someone deleted it.
        try:
            with transaction.atomic():
                TicketNumberCounter.objects.create(
                    name="ticket", value=settings.TICKET_NUMBER_START - 1 + count
                )
        except IntegrityError:
            counter.update(value=F("value") + count)
    last = counter.values_list("value", flat=True).get()
    return list(range(last - count + 1, last + 1))


def continue_ticket_numbers_after(number: int) -> None:
    """Make the next ticket number at least ``number + 1`` (after rows were loaded in bulk)."""
    TicketNumberCounter.objects.filter(name="ticket", value__lt=number).update(value=number)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval('kefu_ticket_number_seq',"
                " GREATEST(%s, (SELECT last_value FROM kefu_ticket_number_seq)))",
                [number],
            )
