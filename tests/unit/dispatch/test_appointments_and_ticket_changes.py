"""Appointments confirmed with the customer and detected late; the ticket's changes reaching the order;
technician updates sent after a spell offline keeping their real time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.dispatch import AppointmentConfirmed as ContractConfirmed
from contracts.dispatch import AppointmentLate as ContractLate
from contracts.dispatch import WorkOrderEscalated as ContractEscalated
from contracts.dispatch import WorkOrderRescheduled
from dispatch import events
from dispatch.domain.appointments import Appointment
from dispatch.domain.completion import CompletionReport
from dispatch.domain.escalation import Outcome, TimerKind, fire, timers_for
from dispatch.domain.events import AppointmentConfirmed, AppointmentLate, EscalationKind, RequestUpdated
from dispatch.domain.maintenance import MaintenancePlan, next_request_on, visits_to_request
from dispatch.domain.network import RegionGrade
from dispatch.domain.reports import visit_fact
from dispatch.domain.values import Actor, GeoPoint, Priority, Role, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import Site, UnitRef, WorkOrder, WorkOrderState
from kit.domain import DomainError, Forbidden, IllegalTransition

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
AGENT = Actor("agent-1", Role.AGENT)
TECH = Actor("tech-1", Role.TECHNICIAN)
INTAKE = Actor.system("intake")
START = T0 + timedelta(hours=3)
FACTS = {"number": "WO-1", "site": None, "region_code": "region-1"}
NewOrder = Callable[..., WorkOrder]


def assigned(order: WorkOrder) -> WorkOrder:
    order.assign("tech-1", Appointment.at(START, 60), at=T0, actor=DISPATCHER)
    order.pull_events()
    return order


# --- confirmation ------------------------------------------------------------------------------------


def test_confirming_an_appointment_tells_everyone_once(new_order: NewOrder) -> None:
    order = assigned(new_order())
    assert order.confirm_appointment(via="phone", at=T0 + timedelta(minutes=5), actor=AGENT)
    assert not order.confirm_appointment(via="sms", at=T0 + timedelta(minutes=6), actor=AGENT)
    [confirmed] = order.pull_events()
    assert isinstance(confirmed, AppointmentConfirmed)
    payload = events.to_contract(confirmed, order, version=3, facts=FACTS)
    assert isinstance(payload, ContractConfirmed)
    assert (payload.confirmed_via, payload.window.start, payload.technician_id) == ("phone", START, "tech-1")
    assert order.appointment is not None
    assert order.appointment.confirmed_by == "agent-1"


def test_a_moved_appointment_needs_confirming_again_and_intake_tells_the_customer(
    new_order: NewOrder,
) -> None:
    order = assigned(new_order())
    order.confirm_appointment(via="phone", at=T0, actor=AGENT)
    later = TimeWindow(START + timedelta(hours=2), START + timedelta(hours=3))
    order.reschedule(later, reason="previous_job_overran", at=T0 + timedelta(hours=1), actor=TECH)
    moved = events.to_contract(order.pull_events()[-1], order, version=4, facts=FACTS)
    assert isinstance(moved, WorkOrderRescheduled)
    assert moved.customer_notified_at is None  # intake notifies
    assert moved.previous_appointment is not None
    assert moved.previous_appointment.confirmed_with_customer is False
    assert order.appointment is not None
    assert not order.appointment.confirmed
    # the customer asked for the move: nobody needs to tell them
    order.reschedule(
        TimeWindow(START + timedelta(hours=4), START + timedelta(hours=5)),
        reason="customer_request",
        at=T0 + timedelta(hours=1),
        actor=AGENT,
        notify_customer=False,
    )
    asked = events.to_contract(order.pull_events()[-1], order, version=5, facts=FACTS)
    assert isinstance(asked, WorkOrderRescheduled)
    assert asked.customer_notified_at == T0 + timedelta(hours=1)


def test_a_technician_moves_only_their_own_visits(new_order: NewOrder) -> None:
    order = assigned(new_order())
    with pytest.raises(Forbidden):
        order.reschedule(
            TimeWindow(START + timedelta(hours=2), START + timedelta(hours=3)),
            reason="weather",
            at=T0,
            actor=Actor("tech-2", Role.TECHNICIAN),
        )


# --- late detection --------------------------------------------------------------------------------


def test_a_technician_not_there_by_the_start_makes_the_appointment_late_and_escalates(
    new_order: NewOrder,
) -> None:
    order = assigned(new_order())
    order.accept(at=T0, actor=TECH)
    order.pull_events()
    timer = next(t for t in timers_for(order) if t.kind is TimerKind.APPOINTMENT_START)
    assert timer.due_at == START
    decision = fire(order, timer, START + timedelta(minutes=3))
    assert decision.outcome is Outcome.APPOINTMENT_LATE
    escalated, late = order.pull_events()
    assert isinstance(late, AppointmentLate)
    assert late.minutes_late == 3
    late_event = events.to_contract(late, order, version=4, facts=FACTS)
    assert isinstance(late_event, ContractLate)
    assert (late_event.minutes_late, late_event.window.start) == (3, START)
    escalation = events.to_contract(escalated, order, version=4, facts=FACTS)
    assert isinstance(escalation, ContractEscalated)
    assert escalation.kind == "appointment_late"
    # the timer firing again (a retry) reports nothing new
    fire(order, timer, START + timedelta(minutes=4))
    assert order.pull_events() == []


def test_an_appointment_moved_before_its_start_is_not_late(new_order: NewOrder) -> None:
    order = assigned(new_order())
    first = next(t for t in timers_for(order) if t.kind is TimerKind.APPOINTMENT_START)
    order.reschedule(
        TimeWindow(START + timedelta(hours=2), START + timedelta(hours=3)),
        reason="technician_unavailable",
        at=START - timedelta(minutes=30),
        actor=TECH,
    )
    assert fire(order, first, START + timedelta(minutes=1)).outcome is Outcome.NOTHING
    assert not order.has_escalated(EscalationKind.APPOINTMENT_LATE)


# --- the ticket changed ----------------------------------------------------------------------------


def test_a_ticket_change_moves_priority_site_and_windows_and_says_what_to_check(
    new_order: NewOrder, make_site: Callable[..., Site]
) -> None:
    order = assigned(new_order())
    before = order.deadlines.arrange_by
    new_site = make_site(RegionGrade.A, region="region-2", location=GeoPoint(48.9, 2.4))
    windows = [TimeWindow(T0 + timedelta(days=1), T0 + timedelta(days=1, hours=4))]
    attention = order.update_request(
        priority=Priority.URGENT,
        site=new_site,
        availability=windows,
        at=T0 + timedelta(minutes=5),
        actor=INTAKE,
    )
    assert order.priority is Priority.URGENT
    assert order.site == new_site
    assert order.deadlines.premium  # the new region is grade A
    assert order.deadlines.on_site_by == T0 + timedelta(hours=2)
    assert before != order.deadlines.arrange_by
    assert any("outside the customer's new availability" in text for text in attention)
    assert any("site changed" in text for text in attention)
    [updated] = order.pull_events()
    assert isinstance(updated, RequestUpdated)
    assert updated.changed == ("priority", "site", "availability")


def test_an_unchanged_ticket_changes_nothing(new_order: NewOrder) -> None:
    order = new_order()
    history = len(order.history)
    assert (
        order.update_request(
            priority=order.priority, site=order.site, availability=order.availability, at=T0, actor=INTAKE
        )
        == []
    )
    assert len(order.history) == history


def test_a_finished_order_is_not_changed_by_its_ticket(
    new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    order = new_order()
    order.cancel(reason="duplicate", at=T0, actor=DISPATCHER)
    with pytest.raises(IllegalTransition):
        order.update_request(priority=Priority.HIGH, site=order.site, availability=(), at=T0, actor=INTAKE)


# --- offline updates -------------------------------------------------------------------------------


def test_an_update_sent_after_a_spell_offline_keeps_the_time_it_happened(new_order: NewOrder) -> None:
    order = assigned(new_order())
    now = T0 + timedelta(hours=4)
    assert order.reported_time(None, now) == now
    assert order.reported_time(START - timedelta(minutes=2), now) == START - timedelta(minutes=2)
    # never before the order's previous step, never in the future
    assert order.reported_time(T0 - timedelta(hours=1), now) == order.history[-1].at
    with pytest.raises(DomainError, match="future"):
        order.reported_time(now + timedelta(minutes=10), now)


def test_a_finished_visit_counts_its_travel_and_time_on_site(
    new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    order = assigned(new_order())
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=START - timedelta(minutes=25), actor=TECH)
    order.arrive(at=START, actor=TECH)
    order.complete(make_report(), at=START + timedelta(minutes=50), actor=TECH)
    fact = visit_fact(order, "Europe/Paris")
    assert fact is not None
    assert (fact.technician_id, fact.travel_minutes, fact.on_site_minutes) == ("tech-1", 25, 50)
    assert fact.day == date(2026, 3, 10)
    assert order.state is WorkOrderState.COMPLETED
    assert visit_fact(new_order(id="other")) is None


# --- maintenance plans -----------------------------------------------------------------------------


@pytest.fixture
def plan(make_site: Callable[..., Site]) -> MaintenancePlan:
    return MaintenancePlan(
        id="mp-1",
        unit=UnitRef("SN-1", "AC-9000", "premium-9k"),
        product_line="air_conditioner",
        customer_id="c-1",
        site=make_site(),
        starts_on=date(2026, 1, 31),
        ends_on=date(2027, 1, 31),
        lead_days=21,
    )


def test_the_next_visit_is_requested_its_lead_time_before_it_is_due(plan: MaintenancePlan) -> None:
    assert next_request_on(plan) == date(2026, 4, 30) - timedelta(days=21)
    assert next_request_on(plan, already_requested={1}) == date(2026, 7, 31) - timedelta(days=21)
    assert next_request_on(plan, already_requested={1, 2, 3, 4}) is None
    assert [v.sequence for v in visits_to_request(plan, today=date(2026, 4, 9))] == [1]


def test_a_cancelled_plan_requests_nothing_more(plan: MaintenancePlan) -> None:
    cancelled = plan.cancel(reason="unit sold", at=T0)
    assert not cancelled.active
    assert cancelled.cancel(reason="again", at=T0 + timedelta(days=1)) is cancelled
    assert next_request_on(cancelled) is None
    assert visits_to_request(cancelled, today=date(2026, 4, 30)) == []
    with pytest.raises(DomainError):
        MaintenancePlan(
            id="bad",
            unit=plan.unit,
            product_line="x",
            customer_id="c",
            site=plan.site,
            starts_on=date(2026, 1, 1),
            ends_on=date(2027, 1, 1),
            lead_days=-1,
        )


def on_site(order: WorkOrder) -> WorkOrder:
    assigned(order)
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0, actor=TECH)
    order.arrive(at=START, actor=TECH)
    return order


def test_a_maintenance_visit_completes_without_a_fault_but_a_repair_needs_its_diagnosis(
    new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    undiagnosed = make_report(fault_code=None, cause=None, actions=("cleaned the filters",))
    repair = on_site(new_order(id="repair"))
    with pytest.raises(DomainError, match="fault code and cause"):
        repair.complete(undiagnosed, at=START + timedelta(hours=1), actor=TECH)
    maintenance = on_site(new_order(id="maintenance", type=WorkOrderType.PREVENTIVE_MAINTENANCE))
    maintenance.complete(undiagnosed, at=START + timedelta(hours=1), actor=TECH)
    completed = events.to_contract(maintenance.pull_events()[-1], maintenance, version=6, facts=FACTS)
    assert completed is not None
    assert (completed.fault_code, completed.cause) == (None, None)  # type: ignore[union-attr]
