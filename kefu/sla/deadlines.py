"""Business-time arithmetic over a calendar description; pure functions, no database.

A ``WorkingCalendar`` says, for any local date, which half-open intervals ``[start, end)`` of the
day are working time. Instants are aware datetimes; all arithmetic happens on absolute instants,
so a working interval that contains a DST change lasts as long as it really lasts, and results are
the same whatever time zone the caller's datetimes use.

Convention: adding ``m > 0`` minutes returns an instant inside ``(start, end]`` of some working
interval (a deadline may be "by 18:00", the end of the day's hours); adding a negative amount walks
backwards and returns an instant inside ``[start, end)``. Adding zero returns the start unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

MINUTES_PER_DAY = 24 * 60
# A calendar whose working time never comes back within this many days is broken.
MAX_EMPTY_DAYS = 800

Interval = tuple[int, int]  # minutes after local midnight, end exclusive, 0 <= start < end <= 1440


class NoWorkingTimeError(ValueError):
    """The calendar has no working time at all (or none for years on end)."""


@dataclass(frozen=True)
class WorkingCalendar:
    """What counts as working time.

    ``hours`` maps weekday (Monday = 0) to that day's intervals. A date in ``holidays`` has no
    working time; a date in ``extra_working_days`` (a make-up working day, 调休) uses Monday's
    hours whatever its weekday. ``years_with_data`` names the years whose official holiday data
    is known (``None``: the calendar has no official data to miss, e.g. a custom calendar); other
    years fall back to the weekday rules, with a logged warning. ``always_open`` is 24×7.
    """

    time_zone: str = "Asia/Shanghai"
    hours: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    always_open: bool = False
    years_with_data: frozenset[int] | None = None
    name: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def intervals_on(self, day: date) -> Sequence[Interval]:
        if self.always_open:
            return ((0, MINUTES_PER_DAY),)
        if self.years_with_data is not None and day.year not in self.years_with_data:
            _warn_missing_year(self.name or self.time_zone, day.year)
        if day in self.holidays:
            return ()
        if day in self.extra_working_days:
            return self.hours.get(0, ())
        return self.hours.get(day.weekday(), ())

    def has_any_hours(self) -> bool:
        return self.always_open or any(self.hours.get(d) for d in range(7))


_warned_years: set[tuple[str, int]] = set()


def _warn_missing_year(name: str, year: int) -> None:
    if (name, year) not in _warned_years:
        _warned_years.add((name, year))
        logger.warning(
            "calendar %s has no official holiday data for %s; using weekday rules", name, year
        )


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The absolute instant of ``minute`` after local midnight of ``day`` (wall-clock time).

    A wall time that does not exist (inside a spring-forward gap) maps forward past the gap; an
    ambiguous one (fall-back) takes its first occurrence — both what ``fold=0`` does.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def working_periods(calendar: WorkingCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The day's working intervals as absolute (UTC) instants, in order, empty ones dropped."""
    zone = calendar.zone
    periods = []
    for start, end in sorted(calendar.intervals_on(day)):
        begin, finish = _local_instant(day, start, zone), _local_instant(day, end, zone)
        if finish > begin:
            periods.append((begin, finish))
    return periods


def _days(calendar: WorkingCalendar, instant: datetime, step: int) -> Iterator[date]:
    day = instant.astimezone(calendar.zone).date()
    # Start a day early (or late): a period of the neighbouring local day may still cover the
    # instant around DST changes and midnight-ending intervals.
    day -= timedelta(days=step)
    empty = 0
    while True:
        yield day
        if calendar.intervals_on(day):
            empty = 0
        else:
            empty += 1
            if empty > MAX_EMPTY_DAYS:
                raise NoWorkingTimeError(f"calendar {calendar.name!r} has no working time")
        day += timedelta(days=step)


def _require_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("business-time functions need aware datetimes")


def add_business_time(start: datetime, amount: timedelta, calendar: WorkingCalendar) -> datetime:
    """The instant ``amount`` of working time after ``start`` (before it, when negative)."""
    _require_aware(start)
    if not amount:
        return start
    if calendar.always_open:
        return start + amount
    if not calendar.has_any_hours():
        raise NoWorkingTimeError(f"calendar {calendar.name!r} has no working hours")
    start_utc = start.astimezone(UTC)
    remaining = abs(amount)
    if amount > timedelta(0):
        for day in _days(calendar, start_utc, 1):
            for begin, finish in working_periods(calendar, day):
                if finish <= start_utc:
                    continue
                begin = max(begin, start_utc)
                available = finish - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
    for day in _days(calendar, start_utc, -1):
        for begin, finish in reversed(working_periods(calendar, day)):
            if begin >= start_utc:
                continue
            finish = min(finish, start_utc)
            available = finish - begin
            if remaining <= available:
                return (finish - remaining).astimezone(start.tzinfo)
            remaining -= available
    raise AssertionError("unreachable: _days() never ends")  # pragma: no cover


def add_business_minutes(start: datetime, minutes: float, calendar: WorkingCalendar) -> datetime:
    return add_business_time(start, timedelta(minutes=minutes), calendar)


def business_time_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> timedelta:
    """Working time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    _require_aware(a, b)
    if b < a:
        return -business_time_between(b, a, calendar)
    if calendar.always_open:
        return b - a
    a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    last_day = b_utc.astimezone(calendar.zone).date() + timedelta(days=1)
    for day in _days(calendar, a_utc, 1):
        if day > last_day:
            break
        for begin, finish in working_periods(calendar, day):
            begin, finish = max(begin, a_utc), min(finish, b_utc)
            if finish > begin:
                total += finish - begin
    return total


def business_minutes_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> float:
    return business_time_between(a, b, calendar).total_seconds() / 60


def is_working_time(instant: datetime, calendar: WorkingCalendar) -> bool:
    """Whether ``instant`` lies in a working interval ``[start, end)``."""
    _require_aware(instant)
    if calendar.always_open:
        return True
    at = instant.astimezone(UTC)
    local_day = at.astimezone(calendar.zone).date()
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        for begin, finish in working_periods(calendar, day):
            if begin <= at < finish:
                return True
    return False


def is_working_day(day: date, calendar: WorkingCalendar) -> bool:
    return bool(calendar.intervals_on(day))


# --- working hours as stored in the database --------------------------------------------------

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_clock(value: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` is the end of the day."""
    hours_text, _, minutes_text = str(value).strip().partition(":")
    if not (hours_text.isdigit() and minutes_text.isdigit() and len(minutes_text) == 2):
        raise ValueError(f"{value!r} is not a time like 09:30")
    minutes = int(hours_text) * 60 + int(minutes_text)
    if int(minutes_text) >= 60 or minutes > MINUTES_PER_DAY:
        raise ValueError(f"{value!r} is not a time between 00:00 and 24:00")
    return minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_working_hours(data: Mapping[str, object]) -> dict[int, list[Interval]]:
    """``{"mon": [["09:00", "12:00"], ...], ...}`` → ``{0: [(540, 720), ...], ...}``.

    Raises ``ValueError`` naming the day for unknown keys, bad times, empty or overlapping
    intervals.
    """
    if not isinstance(data, Mapping):
        raise ValueError("working hours must map weekdays (mon … sun) to lists of intervals")
    unknown = set(data) - set(WEEKDAY_KEYS)
    if unknown:
        raise ValueError(f"unknown weekday keys: {', '.join(sorted(unknown))}")
    parsed: dict[int, list[Interval]] = {}
    for index, key in enumerate(WEEKDAY_KEYS):
        raw = data.get(key) or []
        if not isinstance(raw, list):
            raise ValueError(f"{key}: a list of [start, end] pairs")
        intervals = []
        for pair in raw:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(f"{key}: each interval is a [start, end] pair")
            start, end = parse_clock(pair[0]), parse_clock(pair[1])
            if end <= start:
                raise ValueError(f"{key}: {pair[0]}–{pair[1]} ends before it starts")
            intervals.append((start, end))
        intervals.sort()
        for (_s1, e1), (s2, _e2) in zip(intervals, intervals[1:], strict=False):
            if s2 < e1:
                raise ValueError(f"{key}: intervals overlap")
        if intervals:
            parsed[index] = intervals
    return parsed


def format_working_hours(hours: Mapping[int, Sequence[Interval]]) -> dict[str, list[list[str]]]:
    return {
        key: [[format_clock(s), format_clock(e)] for s, e in hours.get(index, ())]
        for index, key in enumerate(WEEKDAY_KEYS)
    }
