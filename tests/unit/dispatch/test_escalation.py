from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dispatch.domain.appointments import Appointment
from dispatch.domain.escalation import Outcome, Timer, TimerKind, decide, fire, timers_for
from dispatch.domain.events import EscalationKind, LoanerRequested, WorkOrderEscalated
from dispatch.domain.network import RegionGrade
from dispatch.domain.values import Actor, Role, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import Site, WorkOrder, WorkOrderState

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
TICK = timedelta(microseconds=1)

NewOrder = Callable[..., WorkOrder]


def timer(order: WorkOrder, kind: TimerKind) -> Timer:
    return next(t for t in timers_for(order) if t.kind is kind)


def on_site(order: WorkOrder, arrived: datetime) -> WorkOrder:
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=1), 60), at=T0, actor=DISPATCHER)
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0, actor=TECH)
    order.arrive(at=arrived, actor=TECH)
    return order


def test_unarranged_job_escalates_to_the_supervisor_exactly_at_its_deadline(new_order: NewOrder) -> None:
    order = new_order()
    due = timer(order, TimerKind.ARRANGE_DUE)
    assert due.due_at == T0 + timedelta(hours=2)
    assert decide(order, due, due.due_at - TICK).outcome is Outcome.NOTHING
    decision = fire(order, due, due.due_at)
    assert decision.outcome is Outcome.ESCALATE
    assert decision.escalation is EscalationKind.NOT_ARRANGED
    escalated = order.pull_events()[-1]
    assert isinstance(escalated, WorkOrderEscalated)
    assert escalated.kind is EscalationKind.NOT_ARRANGED


def test_a_timer_firing_twice_escalates_once(new_order: NewOrder) -> None:
    order = new_order()
    due = timer(order, TimerKind.ARRANGE_DUE)
    fire(order, due, due.due_at)
    fire(order, due, due.due_at + timedelta(minutes=1))
    assert len(order.escalations) == 1


def test_stale_arrangement_timer_does_nothing_once_the_job_is_assigned(new_order: NewOrder) -> None:
    order = new_order()
    due = timer(order, TimerKind.ARRANGE_DUE)
    order.assign(
        "tech-1", Appointment.at(T0 + timedelta(hours=3), 60), at=T0 + timedelta(minutes=90), actor=DISPATCHER
    )
    assert all(t.kind is not TimerKind.ARRANGE_DUE for t in timers_for(order))
    assert fire(order, due, due.due_at).outcome is Outcome.NOTHING
    assert order.escalations == []


def test_supervisor_checks_a_job_still_unarranged_after_4_hours(new_order: NewOrder) -> None:
    order = new_order()
    check = timer(order, TimerKind.SUPERVISOR_CHECK)
    assert check.due_at == T0 + timedelta(hours=4)
    assert fire(order, check, check.due_at).escalation is EscalationKind.SUPERVISOR_CHECK


def test_remote_support_not_solved_in_4_hours_goes_on_site(new_order: NewOrder) -> None:
    order = new_order(type=WorkOrderType.REMOTE_SUPPORT)
    order.start_remote_support(at=T0, actor=DISPATCHER)
    due = timer(order, TimerKind.REMOTE_SUPPORT_DUE)
    assert due.due_at == T0 + timedelta(hours=4)
    assert decide(order, due, due.due_at - TICK).outcome is Outcome.NOTHING
    assert fire(order, due, due.due_at).outcome is Outcome.GO_ON_SITE
    assert order.state is WorkOrderState.NEW
    assert order.type is WorkOrderType.REPAIR
    assert order.has_escalated(EscalationKind.REMOTE_NOT_SOLVED)


def test_remote_support_solved_in_time_leaves_the_timer_stale(
    new_order: NewOrder, make_report: Callable[..., object]
) -> None:
    order = new_order(type=WorkOrderType.REMOTE_SUPPORT)
    order.start_remote_support(at=T0, actor=DISPATCHER)
    due = timer(order, TimerKind.REMOTE_SUPPORT_DUE)
    order.resolve_remotely(make_report(), at=T0 + timedelta(hours=3, minutes=59), actor=DISPATCHER)  # type: ignore[arg-type]
    assert fire(order, due, due.due_at).outcome is Outcome.NOTHING
    assert timers_for(order) == []


def test_premium_repair_not_fixed_4_hours_after_arrival_gets_a_loaner_once(
    new_order: NewOrder, make_site: Callable[..., Site]
) -> None:
    arrived = T0 + timedelta(minutes=100)
    order = on_site(new_order(site=make_site(RegionGrade.A)), arrived)
    due = timer(order, TimerKind.PREMIUM_FIX_DUE)
    assert due.due_at == arrived + timedelta(hours=4)
    assert decide(order, due, due.due_at - TICK).outcome is Outcome.NOTHING
    assert fire(order, due, due.due_at).outcome is Outcome.LOANER
    loaners = [e for e in order.pull_events() if isinstance(e, LoanerRequested)]
    assert len(loaners) == 1
    assert loaners[0].model_grade == "premium-9k"
    assert fire(order, due, due.due_at + timedelta(hours=1)).outcome is Outcome.NOTHING
    assert not any(isinstance(e, LoanerRequested) for e in order.pull_events())


def test_standard_repair_gets_no_loaner(new_order: NewOrder) -> None:
    order = on_site(new_order(), T0 + timedelta(hours=5))
    assert all(t.kind is not TimerKind.PREMIUM_FIX_DUE for t in timers_for(order))


def test_on_site_deadline_at_risk_escalates_30_minutes_before_it_unless_arrived(
    new_order: NewOrder, make_site: Callable[..., Site]
) -> None:
    order = new_order(site=make_site(RegionGrade.A))
    risk = timer(order, TimerKind.ON_SITE_AT_RISK)
    assert risk.due_at == T0 + timedelta(minutes=90)
    assert fire(order, risk, risk.due_at).escalation is EscalationKind.ON_SITE_AT_RISK

    arrived = on_site(new_order(id="wo-2", site=make_site(RegionGrade.A)), T0 + timedelta(minutes=80))
    assert fire(arrived, risk, risk.due_at).outcome is Outcome.NOTHING


def test_appointment_not_started_by_its_start_and_not_moved_escalates_as_late(new_order: NewOrder) -> None:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=3), 60), at=T0, actor=DISPATCHER)
    start = timer(order, TimerKind.APPOINTMENT_START)
    assert start.due_at == T0 + timedelta(hours=3)
    decision = fire(order, start, start.due_at + timedelta(minutes=7))
    assert decision.escalation is EscalationKind.APPOINTMENT_LATE
    assert "7 min late" in decision.reason


def test_appointment_moved_before_its_start_does_not_escalate(new_order: NewOrder) -> None:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=3), 60), at=T0, actor=DISPATCHER)
    old = timer(order, TimerKind.APPOINTMENT_START)
    later = TimeWindow(T0 + timedelta(hours=5), T0 + timedelta(hours=6))
    order.reschedule(later, reason="previous job overran", at=old.due_at - timedelta(minutes=1), actor=TECH)
    assert fire(order, old, old.due_at).outcome is Outcome.NOTHING
    assert timer(order, TimerKind.APPOINTMENT_START).due_at == later.start


def test_technician_on_site_at_the_appointment_start_is_not_late(new_order: NewOrder) -> None:
    order = on_site(new_order(), T0 + timedelta(minutes=59))
    late = Timer(order.id, TimerKind.APPOINTMENT_START, T0 + timedelta(hours=1))
    assert fire(order, late, late.due_at).outcome is Outcome.NOTHING


def test_finished_orders_need_no_timers(new_order: NewOrder) -> None:
    order = new_order()
    assert {t.kind for t in timers_for(order)} == {
        TimerKind.ARRANGE_DUE,
        TimerKind.SUPERVISOR_CHECK,
        TimerKind.ON_SITE_AT_RISK,
    }
    order.cancel(reason="duplicate ticket", at=T0, actor=DISPATCHER)
    assert timers_for(order) == []
