from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.calendar import BusinessCalendar
from kit.domain import DomainError

BERLIN = ZoneInfo("Europe/Berlin")
GOOD_FRIDAY = date(2026, 4, 3)
EASTER_MONDAY = date(2026, 4, 6)

OFFICE = BusinessCalendar(
    timezone="Europe/Berlin",
    working_hours=dict.fromkeys(range(5), (time(8, 0), time(17, 0))),
    holidays=frozenset({GOOD_FRIDAY, EASTER_MONDAY}),
)
ROUND_THE_CLOCK_BERLIN = BusinessCalendar(
    timezone="Europe/Berlin", working_hours=dict.fromkeys(range(7), (time(0), time(0)))
)


def berlin(*args: int) -> datetime:
    """A Berlin wall time as the UTC instant the calendar takes and returns."""
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def test_opening_time_is_working_and_closing_time_is_not() -> None:
    assert OFFICE.is_working(berlin(2026, 3, 2, 8, 0))
    assert OFFICE.is_working(berlin(2026, 3, 2, 16, 59))
    assert not OFFICE.is_working(berlin(2026, 3, 2, 17, 0))
    assert not OFFICE.is_working(berlin(2026, 3, 2, 7, 59))


def test_weekends_and_holidays_are_not_working_time() -> None:
    assert not OFFICE.is_working(berlin(2026, 3, 7, 10, 0))  # Saturday
    assert not OFFICE.is_working(berlin(2026, 4, 3, 10, 0))  # Good Friday
    assert OFFICE.is_working(berlin(2026, 4, 2, 10, 0))  # the Thursday before


def test_working_time_target_started_late_friday_falls_due_monday_morning() -> None:
    due = OFFICE.add_working_time(berlin(2026, 3, 6, 16, 30), timedelta(hours=1))
    assert due == berlin(2026, 3, 9, 8, 30)


def test_working_time_target_skips_the_easter_holidays_and_weekend() -> None:
    due = OFFICE.add_working_time(berlin(2026, 4, 2, 16, 0), timedelta(hours=2))
    assert due == berlin(2026, 4, 7, 9, 0)


def test_working_time_target_across_spring_clock_change_keeps_wall_time() -> None:
    # Friday 16:00 CET is 15:00 UTC; Monday 09:00 CEST is 07:00 UTC.
    start = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    due = OFFICE.add_working_time(start, timedelta(hours=2))
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert OFFICE.working_time_between(start, due) == timedelta(hours=2)


def test_day_of_autumn_clock_change_has_25_working_hours_round_the_clock() -> None:
    saturday_noon = berlin(2026, 10, 24, 12, 0)
    assert ROUND_THE_CLOCK_BERLIN.add_working_time(saturday_noon, timedelta(hours=24)) == berlin(
        2026, 10, 25, 11, 0
    )
    assert ROUND_THE_CLOCK_BERLIN.working_time_between(
        berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)
    ) == timedelta(hours=25)


def test_target_started_outside_hours_runs_from_next_opening() -> None:
    assert OFFICE.add_working_time(berlin(2026, 3, 7, 10, 0), timedelta(minutes=10)) == berlin(
        2026, 3, 9, 8, 10
    )
    assert OFFICE.add_working_time(berlin(2026, 3, 9, 6, 0), timedelta(minutes=5)) == berlin(2026, 3, 9, 8, 5)


def test_target_used_up_exactly_at_closing_falls_due_at_closing() -> None:
    assert OFFICE.add_working_time(berlin(2026, 3, 9, 16, 0), timedelta(hours=1)) == berlin(2026, 3, 9, 17, 0)


def test_multi_day_working_target_counts_only_opening_hours() -> None:
    # 20 working hours from Monday 08:00 = Monday (9 h) + Tuesday (9 h) + 2 h on Wednesday.
    assert OFFICE.add_working_time(berlin(2026, 3, 9, 8, 0), timedelta(hours=20)) == berlin(
        2026, 3, 11, 10, 0
    )


def test_zero_duration_is_due_at_start_and_negative_is_refused() -> None:
    start = berlin(2026, 3, 7, 10, 0)
    assert OFFICE.add_working_time(start, timedelta(0)) == start
    with pytest.raises(DomainError):
        OFFICE.add_working_time(start, timedelta(minutes=-1))


def test_working_time_between_counts_only_open_hours() -> None:
    assert OFFICE.working_time_between(berlin(2026, 3, 6, 16, 0), berlin(2026, 3, 9, 9, 0)) == timedelta(
        hours=2
    )
    assert OFFICE.working_time_between(berlin(2026, 3, 7, 9, 0), berlin(2026, 3, 8, 18, 0)) == timedelta(0)
    assert OFFICE.working_time_between(berlin(2026, 3, 9, 9, 0), berlin(2026, 3, 9, 8, 0)) == timedelta(0)


def test_always_open_counts_elapsed_time() -> None:
    calendar = BusinessCalendar.always_open()
    start = datetime(2026, 12, 25, 23, 50, tzinfo=UTC)
    assert calendar.is_working(start)
    assert calendar.add_working_time(start, timedelta(minutes=15)) == start + timedelta(minutes=15)
    assert calendar.working_time_between(start, start + timedelta(days=3)) == timedelta(days=3)


def test_results_are_utc_even_for_inputs_in_another_zone() -> None:
    due = OFFICE.add_working_time(datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN), timedelta(minutes=30))
    assert due.tzinfo is UTC
    assert due == berlin(2026, 3, 9, 9, 30)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.is_working(datetime(2026, 3, 9, 9, 0))


def test_unknown_time_zone_and_inverted_hours_are_refused() -> None:
    with pytest.raises(DomainError, match="time zone"):
        BusinessCalendar(timezone="Mars/Olympus", working_hours={})
    with pytest.raises(DomainError, match="closes"):
        BusinessCalendar(timezone="UTC", working_hours={0: (time(17, 0), time(8, 0))})


def test_calendar_that_never_opens_cannot_count_working_time() -> None:
    closed = BusinessCalendar(timezone="UTC", working_hours={})
    with pytest.raises(DomainError) as refused:
        closed.add_working_time(datetime(2026, 3, 9, tzinfo=UTC), timedelta(minutes=1))
    assert refused.value.code == "calendar-never-opens"


def test_calendar_is_immutable_and_hashable() -> None:
    hours = {0: (time(8, 0), time(17, 0))}
    calendar = BusinessCalendar(timezone="UTC", working_hours=hours)
    hours[1] = (time(8, 0), time(17, 0))  # the caller's dict changing later changes nothing
    assert dict(calendar.working_hours) == {0: (time(8, 0), time(17, 0))}
    assert not calendar.is_working(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # Tuesday stays closed
    with pytest.raises(TypeError):
        calendar.working_hours[2] = (time(8, 0), time(17, 0))  # type: ignore[index]
    assert hash(calendar) == hash(
        BusinessCalendar(timezone="UTC", working_hours={0: (time(8, 0), time(17, 0))})
    )


@settings(max_examples=150, deadline=None)
@given(
    start_minutes=st.integers(min_value=0, max_value=60 * 24 * 60),
    duration_minutes=st.integers(min_value=0, max_value=60 * 60),
)
def test_working_time_between_start_and_due_is_the_duration(
    start_minutes: int, duration_minutes: int
) -> None:
    # Starts spread over Feb-Apr 2026 so the spring clock change and Easter are crossed.
    start = datetime(2026, 2, 20, tzinfo=UTC) + timedelta(minutes=start_minutes)
    duration = timedelta(minutes=duration_minutes)
    due = OFFICE.add_working_time(start, duration)
    assert due >= start
    assert OFFICE.working_time_between(start, due) == duration


def test_a_calendar_stored_as_json_reads_back_the_same() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin",
        working_hours={0: (time(8, 0), time(17, 30)), 5: (time(9, 0), time(12, 0))},
        holidays=frozenset({GOOD_FRIDAY, EASTER_MONDAY}),
    )
    stored = calendar.to_json()
    assert stored["working_hours"] == {"0": ["08:00", "17:30"], "5": ["09:00", "12:00"]}
    assert BusinessCalendar.from_json(stored) == calendar
