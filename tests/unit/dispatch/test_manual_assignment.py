"""A dispatcher's own choice of technician is checked as the planner checks it: an inactive technician is
refused outright, any other problem refuses the choice with every problem listed, and an override assigns
anyway with the problems kept among the assignment's reasons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment.instant import assign_now
from dispatch.domain.assignment.manual import choice_problems, reasons_for_choice
from dispatch.domain.assignment.model import Crew, Job
from dispatch.domain.technicians import Absence, Certification, Technician, TechnicianStatus
from dispatch.domain.values import Actor, Capability, Role, Skill, TimeWindow
from dispatch.domain.work_orders import WorkOrder
from kit.calendar import BusinessCalendar
from kit.domain import Conflict

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday
TODAY_15H = TimeWindow(NOW + timedelta(hours=6), NOW + timedelta(hours=7))
TOMORROW_10H = TimeWindow(NOW + timedelta(days=1, hours=1), NOW + timedelta(days=1, hours=2))
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
REFRIGERANT = "refrigerant_handling"
MakeTech = Callable[..., Technician]
MakeOrder = Callable[..., WorkOrder]


@pytest.fixture
def job(new_order: MakeOrder) -> Job:
    """A repair of an air conditioner in region-1 that needs refrigerant handling."""
    return Job.from_work_order(new_order(required_certifications=[REFRIGERANT]))


def certified(valid_until: date | None = None) -> tuple[Certification, ...]:
    return (Certification(REFRIGERANT, "air_conditioner", valid_until=valid_until),)


def test_a_fit_technician_is_assigned_with_the_dispatchers_reasons(job: Job, technician: MakeTech) -> None:
    fit = technician(certifications=certified())

    assert choice_problems(job, fit, TODAY_15H, now=NOW) == ()
    assert reasons_for_choice(job, fit, TODAY_15H, now=NOW, actor=DISPATCHER) == ("chosen by the dispatcher",)
    assert reasons_for_choice(
        job, fit, TODAY_15H, now=NOW, actor=DISPATCHER, given=["the customer asked for her"]
    ) == ("the customer asked for her",)


def test_an_inactive_technician_is_refused_even_when_the_dispatcher_overrides(
    job: Job, technician: MakeTech
) -> None:
    gone = technician(certifications=certified()).with_status(TechnicianStatus.INACTIVE)

    with pytest.raises(Conflict) as refused:
        reasons_for_choice(job, gone, TODAY_15H, now=NOW, actor=DISPATCHER, override=True)

    assert refused.value.code == "technician-inactive"


def test_every_problem_is_listed_and_the_choice_refused_without_an_override(
    job: Job, technician: MakeTech
) -> None:
    unfit = technician(
        skills=frozenset({Skill("water_heater", Capability.REPAIR)}),
        region_ids=frozenset({"region-2"}),
    ).with_status(TechnicianStatus.OFF_DUTY, NOW - timedelta(hours=1))

    with pytest.raises(Conflict) as refused:
        reasons_for_choice(job, unfit, TODAY_15H, now=NOW, actor=DISPATCHER)

    assert refused.value.code == "assignment-needs-override"
    problems = [
        "technician is off duty since 2026-03-10 08:00 UTC",
        "lacks skill(s) repair:air_conditioner",
        "does not cover region region-1",
        f"lacks valid certification(s) {REFRIGERANT} for air_conditioner",
    ]
    assert refused.value.extra["problems"] == problems
    # overridden, each problem stays on the record as a reason of its own
    assert reasons_for_choice(job, unfit, TODAY_15H, now=NOW, actor=DISPATCHER, override=True) == (
        *(f"assigned by dispatcher despite: {problem}" for problem in problems),
        "chosen by the dispatcher",
    )


def test_an_override_assigns_and_records_what_it_overrides(
    job: Job, new_order: MakeOrder, technician: MakeTech
) -> None:
    on_break = technician(certifications=certified()).with_status(TechnicianStatus.ON_BREAK, NOW)
    order = new_order(required_certifications=[REFRIGERANT])

    reasons = reasons_for_choice(
        job, on_break, TODAY_15H, now=NOW, actor=DISPATCHER, given=["only one nearby"], override=True
    )
    order.assign(on_break.id, Appointment(TODAY_15H), at=NOW, actor=DISPATCHER, reasons=reasons)

    assert order.technician_id == on_break.id
    assert order.assignment is not None
    assert order.assignment.reasons == (
        "assigned by dispatcher despite: technician is on break since 2026-03-10 09:00 UTC",
        "only one nearby",
    )


def test_being_off_duty_or_on_a_break_now_says_nothing_about_a_visit_on_another_day(
    job: Job, technician: MakeTech
) -> None:
    for status in (TechnicianStatus.OFF_DUTY, TechnicianStatus.ON_BREAK):
        resting = technician(certifications=certified()).with_status(status, NOW)
        assert choice_problems(job, resting, TOMORROW_10H, now=NOW) == ()


def test_a_certification_must_be_valid_on_the_day_of_the_visit(job: Job, technician: MakeTech) -> None:
    expiring_today = technician(certifications=certified(valid_until=NOW.date()))

    assert choice_problems(job, expiring_today, TODAY_15H, now=NOW) == ()
    assert choice_problems(job, expiring_today, TOMORROW_10H, now=NOW) == (
        f"lacks valid certification(s) {REFRIGERANT} for air_conditioner",
    )


def test_an_absence_during_the_visit_or_on_its_day_is_a_problem(job: Job, technician: MakeTech) -> None:
    morning_off = Absence(TimeWindow(NOW, NOW + timedelta(hours=3)), "doctor")
    whole_day = Absence(TimeWindow(TODAY_15H.start - timedelta(hours=1), TODAY_15H.end), "training")

    same_day = technician(certifications=certified(), absences=(morning_off,))
    during = technician(certifications=certified(), absences=(whole_day,))

    assert choice_problems(job, same_day, TODAY_15H, now=NOW) == (
        "absent (doctor) on 2026-03-10, the day of the visit",
    )
    assert choice_problems(job, during, TODAY_15H, now=NOW) == ("absent (training) during the visit",)
    assert choice_problems(job, same_day, TOMORROW_10H, now=NOW) == ()


def test_the_day_of_the_visit_is_the_centre_calendars_for_a_technician_working_to_it(
    job: Job, technician: MakeTech
) -> None:
    # 23:30 UTC on the 10th is already the 11th in Tokyo, the day after the certification lapsed
    late = TimeWindow(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), datetime(2026, 3, 11, 0, 30, tzinfo=UTC))
    tokyo = BusinessCalendar(timezone="Asia/Tokyo", working_hours={d: (time(9), time(18)) for d in range(5)})
    in_tokyo = technician(certifications=certified(valid_until=date(2026, 3, 10))).working_to(tokyo)

    assert choice_problems(job, in_tokyo, late, now=NOW) == (
        f"lacks valid certification(s) {REFRIGERANT} for air_conditioner",
    )


def test_instant_assignment_refuses_with_the_same_words(job: Job, technician: MakeTech) -> None:
    unskilled = technician("unskilled", skills=frozenset(), certifications=certified())

    result = assign_now(job, [Crew.of(unskilled, at=NOW)], now=NOW)

    with pytest.raises(Conflict) as refused:
        reasons_for_choice(job, unskilled, TODAY_15H, now=NOW, actor=DISPATCHER)
    assert list(result.rejected[0].reasons) == refused.value.extra["problems"]
