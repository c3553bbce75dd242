"""Business-time arithmetic: worked examples on the China calendar and properties (hypothesis)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.sla import deadlines, official
from kefu.sla.deadlines import (
    NoWorkingTimeError,
    WorkingCalendar,
    add_business_minutes,
    business_minutes_between,
    is_working_time,
    parse_working_hours,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = parse_working_hours(
    {d: [["09:00", "12:00"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
)


def china_calendar() -> WorkingCalendar:
    source = official.china()
    return WorkingCalendar(
        time_zone="Asia/Shanghai",
        hours=OFFICE,
        holidays=frozenset(source.holidays),
        extra_working_days=frozenset(source.working_days),
        years_with_data=source.years,
        name="China",
    )


CHINA = china_calendar()
# Hours that straddle the DST changes at 02:00/03:00 local time in Europe/Berlin.
BERLIN_NIGHTS = WorkingCalendar(
    time_zone="Europe/Berlin",
    hours=parse_working_hours(
        {
            "sat": [["00:00", "04:00"], ["22:00", "24:00"]],
            "sun": [["01:30", "03:30"], ["08:00", "12:00"]],
            "mon": [["09:00", "17:00"]],
        }
    ),
    holidays=frozenset({date(2026, 12, 28)}),
    name="Berlin nights",
)
ALWAYS = WorkingCalendar(always_open=True)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- worked examples ------------------------------------------------------------------------


def test_it_carries_an_evening_deadline_over_the_national_day_week():
    # Wednesday 30 September 2026, 17:30: 30 minutes left that day, then 1–7 October are
    # holidays; 6 h of medium first response ends on Thursday 8 October.
    due = add_business_minutes(at(2026, 9, 30, 17, 30), 6 * 60, CHINA)
    assert due == at(2026, 10, 8, 16, 0)


def test_it_works_on_the_make_up_sunday_with_mondays_hours():
    due = add_business_minutes(at(2026, 9, 20, 8, 0), 60, CHINA)
    assert due == at(2026, 9, 20, 10, 0)
    assert is_working_time(at(2026, 9, 20, 14, 0), CHINA)


def test_nothing_counts_during_the_mid_autumn_days():
    assert business_minutes_between(at(2026, 9, 25, 0, 0), at(2026, 9, 28, 0, 0), CHINA) == 0
    # Thursday 24 Sept 17:00 + 2 h: one hour that day, then Monday 28 September.
    assert add_business_minutes(at(2026, 9, 24, 17, 0), 120, CHINA) == at(2026, 9, 28, 10, 0)


def test_the_lunch_break_does_not_count():
    assert add_business_minutes(at(2026, 11, 23, 11, 0), 120, CHINA) == at(2026, 11, 23, 14, 30)
    assert business_minutes_between(at(2026, 11, 23, 11, 0), at(2026, 11, 23, 14, 30), CHINA) == 120


def test_a_year_without_official_data_falls_back_to_weekdays_with_a_warning(caplog):
    # chinese-calendar raises for 2027; the calendar treats 2027 by weekday rules and warns.
    deadlines._warned_years.discard(("China", 2027))
    with caplog.at_level(logging.WARNING, logger="kefu.sla.deadlines"):
        # A low ticket on Monday 28 December 2026: 24 business hours end on Thursday 31st.
        assert add_business_minutes(at(2026, 12, 28, 10, 0), 24 * 60, CHINA) == at(
            2026, 12, 31, 11, 30
        )
        # From Wednesday 30th they run into 2027: Friday 1 January counts as a weekday.
        assert add_business_minutes(at(2026, 12, 30, 10, 0), 24 * 60, CHINA) == at(
            2027, 1, 4, 11, 30
        )
    assert any("2027" in record.getMessage() for record in caplog.records)


def test_the_24x7_calendar_counts_every_minute():
    start = at(2026, 10, 1, 23, 0)
    assert add_business_minutes(start, 120, ALWAYS) == at(2026, 10, 2, 1, 0)
    assert business_minutes_between(start, at(2026, 10, 2, 1, 0), ALWAYS) == 120


def test_dst_changes_count_real_minutes():
    # Sunday 29 March 2026: Berlin skips 02:00–03:00, so 01:30–03:30 local lasts one hour.
    sunday = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    assert business_minutes_between(sunday, sunday + timedelta(hours=4), BERLIN_NIGHTS) == 60
    # Sunday 25 October 2026: 02:00–03:00 happens twice, so the interval lasts three hours.
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    assert business_minutes_between(autumn, autumn + timedelta(hours=5), BERLIN_NIGHTS) == 180


def test_results_do_not_depend_on_the_callers_time_zone():
    start = at(2026, 11, 23, 17, 0)
    due = add_business_minutes(start.astimezone(UTC), 90, CHINA)
    assert due == at(2026, 11, 24, 9, 30)


def test_subtracting_walks_backwards_over_the_weekend():
    assert add_business_minutes(at(2026, 11, 23, 9, 30), -60, CHINA) == at(2026, 11, 20, 17, 30)


def test_it_refuses_naive_datetimes_and_calendars_without_hours():
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(datetime(2026, 1, 1, 9, 0), 10, CHINA)  # noqa: DTZ001
    with pytest.raises(NoWorkingTimeError):
        add_business_minutes(at(2026, 1, 1, 9, 0), 10, WorkingCalendar())


def test_working_hours_are_validated():
    with pytest.raises(ValueError, match="overlap"):
        parse_working_hours({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]})
    with pytest.raises(ValueError, match="ends before"):
        parse_working_hours({"mon": [["12:00", "09:00"]]})
    with pytest.raises(ValueError, match="unknown weekday"):
        parse_working_hours({"monday": []})
    assert parse_working_hours({"sun": [["00:00", "24:00"]]}) == {6: [(0, 1440)]}


# --- properties -----------------------------------------------------------------------------

CALENDARS = st.sampled_from([CHINA, BERLIN_NIGHTS, ALWAYS])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 12, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2027, 2, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
MINUTES = st.integers(min_value=1, max_value=60 * 24 * 20)


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=INSTANTS, minutes=MINUTES)
def test_adding_then_measuring_round_trips(calendar, start, minutes):
    due = add_business_minutes(start, minutes, calendar)
    assert business_minutes_between(start, due, calendar) == pytest.approx(minutes)
    back = add_business_minutes(due, -minutes, calendar)
    assert business_minutes_between(back, due, calendar) == pytest.approx(minutes)


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=INSTANTS, minutes=MINUTES)
def test_a_deadline_never_falls_outside_working_time(calendar, start, minutes):
    due = add_business_minutes(start, minutes, calendar)
    # Inside an interval, or exactly at its end ("by 18:00").
    assert is_working_time(due - timedelta(microseconds=1), calendar)


@settings(max_examples=150, deadline=None)
@given(
    calendar=CALENDARS,
    start=INSTANTS,
    later=st.integers(min_value=0, max_value=60 * 24 * 10),
    minutes=MINUTES,
    more=st.integers(min_value=0, max_value=60 * 24 * 10),
)
def test_deadlines_are_monotonic(calendar, start, later, minutes, more):
    due = add_business_minutes(start, minutes, calendar)
    assert add_business_minutes(start, minutes + more, calendar) >= due
    assert add_business_minutes(start + timedelta(minutes=later), minutes, calendar) >= due
    end = start + timedelta(minutes=later)
    assert business_minutes_between(start, end + timedelta(minutes=more), calendar) >= (
        business_minutes_between(start, end, calendar)
    )
