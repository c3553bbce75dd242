"""SLA compliance: first response and resolution met %, per priority, group or agent, over a
period of ticket creation. Read-only; the reports module builds on ``compliance_rows``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from kefu.accounts.models import User
from kefu.sla.models import TicketSLA
from kefu.tickets.models import PRIORITY_RANK, Priority, Ticket

GROUPINGS = {
    "priority": "ticket__priority",
    "group": "ticket__group__name",
    "agent": "ticket__assignee__name",
}


@dataclass(frozen=True)
class ComplianceRow:
    key: str | None
    tickets: int
    first_response_met: int
    first_response_measured: int
    resolution_met: int
    resolution_measured: int
    label: str = ""

    @staticmethod
    def _percent(met: int, measured: int) -> float | None:
        return round(100 * met / measured, 1) if measured else None

    @property
    def first_response_percent(self) -> float | None:
        return self._percent(self.first_response_met, self.first_response_measured)

    @property
    def resolution_percent(self) -> float | None:
        return self._percent(self.resolution_met, self.resolution_measured)


def compliance_rows(
    user: User, *, since: datetime, until: datetime | None = None, by: str = "priority"
) -> list[ComplianceRow]:
    """A target counts once it is met or breached; a target still running is not measured."""
    column = GROUPINGS[by]
    tickets = Ticket.objects.visible_to(user).filter(created_at__gte=since)
    if until is not None:
        tickets = tickets.filter(created_at__lt=until)
    rows = (
        TicketSLA.objects.filter(ticket__in=tickets.values("pk"), policy__isnull=False)
        .values(column)
        .annotate(
            tickets=Count("pk"),
            first_response_met=Count(
                "pk", filter=Q(first_response_at__isnull=False, first_response_breached=False)
            ),
            first_response_measured=Count(
                "pk", filter=Q(first_response_at__isnull=False) | Q(first_response_breached=True)
            ),
            resolution_met=Count(
                "pk", filter=Q(resolution_at__isnull=False, resolution_breached=False)
            ),
            resolution_measured=Count(
                "pk", filter=Q(resolution_at__isnull=False) | Q(resolution_breached=True)
            ),
        )
        .order_by(column)
    )
    result = [
        ComplianceRow(
            key=row[column],
            label=_row_label(by, row[column]),
            tickets=row["tickets"],
            first_response_met=row["first_response_met"],
            first_response_measured=row["first_response_measured"],
            resolution_met=row["resolution_met"],
            resolution_measured=row["resolution_measured"],
        )
        for row in rows
    ]
    if by == "priority":
        # Urgent first, as everywhere else, not in alphabetical order of the stored values.
        rank = {str(priority): position for priority, position in PRIORITY_RANK.items()}
        result.sort(key=lambda row: rank.get(row.key or "", len(rank)))
    return result


def _row_label(by: str, key: str | None) -> str:
    if key is None:
        return ""
    if by == "priority" and key in Priority.values:
        return str(Priority(key).label)
    return key
