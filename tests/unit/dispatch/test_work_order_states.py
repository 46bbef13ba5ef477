from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.billing import Billing
from dispatch.domain.completion import CompletionReport, IncompleteReason
from dispatch.domain.events import (
    EscalatedToOnSite,
    TechnicianArrived,
    WorkOrderAssigned,
    WorkOrderCompleted,
    WorkOrderOpened,
)
from dispatch.domain.values import Actor, Priority, Role, WorkOrderType
from dispatch.domain.work_orders import (
    IN_PLACE_ACTIONS,
    WORK_ORDER_STATES,
    WorkOrder,
    WorkOrderState,
    allowed_actions,
)
from kit.domain import Conflict, DomainError, Forbidden, IllegalTransition, Money

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
S = WorkOrderState

NewOrder = Callable[..., WorkOrder]
DriveTo = Callable[[WorkOrderState, WorkOrder], WorkOrder]


def visit(hours_from_t0: float = 2) -> Appointment:
    return Appointment.at(T0 + timedelta(hours=hours_from_t0), 60)


def attempt(order: WorkOrder, action: str, report: CompletionReport) -> None:
    at = T0 + timedelta(minutes=20)
    calls: dict[str, Callable[[], object]] = {
        "schedule": lambda: order.schedule(visit(3), at=at, actor=DISPATCHER),
        "assign": lambda: order.assign("tech-2", visit(3), at=at, actor=DISPATCHER),
        "accept": lambda: order.accept(at=at, actor=TECH),
        "decline": lambda: order.decline(reason="sick", at=at, actor=TECH),
        "start_travel": lambda: order.start_travel(at=at, actor=TECH),
        "arrive": lambda: order.arrive(at=at, actor=TECH),
        "complete": lambda: order.complete(report, at=at, actor=TECH),
        "report_incomplete": lambda: order.report_incomplete(IncompleteReason.OTHER, at=at, actor=TECH),
        "cancel": lambda: order.cancel(reason="duplicate", at=at, actor=DISPATCHER),
        "reschedule": lambda: order.reschedule(visit(4).window, reason="traffic", at=at, actor=DISPATCHER),
        "lock": lambda: order.lock(at=at, actor=DISPATCHER),
    }
    calls[action]()


TRIED = [
    "schedule",
    "assign",
    "accept",
    "decline",
    "start_travel",
    "arrive",
    "complete",
    "report_incomplete",
    "cancel",
    "reschedule",
    "lock",
]


def _legal(state: WorkOrderState, action: str) -> bool:
    allowed = allowed_actions(state)
    return action in allowed or (action == "assign" and "reassign" in allowed)


ILLEGAL = [(s, a) for s in S if s is not S.REMOTE_SUPPORT for a in TRIED if not _legal(s, a)]


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s.value}-{a}" for s, a in ILLEGAL])
def test_every_illegal_action_is_refused_with_the_allowed_actions(
    state: WorkOrderState,
    action: str,
    new_order: NewOrder,
    drive_to: DriveTo,
    make_report: Callable[..., CompletionReport],
) -> None:
    order = drive_to(state, new_order())
    version = order.version
    with pytest.raises(IllegalTransition) as refused:
        attempt(order, action, make_report())
    assert refused.value.allowed == allowed_actions(state)
    assert refused.value.state == state
    assert order.state is state
    assert order.version == version


def test_finished_orders_allow_nothing(new_order: NewOrder, drive_to: DriveTo) -> None:
    for state in (S.COMPLETED, S.INCOMPLETE, S.CANCELLED):
        assert drive_to(state, new_order()).allowed_actions() == []


def test_state_machine_and_in_place_actions_cover_every_open_state() -> None:
    for state in S:
        actions = set(WORK_ORDER_STATES.allowed_actions(state)) | {
            a for a, states in IN_PLACE_ACTIONS.items() if state in states
        }
        assert bool(actions) == (state not in (S.COMPLETED, S.INCOMPLETE, S.CANCELLED))


def test_full_visit_is_timestamped_attributed_and_raises_its_events(
    new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    order = new_order()
    order.assign("tech-1", visit(), at=T0 + timedelta(minutes=5), actor=DISPATCHER, reasons=("nearest",))
    order.accept(at=T0 + timedelta(minutes=6), actor=TECH)
    order.start_travel(at=T0 + timedelta(minutes=60), actor=TECH)
    order.arrive(at=T0 + timedelta(minutes=115), actor=TECH)
    order.complete(make_report(), at=T0 + timedelta(minutes=170), actor=TECH)

    assert order.state is S.COMPLETED
    assert [(r.action, r.actor.id) for r in order.history] == [
        ("assign", "dispatcher-1"),
        ("accept", "tech-1"),
        ("start_travel", "tech-1"),
        ("arrive", "tech-1"),
        ("complete", "tech-1"),
    ]
    assert order.history[3].at == T0 + timedelta(minutes=115)
    events = order.pull_events()
    assert [type(e) for e in events][:2] == [WorkOrderOpened, WorkOrderAssigned]
    assert isinstance(events[-2], TechnicianArrived)
    completed = events[-1]
    assert isinstance(completed, WorkOrderCompleted)
    assert completed.first_time_fix
    assert order.pull_events() == []
    assert order.report is not None
    assert order.report.parts_used[0].serials == ("RL-0001",)


def test_only_the_assigned_technician_reports_on_the_job(new_order: NewOrder) -> None:
    order = new_order()
    order.assign("tech-1", visit(), at=T0, actor=DISPATCHER)
    with pytest.raises(Forbidden):
        order.accept(at=T0, actor=Actor("tech-2", Role.TECHNICIAN))
    assert order.state is S.ASSIGNED


def test_completion_needs_the_customer_signature(
    new_order: NewOrder, drive_to: DriveTo, make_report: Callable[..., CompletionReport]
) -> None:
    order = drive_to(S.ON_SITE, new_order())
    with pytest.raises(DomainError, match="signature"):
        order.complete(make_report(signature_ref=None), at=T0 + timedelta(hours=1), actor=TECH)
    assert order.state is S.ON_SITE


def test_paid_work_needs_the_accepted_estimate_before_completion(
    new_order: NewOrder, drive_to: DriveTo, make_report: Callable[..., CompletionReport]
) -> None:
    order = drive_to(S.ON_SITE, new_order(billing=Billing.paid(Money(Decimal("120.00")))))
    with pytest.raises(DomainError, match="estimate"):
        order.complete(make_report(), at=T0 + timedelta(hours=1), actor=TECH)
    order.accept_estimate(at=T0 + timedelta(hours=1), actor=TECH)
    order.complete(make_report(), at=T0 + timedelta(hours=1), actor=TECH)
    assert order.state is S.COMPLETED


def test_a_locked_assignment_changes_only_by_override(new_order: NewOrder) -> None:
    order = new_order()
    order.assign("tech-1", visit(), at=T0, actor=DISPATCHER)
    order.lock(at=T0, actor=DISPATCHER)
    with pytest.raises(Conflict):
        order.assign("tech-2", visit(), at=T0, actor=DISPATCHER)
    order.assign("tech-2", visit(), at=T0, actor=DISPATCHER, override_lock=True)
    assert order.technician_id == "tech-2"
    assert not order.locked


def test_a_visit_outside_the_customers_availability_is_refused(new_order: NewOrder) -> None:
    from dispatch.domain.values import TimeWindow

    order = new_order(availability=(TimeWindow(T0 + timedelta(hours=4), T0 + timedelta(hours=8)),))
    with pytest.raises(DomainError, match="availability"):
        order.assign("tech-1", visit(1), at=T0, actor=DISPATCHER)
    order.assign("tech-1", visit(5), at=T0, actor=DISPATCHER)
    assert order.state is S.ASSIGNED


def test_declined_job_keeps_its_appointment_and_waits_for_another_technician(new_order: NewOrder) -> None:
    order = new_order()
    order.assign("tech-1", visit(), at=T0, actor=DISPATCHER)
    order.decline(reason="van broke down", at=T0 + timedelta(minutes=5), actor=TECH)
    assert order.state is S.SCHEDULED
    assert order.technician_id is None
    assert order.appointment == visit()


def test_remote_support_escalated_to_on_site_becomes_a_repair_with_a_fresh_on_site_clock(
    new_order: NewOrder,
) -> None:
    order = new_order(type=WorkOrderType.REMOTE_SUPPORT)
    assert order.deadlines.on_site_by is None
    with pytest.raises(DomainError):
        order.assign("tech-1", visit(), at=T0, actor=DISPATCHER)
    order.start_remote_support(at=T0, actor=DISPATCHER)
    with pytest.raises(IllegalTransition) as refused:
        order.arrive(at=T0, actor=TECH)
    assert refused.value.allowed == [
        "accept_estimate",
        "apply_entitlement",
        "cancel",
        "escalate",
        "escalate_to_on_site",
        "move_to_ticket",
        "resolve_remotely",
        "update_request",
    ]
    escalated_at = T0 + timedelta(hours=4)
    order.escalate_to_on_site(reason="not solved remotely", at=escalated_at, actor=DISPATCHER)
    assert order.state is S.NEW
    assert order.type is WorkOrderType.REPAIR
    assert order.deadlines.on_site_by == escalated_at + timedelta(hours=24)
    assert isinstance(order.pull_events()[-1], EscalatedToOnSite)


def test_incomplete_visit_opens_a_follow_up_for_the_same_unit(new_order: NewOrder, drive_to: DriveTo) -> None:
    order = drive_to(S.INCOMPLETE, new_order())
    follow_up = order.follow_up(id="wo-2", at=T0 + timedelta(hours=3), actor=DISPATCHER)
    assert follow_up.follow_up_of == "wo-1"
    assert follow_up.unit == order.unit
    assert follow_up.state is S.NEW
    assert follow_up.priority is Priority.NORMAL


def test_naive_times_are_refused(new_order: NewOrder) -> None:
    with pytest.raises(DomainError, match="timezone"):
        new_order(at=datetime(2026, 3, 10, 8, 0))
