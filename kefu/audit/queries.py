"""Reading the audit log (filters shared by the page and the API)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from kefu.audit.models import AuditEntry


def filter_entries(
    *,
    actor_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
) -> QuerySet[AuditEntry]:
    """Entries newest first; dates are whole days in the current time zone, both inclusive."""
    entries = AuditEntry.objects.select_related("actor")
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if action:
        entries = entries.filter(action__startswith=action)
    zone = timezone.get_current_timezone()
    if date_from:
        entries = entries.filter(created_at__gte=datetime.combine(date_from, time.min, zone))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, zone)
        entries = entries.filter(created_at__lt=end)
    if q:
        entries = entries.filter(object_repr__icontains=q.strip())
    return entries.order_by("-created_at", "-id")


def object_types() -> list[str]:
    return sorted(
        t for t in AuditEntry.objects.values_list("object_type", flat=True).distinct() if t
    )
