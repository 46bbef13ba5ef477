"""What a technician is doing follows their visits and what they report, newest report first; the planner
does not send an urgent job to someone off duty, and plans them again from the next day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment.instant import assign_now
from dispatch.domain.assignment.model import Crew, Job
from dispatch.domain.completion import CompletionReport, IncompleteReason
from dispatch.domain.technicians import (
    Technician,
    TechnicianStatus,
    VisitStep,
    VisitStepKind,
    WorkingStatus,
    visit_steps,
)
from dispatch.domain.values import Actor, Capability, GeoPoint, Role, Skill, TimeWindow
from dispatch.domain.work_orders import WorkOrder
from kit.domain import Conflict, DomainError

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # a Tuesday
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
S = TechnicianStatus


def step(kind: VisitStepKind, minutes: int, work_order_id: str = "wo-1") -> VisitStep:
    return VisitStep("tech-1", work_order_id, kind, T0 + timedelta(minutes=minutes), "tech-1")


def test_a_visit_moves_the_technician_from_travelling_to_on_site_to_available() -> None:
    status = WorkingStatus(S.AVAILABLE, T0)

    travelling = status.after(step(VisitStepKind.STARTED_TRAVEL, 10))
    on_site = travelling.after(step(VisitStepKind.ARRIVED, 30))
    done = on_site.after(step(VisitStepKind.ENDED, 90))

    assert (travelling.status, travelling.since, travelling.work_order_id) == (
        S.TRAVELLING,
        T0 + timedelta(minutes=10),
        "wo-1",
    )
    assert (on_site.status, on_site.since, on_site.work_order_id) == (
        S.ON_SITE,
        T0 + timedelta(minutes=30),
        "wo-1",
    )
    assert (done.status, done.since, done.work_order_id) == (S.AVAILABLE, T0 + timedelta(minutes=90), None)


def test_a_step_reported_late_does_not_move_the_status_back() -> None:
    on_site = WorkingStatus(S.ON_SITE, T0 + timedelta(minutes=30), "wo-1")
    assert on_site.after(step(VisitStepKind.STARTED_TRAVEL, 10)) == on_site
    done = on_site.after(step(VisitStepKind.ENDED, 90))
    assert done.after(step(VisitStepKind.ARRIVED, 30)) == done


def test_the_end_of_an_earlier_visit_does_not_free_a_technician_travelling_to_the_next() -> None:
    travelling = WorkingStatus(S.TRAVELLING, T0 + timedelta(minutes=60), "wo-2")
    assert travelling.after(step(VisitStepKind.ENDED, 70, work_order_id="wo-1")) == travelling


def test_the_technician_sets_a_break_and_off_duty_but_not_during_a_visit() -> None:
    available = WorkingStatus(S.AVAILABLE, T0)
    on_break = available.reported(S.ON_BREAK, at=T0 + timedelta(hours=4))
    assert (on_break.status, on_break.since) == (S.ON_BREAK, T0 + timedelta(hours=4))

    on_site = WorkingStatus(S.ON_SITE, T0 + timedelta(hours=1), "wo-1")
    with pytest.raises(Conflict) as refused:
        on_site.reported(S.OFF_DUTY, at=T0 + timedelta(hours=2))
    assert refused.value.code == "visit-under-way"
    # a dispatcher clears it (the visit was sorted out by phone)
    cleared = on_site.overridden(S.AVAILABLE, at=T0 + timedelta(hours=2))
    assert (cleared.status, cleared.work_order_id) == (S.AVAILABLE, None)


@pytest.mark.parametrize("status", [S.TRAVELLING, S.ON_SITE, S.INACTIVE])
def test_visit_statuses_and_inactive_cannot_be_reported(status: TechnicianStatus) -> None:
    with pytest.raises(DomainError) as refused:
        WorkingStatus(S.AVAILABLE, T0).reported(status, at=T0 + timedelta(minutes=1))
    assert refused.value.code == "status-not-settable"


def test_reporting_the_status_held_keeps_the_time_it_began() -> None:
    on_break = WorkingStatus(S.ON_BREAK, T0)
    assert on_break.reported(S.ON_BREAK, at=T0 + timedelta(minutes=20)).since == T0


def test_a_visits_steps_are_read_from_the_events_it_raised(
    new_order: Callable[..., WorkOrder], make_report: Callable[..., CompletionReport]
) -> None:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=2), 60), at=T0, actor=DISPATCHER)
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0 + timedelta(hours=1), actor=TECH)
    order.arrive(at=T0 + timedelta(hours=2), actor=TECH)
    order.report_incomplete(IncompleteReason.PARTS_NEEDED, at=T0 + timedelta(hours=3), actor=TECH)

    steps = visit_steps(order.events, technician_id=order.technician_id)

    assert [(s.kind, s.at, s.technician_id) for s in steps] == [
        (VisitStepKind.STARTED_TRAVEL, T0 + timedelta(hours=1), "tech-1"),
        (VisitStepKind.ARRIVED, T0 + timedelta(hours=2), "tech-1"),
        (VisitStepKind.ENDED, T0 + timedelta(hours=3), "tech-1"),
    ]


def test_a_visit_cancelled_on_the_way_ends_the_travel(new_order: Callable[..., WorkOrder]) -> None:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=2), 60), at=T0, actor=DISPATCHER)
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0 + timedelta(hours=1), actor=TECH)
    order.pull_events()
    order.cancel(reason="customer_request", at=T0 + timedelta(hours=1, minutes=10), actor=DISPATCHER)

    [cancelled] = visit_steps(order.events, technician_id=order.technician_id)
    status = WorkingStatus(S.TRAVELLING, T0 + timedelta(hours=1), order.id).after(cancelled)

    assert (status.status, status.work_order_id) == (S.AVAILABLE, None)


# --- the planner ----------------------------------------------------------------------------------------


def urgent_job() -> Job:
    return Job(
        id="wo-9",
        location=GeoPoint(48.8566, 2.3522),
        region_id="region-1",
        required_skills=frozenset({Skill("air_conditioner", Capability.REPAIR)}),
        duration_minutes=60,
        product_line="air_conditioner",
        due_at=T0 + timedelta(hours=3),
    )


def test_an_off_duty_technician_gets_no_urgent_job_with_the_reason(
    technician: Callable[..., Technician],
) -> None:
    home = technician("home").with_status(S.OFF_DUTY, T0 - timedelta(hours=1))
    on_duty = technician("on-duty")
    on_break = technician("on-break").with_status(S.ON_BREAK, T0)

    result = assign_now(
        urgent_job(),
        [Crew.of(home, at=T0), Crew.of(on_duty, at=T0), Crew.of(on_break, at=T0)],
        now=T0,
    )

    assert result.best is not None
    assert result.best.technician_id in {"on-duty", "on-break"}
    rejected = {r.technician_id: r.reasons for r in result.rejected}
    assert rejected["home"] == ("technician is off duty since 2026-03-10 07:00 UTC",)


def test_off_duty_closes_the_rest_of_that_day_only(technician: Callable[..., Technician]) -> None:
    gone_home = technician("t").with_status(S.OFF_DUTY, T0 + timedelta(hours=5))  # 13:00
    two_days = TimeWindow(T0, T0 + timedelta(days=1, hours=9))

    windows = gone_home.working_windows(two_days)

    assert windows == [
        TimeWindow(T0, T0 + timedelta(hours=5)),
        TimeWindow(T0 + timedelta(days=1), T0 + timedelta(days=1, hours=9)),
    ]
