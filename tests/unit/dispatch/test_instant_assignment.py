from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest

from dispatch.domain.assignment.instant import assign_now
from dispatch.domain.assignment.model import Crew, Job
from dispatch.domain.technicians import Absence, Technician, TechnicianStatus, weekday_shifts
from dispatch.domain.values import Actor, Capability, GeoPoint, PartNeed, Role, Skill, TimeWindow
from dispatch.domain.work_orders import WorkOrder, WorkOrderState

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday
SITE = GeoPoint(48.8566, 2.3522)
REPAIR_AC = Skill("air_conditioner", Capability.REPAIR)
MakeTech = Callable[..., Technician]


def km_east(km: float) -> GeoPoint:
    return GeoPoint(SITE.lat, SITE.lon + km / 73.0)  # about 73 km per degree of longitude at Paris


def urgent_job(**overrides: object) -> Job:
    values: dict[str, object] = {
        "id": "wo-1",
        "location": SITE,
        "region_id": "region-1",
        "required_skills": frozenset({REPAIR_AC}),
        "duration_minutes": 60,
        "product_line": "air_conditioner",
        "due_at": NOW + timedelta(hours=2),
    }
    values.update(overrides)
    return Job(**values)  # type: ignore[arg-type]


def crew(technician: Technician, at: GeoPoint, **overrides: object) -> Crew:
    return Crew(technician, at, NOW, **overrides)  # type: ignore[arg-type]


def test_the_nearest_able_technician_is_chosen_with_reasons_and_cost(technician: MakeTech) -> None:
    result = assign_now(
        urgent_job(),
        [crew(technician("near"), km_east(5)), crew(technician("far"), km_east(40))],
        now=NOW,
    )
    assert result.best is not None
    assert result.best.technician_id == "near"
    assert [c.technician_id for c in result.runners_up] == ["far"]
    assert result.best.cost.travel_minutes < result.runners_up[0].cost.travel_minutes
    assert result.best.start >= NOW + timedelta(minutes=result.best.cost.travel_minutes)
    assert any("travel" in r for r in result.best.reasons)
    assert any("lowest cost of 2" in r for r in result.best.reasons)
    assert dict(result.best.cost_pairs())["total"] == pytest.approx(result.best.total, abs=0.01)


def test_technicians_without_the_skill_or_the_region_are_never_chosen(technician: MakeTech) -> None:
    unskilled = technician("unskilled", skills=frozenset({Skill("boiler", Capability.REPAIR)}))
    elsewhere = technician("elsewhere", region_ids=frozenset({"region-9"}))
    able = technician("able")
    result = assign_now(
        urgent_job(),
        [crew(unskilled, SITE), crew(elsewhere, SITE), crew(able, km_east(60))],
        now=NOW,
    )
    assert result.best is not None
    assert result.best.technician_id == "able"
    reasons = {r.technician_id: r.reasons for r in result.rejected}
    assert "lacks skill(s) repair:air_conditioner" in reasons["unskilled"]
    assert "does not cover region region-1" in reasons["elsewhere"]


def test_off_shift_and_absent_technicians_are_not_sent(technician: MakeTech) -> None:
    night_shift = technician("night", shifts=weekday_shifts(range(7), time(18), time(23)))
    on_leave = technician("leave", absences=(Absence(TimeWindow(NOW, NOW + timedelta(days=3)), "leave"),))
    inactive = technician("gone", status=TechnicianStatus.INACTIVE)
    day_shift = technician("day")
    result = assign_now(
        urgent_job(),
        [crew(night_shift, SITE), crew(on_leave, SITE), crew(inactive, SITE), crew(day_shift, km_east(30))],
        now=NOW,
    )
    assert result.best is not None
    assert result.best.technician_id == "day"
    night = next(c for c in result.runners_up if c.technician_id == "night")
    assert night.start >= datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    rejected = {r.technician_id: r.reasons for r in result.rejected}
    assert rejected["leave"] == ("absent (leave)",)
    assert rejected["gone"] == ("technician is inactive",)


def test_a_partial_absence_pushes_the_visit_after_it(technician: MakeTech) -> None:
    away = Absence(TimeWindow(NOW, NOW + timedelta(hours=3)), "medical appointment")
    result = assign_now(urgent_job(), [crew(technician("t", absences=(away,)), SITE)], now=NOW)
    assert result.best is not None
    assert result.best.start == NOW + timedelta(hours=3)
    assert result.best.cost.lateness_minutes == 60


def test_no_capacity_left_means_not_today(technician: MakeTech) -> None:
    tired = crew(technician("tired", daily_capacity_minutes=480), SITE, booked_minutes=450)
    result = assign_now(urgent_job(), [tired], now=NOW)
    assert result.best is not None
    assert result.best.start.date() > NOW.date()


def test_the_installer_of_the_unit_is_preferred_over_a_slightly_nearer_technician(
    technician: MakeTech,
) -> None:
    installer = technician("installer", installed_serials=frozenset({"SN-1"}))
    result = assign_now(
        urgent_job(unit_serial="SN-1"),
        [crew(technician("other"), km_east(4)), crew(installer, km_east(9))],
        now=NOW,
    )
    assert result.best is not None
    assert result.best.technician_id == "installer"
    assert "installed this unit" in result.best.reasons


def test_a_van_holding_the_needed_parts_is_preferred(technician: MakeTech) -> None:
    stocked = crew(technician("stocked"), km_east(9), van_stock={"relay-7": 2})
    empty = crew(technician("empty"), km_east(4))
    result = assign_now(urgent_job(needed_parts=(PartNeed("relay-7"),)), [empty, stocked], now=NOW)
    assert result.best is not None
    assert result.best.technician_id == "stocked"
    assert "van holds the needed parts" in result.best.reasons
    assert result.runners_up[0].cost.preference_cost > 0


def test_the_customers_availability_is_respected(technician: MakeTech) -> None:
    afternoon = TimeWindow(NOW + timedelta(hours=5), NOW + timedelta(hours=8))
    result = assign_now(urgent_job(windows=(afternoon,)), [crew(technician("t"), SITE)], now=NOW)
    assert result.best is not None
    assert result.best.start == afternoon.start


def test_applying_the_decision_assigns_the_work_order_with_its_reasons(
    technician: MakeTech, new_order: Callable[..., WorkOrder]
) -> None:
    order = new_order()
    result = assign_now(Job.from_work_order(order), [crew(technician("tech-1"), km_east(3))], now=NOW)
    result.apply_to(order, at=NOW, actor=Actor("dispatch", Role.SYSTEM))
    assert order.state is WorkOrderState.ASSIGNED
    assert order.technician_id == "tech-1"
    assert order.assignment is not None
    assert order.assignment.reasons == result.best.reasons
    assert dict(order.assignment.cost)["travel_minutes"] > 0
