"""Certifications count for their product line and only while valid; a technician without shifts of their
own works to the home centre's calendar, holidays included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dispatch.domain.assignment.instant import assign_now
from dispatch.domain.assignment.model import Crew, Job
from dispatch.domain.technicians import STANDARD_WEEK, Certification, Technician
from dispatch.domain.values import Capability, GeoPoint, Skill, TimeWindow
from dispatch.planning import certification_of, technician_of
from kit.calendar import BusinessCalendar

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday
SITE = GeoPoint(48.8566, 2.3522)
REFRIGERANT = "refrigerant_handling"


def ac_job(**overrides: Any) -> Job:
    values: dict[str, Any] = {
        "id": "wo-1",
        "location": SITE,
        "region_id": "region-1",
        "required_skills": frozenset({Skill("air_conditioner", Capability.REPAIR)}),
        "duration_minutes": 60,
        "product_line": "air_conditioner",
        "required_certifications": frozenset({REFRIGERANT}),
        "due_at": NOW + timedelta(hours=2),
    }
    values.update(overrides)
    return Job(**values)


def test_only_a_certification_for_the_jobs_product_line_valid_on_the_day_counts(
    technician: Callable[..., Technician],
) -> None:
    certified = technician("certified", certifications=(Certification(REFRIGERANT, "air_conditioner"),))
    other_line = technician("other-line", certifications=(Certification(REFRIGERANT, "heat_pump"),))
    expired = technician(
        "expired",
        certifications=(Certification(REFRIGERANT, "air_conditioner", valid_until=date(2026, 3, 9)),),
    )
    not_yet = technician(
        "not-yet",
        certifications=(Certification(REFRIGERANT, "air_conditioner", valid_from=date(2026, 4, 1)),),
    )

    result = assign_now(
        ac_job(), [Crew.of(t, at=NOW) for t in (certified, other_line, expired, not_yet)], now=NOW
    )

    assert result.best is not None
    assert result.best.technician_id == "certified"
    assert f"certified for air_conditioner: {REFRIGERANT}" in result.best.reasons
    rejected = {r.technician_id: r.reasons for r in result.rejected}
    for refused in ("other-line", "expired", "not-yet"):
        assert rejected[refused] == (f"lacks valid certification(s) {REFRIGERANT} for air_conditioner",)


def test_a_certification_expiring_before_the_visit_day_does_not_count(
    technician: Callable[..., Technician],
) -> None:
    # free only tomorrow, when the certification has lapsed
    expiring = technician(
        "expiring",
        certifications=(Certification(REFRIGERANT, "air_conditioner", valid_until=NOW.date()),),
    )
    busy_today = Crew.of(expiring, at=NOW, busy=(TimeWindow(NOW, NOW + timedelta(hours=9)),))

    result = assign_now(ac_job(), [busy_today], now=NOW)

    assert result.best is None
    assert result.rejected[0].reasons == (
        f"certification(s) {REFRIGERANT} for air_conditioner not valid on 2026-03-11",
    )


def test_stored_certifications_read_with_their_line_and_dates_and_a_bare_name_for_every_line() -> None:
    stored = {
        "name": REFRIGERANT,
        "product_line": "air_conditioner",
        "valid_from": "2026-01-01",
        "valid_until": None,
    }
    assert certification_of(stored) == Certification(REFRIGERANT, "air_conditioner", None, date(2026, 1, 1))
    bare = certification_of("gas_safe")
    assert bare.covers("water_heater") and bare.valid_on(date(2040, 1, 1))


# --- working hours from the centre's calendar ------------------------------------------------------------

PARIS_OFFICE = BusinessCalendar(
    timezone="Europe/Paris",
    working_hours={day: (time(7), time(15)) for day in range(5)},
    holidays=frozenset({date(2026, 3, 11)}),
)


def row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "tech-9",
        "name": "Camille",
        "centre_id": "c-1",
        "region_ids": ["region-1"],
        "skills": ["repair:air_conditioner"],
        "certifications": [],
        "shifts": {},
        "timezone": "UTC",
        "active": True,
        "status": "available",
        "home_lat": 48.85,
        "home_lon": 2.34,
        "van_location_id": None,
        "dealer_id": None,
        "centre_calendar": PARIS_OFFICE.to_json(),
    }
    values.update(overrides)
    return values


def test_a_technician_without_shifts_works_the_centres_hours_and_not_on_its_holidays() -> None:
    tech = technician_of(row())
    tuesday_to_thursday = TimeWindow(
        datetime(2026, 3, 10, 0, 0, tzinfo=UTC), datetime(2026, 3, 13, 0, 0, tzinfo=UTC)
    )

    windows = tech.shift_windows(tuesday_to_thursday)

    # 07:00-15:00 Paris is 06:00-14:00 UTC in March; Wednesday the 11th is the centre's holiday
    assert windows == [
        TimeWindow(datetime(2026, 3, 10, 6, 0, tzinfo=UTC), datetime(2026, 3, 10, 14, 0, tzinfo=UTC)),
        TimeWindow(datetime(2026, 3, 12, 6, 0, tzinfo=UTC), datetime(2026, 3, 12, 14, 0, tzinfo=UTC)),
    ]


def test_own_shifts_win_over_the_centres_calendar_and_no_calendar_means_the_standard_week() -> None:
    own = technician_of(row(shifts={"2": [["10:00:00", "12:00:00"]]}))
    assert set(own.shifts) == {2}
    assert own.holidays == frozenset()
    without_calendar = technician_of(row(centre_calendar=None))
    assert without_calendar.shifts == STANDARD_WEEK


def test_a_centre_open_until_midnight_gives_shifts_until_midnight() -> None:
    late = BusinessCalendar(timezone="UTC", working_hours={1: (time(16), time(0))})
    tech = technician_of(row(centre_calendar=late.to_json()))
    tuesday = TimeWindow(datetime(2026, 3, 10, 0, 0, tzinfo=UTC), datetime(2026, 3, 11, 6, 0, tzinfo=UTC))
    assert tech.shift_windows(tuesday) == [
        TimeWindow(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), datetime(2026, 3, 11, 0, 0, tzinfo=UTC))
    ]
