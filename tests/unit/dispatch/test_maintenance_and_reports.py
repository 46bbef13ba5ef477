from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from dispatch.domain.appointments import Appointment, late_check, reschedule
from dispatch.domain.completion import CompletionReport, IncompleteReason
from dispatch.domain.events import AppointmentRescheduled
from dispatch.domain.maintenance import MaintenancePlan, add_months, open_visit, visits_to_request
from dispatch.domain.network import RegionGrade
from dispatch.domain.reports import (
    JobFact,
    ShiftFact,
    VisitFact,
    compliance_by_grade,
    first_time_fix_rate,
    utilisation,
)
from dispatch.domain.values import Actor, Priority, Role, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import Site, UnitRef, WorkOrder, WorkOrderState
from kit.domain import DomainError

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)


# --- appointments ------------------------------------------------------------------------------------


def test_appointments_are_kept_to_the_minute() -> None:
    with pytest.raises(DomainError):
        Appointment(TimeWindow(T0 + timedelta(seconds=30), T0 + timedelta(hours=1)))


def test_rescheduling_needs_a_reason_and_tells_the_customer(new_order: Callable[..., WorkOrder]) -> None:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=3), 60), at=T0, actor=DISPATCHER)
    later = TimeWindow(T0 + timedelta(hours=5), T0 + timedelta(hours=6))
    with pytest.raises(DomainError, match="reason"):
        order.reschedule(later, reason=" ", at=T0 + timedelta(hours=1), actor=TECH)
    order.reschedule(later, reason="previous job overran", at=T0 + timedelta(hours=1), actor=TECH)
    moved = order.pull_events()[-1]
    assert isinstance(moved, AppointmentRescheduled)
    assert moved.notify_customer
    assert moved.moved_before_start
    assert moved.notice == timedelta(hours=2)
    assert order.appointment is not None
    assert order.appointment.times_moved == 1
    assert not order.appointment.confirmed


def test_a_move_after_the_start_is_recorded_as_not_in_time() -> None:
    old = Appointment.at(T0, 60)
    outcome = reschedule(
        old,
        TimeWindow(T0 + timedelta(hours=2), T0 + timedelta(hours=3)),
        reason="late",
        at=T0 + timedelta(minutes=5),
    )
    assert not outcome.moved_before_start
    assert outcome.notice is None


def test_late_check_flags_an_appointment_not_started_by_its_start(
    new_order: Callable[..., WorkOrder],
) -> None:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=3), 60), at=T0, actor=DISPATCHER)
    assert late_check(order, T0 + timedelta(hours=3) - timedelta(seconds=1)) is None
    late = late_check(order, T0 + timedelta(hours=3, minutes=12))
    assert late is not None
    assert late.minutes_late == 12


# --- maintenance plans -------------------------------------------------------------------------------


@pytest.fixture
def plan(make_site: Callable[..., Site]) -> MaintenancePlan:
    return MaintenancePlan(
        id="mp-1",
        unit=UnitRef("SN-1", "AC-9000", "premium-9k"),
        product_line="air_conditioner",
        customer_id="c-1",
        site=make_site(),
        starts_on=date(2026, 1, 31),
        ends_on=date(2028, 1, 31),
    )


def test_quarterly_visits_run_while_under_warranty(plan: MaintenancePlan) -> None:
    dates = plan.due_dates()
    assert dates[:3] == [date(2026, 4, 30), date(2026, 7, 31), date(2026, 10, 31)]
    assert dates[-1] == date(2028, 1, 31)
    assert len(dates) == 8
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_visits_are_requested_ahead_of_time_and_only_once(plan: MaintenancePlan) -> None:
    assert visits_to_request(plan, today=date(2026, 3, 30)) == []
    first = visits_to_request(plan, today=date(2026, 3, 31))
    assert [(v.sequence, v.due_on, v.key) for v in first] == [(1, date(2026, 4, 30), "mp-1:1")]
    assert visits_to_request(plan, today=date(2026, 4, 15), already_requested={1}) == []


def test_a_missed_visit_is_caught_up_as_overdue(plan: MaintenancePlan) -> None:
    missed = visits_to_request(plan, today=date(2026, 6, 1))
    assert [(v.sequence, v.overdue) for v in missed] == [(1, True)]


def test_a_visit_becomes_a_planned_maintenance_work_order(plan: MaintenancePlan) -> None:
    request = visits_to_request(plan, today=date(2026, 3, 31))[0]
    order = open_visit(
        plan, request, work_order_id="wo-m1", at=datetime(2026, 3, 31, 6, tzinfo=UTC), actor=Actor.system()
    )
    assert order.type is WorkOrderType.PREVENTIVE_MAINTENANCE
    assert order.priority is Priority.LOW
    assert order.availability == (request.window,)
    # planned work is due by the end of its window, not within the region's response time
    assert order.deadlines.on_site_by == request.window.end
    assert order.deadlines.arrange_by == request.window.end - timedelta(days=1)


# --- reports -----------------------------------------------------------------------------------------


def finished(
    order: WorkOrder, report: CompletionReport, *, arrive_after: timedelta, done_after: timedelta
) -> WorkOrder:
    order.assign(
        "tech-1", Appointment.at(T0 + timedelta(hours=1), 60), at=T0 + timedelta(minutes=10), actor=DISPATCHER
    )
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0, actor=TECH)
    order.arrive(at=T0 + arrive_after, actor=TECH)
    order.complete(report, at=T0 + done_after, actor=TECH)
    return order


def test_compliance_is_reported_per_region_grade(
    new_order: Callable[..., WorkOrder],
    make_site: Callable[..., Site],
    make_report: Callable[..., CompletionReport],
) -> None:
    on_time = finished(
        new_order(id="a", site=make_site(RegionGrade.A)),
        make_report(),
        arrive_after=timedelta(minutes=90),
        done_after=timedelta(hours=3),
    )
    late = finished(
        new_order(id="b", site=make_site(RegionGrade.A)),
        make_report(first_time_fix=False),
        arrive_after=timedelta(hours=3),
        done_after=timedelta(hours=8),
    )
    waiting = new_order(id="c", site=make_site(RegionGrade.B))
    now = T0 + timedelta(hours=10)
    report = compliance_by_grade([JobFact.of(o) for o in (on_time, late, waiting)], now=now)
    a = report[RegionGrade.A]
    assert (a.arranged_in_time.measured, a.arranged_in_time.met) == (2, 2)
    assert (a.on_site_in_time.measured, a.on_site_in_time.met) == (2, 1)
    assert (a.fixed_in_time.measured, a.fixed_in_time.met) == (2, 1)
    b = report[RegionGrade.B]
    # arranging was due 2 h after opening and has not happened; on site is not due yet
    assert (b.arranged_in_time.measured, b.arranged_in_time.met) == (1, 0)
    assert b.on_site_in_time.measured == 0
    assert b.on_site_in_time.rate is None
    assert report[RegionGrade.C].arranged_in_time.rate is None


def test_first_time_fix_rate_counts_incomplete_visits_as_not_fixed(
    new_order: Callable[..., WorkOrder], make_report: Callable[..., CompletionReport]
) -> None:
    fixed = finished(
        new_order(id="a"), make_report(), arrive_after=timedelta(hours=1), done_after=timedelta(hours=2)
    )
    second_visit = finished(
        new_order(id="b"),
        make_report(first_time_fix=False),
        arrive_after=timedelta(hours=1),
        done_after=timedelta(hours=2),
    )
    parts_missing = new_order(id="c")
    parts_missing.assign("tech-1", Appointment.at(T0 + timedelta(hours=1), 60), at=T0, actor=DISPATCHER)
    parts_missing.accept(at=T0, actor=TECH)
    parts_missing.start_travel(at=T0, actor=TECH)
    parts_missing.arrive(at=T0, actor=TECH)
    parts_missing.report_incomplete(IncompleteReason.PARTS_NEEDED, at=T0 + timedelta(hours=1), actor=TECH)
    assert parts_missing.state is WorkOrderState.INCOMPLETE
    rate = first_time_fix_rate([JobFact.of(o) for o in (fixed, second_visit, parts_missing)])
    assert (rate.measured, rate.met) == (3, 1)


def test_utilisation_is_travel_and_work_over_available_time() -> None:
    day = date(2026, 3, 10)
    result = utilisation(
        [ShiftFact("t1", day, 480), ShiftFact("t2", day, 240)],
        [VisitFact("t1", day, 30, 90), VisitFact("t1", day, 30, 210), VisitFact("t3", day, 10, 20)],
    )
    assert result["t1"].rate == pytest.approx(360 / 480)
    assert result["t1"].on_site_rate == pytest.approx(300 / 480)
    assert result["t2"].rate == 0
    assert result["t3"].rate is None
