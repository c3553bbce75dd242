"""Which calendars lack official holiday data for the years tickets are being scheduled in."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from kefu.sla.models import BusinessCalendar

# The State Council publishes next year's schedule in late autumn; from this month on, a calendar
# without next year's dates gets a warning so an admin can import them in time.
WARN_NEXT_YEAR_FROM_MONTH = 10


def years_to_check(today: date | None = None) -> list[int]:
    today = today or timezone.localdate()
    years = [today.year]
    if today.month >= WARN_NEXT_YEAR_FROM_MONTH:
        years.append(today.year + 1)
    return years


def calendars_missing_years(today: date | None = None) -> list[tuple[BusinessCalendar, list[int]]]:
    years = years_to_check(today)
    found = []
    for calendar in BusinessCalendar.objects.filter(is_active=True).prefetch_related("dates"):
        missing = calendar.missing_years(years)
        if missing:
            found.append((calendar, missing))
    return found


def calendar_warnings() -> list[str]:
    """For ``/readyz``: plain English, one line per calendar."""
    return [
        f"calendar {calendar.name!r} has no official holiday data for "
        f"{', '.join(map(str, missing))}: weekday rules apply until an admin imports the dates"
        for calendar, missing in calendars_missing_years()
    ]
