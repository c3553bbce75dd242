"""Official public-holiday schedules: China's from ``chinese-calendar``, other countries' from
``holidays``. Read once per process and cached; the calendars combine them with admin-entered dates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

# ``holidays`` computes most countries from rules; these years are generated for a country calendar.
COUNTRY_YEARS = range(2000, 2041)


@dataclass(frozen=True)
class OfficialDates:
    holidays: dict[date, str]
    working_days: dict[date, str]  # make-up working days (调休) on weekends
    years: frozenset[int] | None  # years with data; None: computed for any year


@functools.cache
def china() -> OfficialDates:
    """The State Council schedule as far as the installed ``chinese-calendar`` knows it.

    The package raises ``NotImplementedError`` for dates outside its years, so Kefu never calls its
    functions; it reads the package's tables and records which years they cover.
    """
    import chinese_calendar

    holiday_table = dict(chinese_calendar.holidays)
    working_table = dict(chinese_calendar.workdays)
    first, last = min(holiday_table).year, max(holiday_table).year
    return OfficialDates(
        holidays={day: _holiday_name(value) for day, value in holiday_table.items()},
        working_days={day: _holiday_name(value) for day, value in working_table.items()},
        years=frozenset(range(first, last + 1)),
    )


def _holiday_name(value: object) -> str:
    return str(getattr(value, "value", value))  # e.g. "National Day"


@functools.cache
def country(code: str) -> OfficialDates:
    import holidays

    table = holidays.country_holidays(code.upper(), years=list(COUNTRY_YEARS))
    return OfficialDates(holidays=dict(table.items()), working_days={}, years=None)


def is_known_country(code: str) -> bool:
    import holidays

    return code.upper() in holidays.list_supported_countries()
