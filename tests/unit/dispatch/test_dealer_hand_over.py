"""A job no company technician can make goes to the authorised service point covering the region, which
must accept it within 2 hours of receiving it, or it comes back to the dispatcher with an escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment import Crew, Job, assign_now
from dispatch.domain.dealers import own_technician_in_time, service_point_for
from dispatch.domain.escalation import Outcome, TimerKind, decide, fire, timers_for
from dispatch.domain.events import EscalationKind, HandedToDealer, ReturnedByDealer, WorkOrderEscalated
from dispatch.domain.network import CentreKind, RegionGrade, ServiceCentre
from dispatch.domain.technicians import Technician
from dispatch.domain.values import Actor, GeoPoint, Role
from dispatch.domain.work_orders import Site, WorkOrder, WorkOrderState
from kit.domain import Conflict, DomainError, Forbidden

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
DEALER = Actor("dealer-user", Role.DEALER)
NewOrder = Callable[..., WorkOrder]
HANDED = T0 + timedelta(minutes=20)


def handed(order: WorkOrder) -> WorkOrder:
    order.hand_to_dealer(
        dealer_id="dealer-7", centre_id="sp-7", reason="nobody in time", at=HANDED, actor=DISPATCHER
    )
    return order


def timer(order: WorkOrder, kind: TimerKind) -> tuple[TimerKind, datetime]:
    found = next(t for t in timers_for(order) if t.kind is kind)
    return found.kind, found.due_at


# --- who gets the job ------------------------------------------------------------------------------


def centre(id: str, *, dealer: str | None, regions: set[str], at: GeoPoint | None = None) -> ServiceCentre:
    kind = CentreKind.SERVICE_POINT if dealer else CentreKind.REGIONAL_CENTRE
    return ServiceCentre(id, id, kind, frozenset(regions), at, dealer)


def test_the_job_goes_to_the_nearest_service_point_covering_its_region() -> None:
    site = GeoPoint(48.85, 2.35)
    centres = [
        centre("own", dealer=None, regions={"paris"}),
        centre("far", dealer="d-far", regions={"paris"}, at=GeoPoint(48.0, 2.0)),
        centre("near", dealer="d-near", regions={"paris"}, at=GeoPoint(48.86, 2.36)),
        centre("elsewhere", dealer="d-lyon", regions={"lyon"}, at=GeoPoint(48.85, 2.35)),
    ]
    assert service_point_for("paris", centres, site=site).id == "near"
    assert service_point_for("paris", centres, site=site, chosen="far").dealer_id == "d-far"
    with pytest.raises(DomainError, match="not an authorised service point covering"):
        service_point_for("paris", centres, site=site, chosen="elsewhere")
    with pytest.raises(DomainError, match="no authorised service point covers region nice"):
        service_point_for("nice", centres, site=site)


def test_hand_over_is_for_when_no_company_technician_makes_the_deadline(
    new_order: NewOrder, technician: Callable[..., Technician], make_site: Callable[..., Site]
) -> None:
    order = new_order(site=make_site(RegionGrade.A))  # on site within 2 hours
    near = Crew.of(technician("near"), at=T0)
    far_away = Crew.of(technician("far", home=GeoPoint(45.76, 4.83)), at=T0)  # Lyon, hours away
    assert own_technician_in_time(assign_now(Job.from_work_order(order), [near, far_away], now=T0)) == "near"
    assert own_technician_in_time(assign_now(Job.from_work_order(order), [far_away], now=T0)) is None
    assert own_technician_in_time(assign_now(Job.from_work_order(order), [], now=T0)) is None


# --- the 2-hour acceptance rule --------------------------------------------------------------------


def test_a_dealer_has_2_hours_from_receiving_the_job_to_accept_it(new_order: NewOrder) -> None:
    order = handed(new_order())
    [event] = [e for e in order.pull_events() if isinstance(e, HandedToDealer)]
    assert event.accept_by == HANDED + timedelta(hours=2)
    assert order.awaiting_dealer
    assert timer(order, TimerKind.DEALER_ACCEPT_DUE) == (
        TimerKind.DEALER_ACCEPT_DUE,
        HANDED + timedelta(hours=2),
    )
    assert all(t.kind is not TimerKind.ARRANGE_DUE for t in timers_for(order))


def test_a_job_not_accepted_in_2_hours_comes_back_to_the_dispatcher_with_an_escalation(
    new_order: NewOrder,
) -> None:
    order = handed(new_order())
    order.pull_events()
    _, due = timer(order, TimerKind.DEALER_ACCEPT_DUE)
    t = next(t for t in timers_for(order) if t.kind is TimerKind.DEALER_ACCEPT_DUE)
    assert decide(order, t, due - timedelta(seconds=1)).outcome is Outcome.NOTHING

    decision = fire(order, t, due)
    assert decision.outcome is Outcome.BACK_TO_DISPATCHER
    assert order.dealer_id is None
    escalated, returned = order.pull_events()
    assert isinstance(escalated, WorkOrderEscalated)
    assert (escalated.kind, escalated.dealer_id) == (EscalationKind.DEALER_NOT_ARRANGED, "dealer-7")
    assert isinstance(returned, ReturnedByDealer)
    # back with the dispatcher, whose own arranging deadline has passed: the supervisor was just told,
    # so the passed deadline does not escalate a second time
    arrange = next(t for t in timers_for(order) if t.kind is TimerKind.ARRANGE_DUE)
    assert arrange.due_at == T0 + timedelta(hours=2)
    assert fire(order, arrange, due).outcome is Outcome.NOTHING
    assert [e.kind for e in order.escalations] == [EscalationKind.DEALER_NOT_ARRANGED]


def test_an_accepted_job_stays_with_the_dealer_who_must_still_arrange_it_in_time(new_order: NewOrder) -> None:
    order = handed(new_order())
    assert order.accept_for_dealer("dealer-7", at=HANDED + timedelta(minutes=30), actor=DEALER)
    assert not order.accept_for_dealer("dealer-7", at=HANDED + timedelta(minutes=40), actor=DEALER)
    assert all(t.kind is not TimerKind.DEALER_ACCEPT_DUE for t in timers_for(order))
    arrange = next(t for t in timers_for(order) if t.kind is TimerKind.ARRANGE_DUE)
    decision = fire(order, arrange, arrange.due_at)
    assert decision.escalation is EscalationKind.DEALER_NOT_ARRANGED
    assert order.dealer_id == "dealer-7"


def test_the_dealer_assigns_its_own_technician_and_dispatchers_must_take_the_job_back_first(
    new_order: NewOrder,
) -> None:
    order = handed(new_order())
    with pytest.raises(Conflict, match="take it back"):
        order.assign("tech-1", Appointment.at(T0 + timedelta(hours=3), 60), at=HANDED, actor=DISPATCHER)
    order.assign("dealer-tech", Appointment.at(T0 + timedelta(hours=3), 60), at=HANDED, actor=DEALER)
    assert order.state is WorkOrderState.ASSIGNED
    assert not any(t.kind in (TimerKind.ARRANGE_DUE, TimerKind.DEALER_ACCEPT_DUE) for t in timers_for(order))


def test_another_dealer_cannot_answer_for_the_job(new_order: NewOrder) -> None:
    order = handed(new_order())
    with pytest.raises(Forbidden):
        order.accept_for_dealer("dealer-8", at=HANDED, actor=DEALER)
    with pytest.raises(Forbidden):
        order.return_from_dealer(reason="not ours", at=HANDED, actor=DEALER, dealer_id="dealer-8")


def test_a_declined_job_returns_with_its_own_arranging_deadline(new_order: NewOrder) -> None:
    order = handed(new_order())
    assert order.deadlines.arrange_by == HANDED + timedelta(hours=2)
    assert order.return_from_dealer(
        reason="no technician free", at=HANDED, actor=DEALER, dealer_id="dealer-7"
    ) == ("dealer-7")
    assert order.dealer_id is None
    assert order.deadlines.arrange_by == T0 + timedelta(hours=2)
    with pytest.raises(DomainError, match="not with a dealer"):
        order.return_from_dealer(reason="again", at=HANDED, actor=DISPATCHER)


def test_a_job_is_with_one_dealer_at_a_time(new_order: NewOrder) -> None:
    order = handed(new_order())
    with pytest.raises(Conflict, match="already with dealer"):
        order.hand_to_dealer(dealer_id="dealer-8", centre_id="sp-8", reason="x", at=HANDED, actor=DISPATCHER)
