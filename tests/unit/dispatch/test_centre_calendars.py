"""A centre's business calendar sets when its regions' service levels fall due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from dispatch.domain.network import DEFAULT_SERVICE_LEVELS, RegionGrade, counted_on
from dispatch.domain.values import Priority
from dispatch.domain.work_orders import Site, WorkOrder
from dispatch.store.network import calendar_json, calendar_of
from kit.calendar import BusinessCalendar
from kit.calendar_api import CalendarDto
from kit.domain import DomainError

# Monday 16 March 2026 is the centre's holiday
PARIS_OFFICE = BusinessCalendar(
    "Europe/Paris", dict.fromkeys(range(5), (time(8), time(18))), frozenset({date(2026, 3, 16)})
)
FRIDAY_17H_PARIS = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)  # one working hour left this week
TUESDAY_08H_PARIS = datetime(2026, 3, 17, 7, 0, tzinfo=UTC)


def test_a_deadline_skips_the_weekend_and_the_holiday_of_the_centre(
    new_order: Callable[..., WorkOrder], make_site: Callable[..., Site]
) -> None:
    policy, calendar = counted_on(PARIS_OFFICE)
    order = new_order(
        at=FRIDAY_17H_PARIS,
        site=make_site(RegionGrade.A),
        priority=Priority.NORMAL,
        policy=policy,
        calendar=calendar,
    )
    # arranged within 2 working hours, on site within 2 (grade A): one hour on Friday, the next on Tuesday
    assert order.deadlines.arrange_by == TUESDAY_08H_PARIS + timedelta(hours=1)
    assert order.deadlines.on_site_by == TUESDAY_08H_PARIS + timedelta(hours=1)
    # supervisor after 4 working hours: 1 on Friday, 3 on Tuesday
    assert order.deadlines.supervisor_check_at == TUESDAY_08H_PARIS + timedelta(hours=3)


def test_a_request_outside_hours_starts_counting_at_the_next_opening(
    new_order: Callable[..., WorkOrder], make_site: Callable[..., Site]
) -> None:
    policy, calendar = counted_on(PARIS_OFFICE)
    saturday = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    order = new_order(at=saturday, site=make_site(RegionGrade.B), policy=policy, calendar=calendar)
    assert order.deadlines.arrange_by == TUESDAY_08H_PARIS + timedelta(hours=2)
    # 24 working hours of a ten-hour day: Tuesday, Wednesday and four hours on Thursday
    assert order.deadlines.on_site_by == datetime(2026, 3, 19, 11, 0, tzinfo=UTC)


def test_a_centre_without_a_calendar_counts_on_the_wall_clock(
    new_order: Callable[..., WorkOrder], make_site: Callable[..., Site]
) -> None:
    policy, calendar = counted_on(None)
    assert policy == DEFAULT_SERVICE_LEVELS
    order = new_order(at=FRIDAY_17H_PARIS, site=make_site(RegionGrade.A), policy=policy, calendar=calendar)
    assert order.deadlines.arrange_by == FRIDAY_17H_PARIS + timedelta(hours=2)
    assert order.deadlines.on_site_by == FRIDAY_17H_PARIS + timedelta(hours=2)


def test_a_stored_calendar_reads_back_the_same() -> None:
    midnight_close = BusinessCalendar("Asia/Shanghai", {5: (time(9, 30), time(0))})
    for calendar in (PARIS_OFFICE, midnight_close):
        assert calendar_of(calendar_json(calendar)) == calendar


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus", "working_hours": {}},
        {"timezone": "Europe/Paris", "working_hours": {"0": {"opens": "18:00", "closes": "08:00"}}},
    ],
)
def test_an_impossible_calendar_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(DomainError):
        CalendarDto.model_validate(body).domain()
