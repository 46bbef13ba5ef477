"""A stored work order is plain, versioned JSON and comes back exactly as it was, in every state."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dispatch import codec
from dispatch.domain.appointments import Appointment
from dispatch.domain.billing import Billing
from dispatch.domain.completion import CollectedPart, CompletionReport, IncompleteReason
from dispatch.domain.events import EscalationKind
from dispatch.domain.values import Actor, PartNeed, Role, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import WorkOrder, WorkOrderState
from kit.domain import Money

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
DEALER = Actor("dealer-user", Role.DEALER)
SYSTEM = Actor.system("dispatch-timers")
S = WorkOrderState
NewOrder = Callable[..., WorkOrder]


def visit(hours: int = 3) -> Appointment:
    return Appointment.at(T0 + timedelta(hours=hours), 60)


def assigned(order: WorkOrder) -> WorkOrder:
    order.assign(
        "tech-1",
        visit(),
        at=T0 + timedelta(minutes=5),
        actor=DISPATCHER,
        reasons=("closest", "installed this unit"),
        cost=(("travel_minutes", 12.0), ("total", 14.5)),
    )
    order.confirm_appointment(via="phone", at=T0 + timedelta(minutes=6), actor=DISPATCHER)
    order.lock(at=T0 + timedelta(minutes=7), actor=DISPATCHER)
    return order


def on_site(order: WorkOrder) -> WorkOrder:
    assigned(order)
    order.accept(at=T0 + timedelta(minutes=10), actor=TECH, client_update_id="u-accept")
    order.start_travel(at=T0 + timedelta(hours=2), actor=TECH, client_update_id="u-travel")
    order.arrive(at=T0 + timedelta(hours=3), actor=TECH, client_update_id="u-arrive")
    return order


def report(make_report: Callable[..., CompletionReport], **overrides: Any) -> CompletionReport:
    return make_report(
        old_parts_collected=(CollectedPart("relay-7", "OLD-1", True), CollectedPart("fan-2", None, False)),
        photo_refs=("photo-1", "photo-2"),
        notes="replaced the relay",
        **overrides,
    )


def in_every_state(new_order: NewOrder, make_report: Callable[..., CompletionReport]) -> dict[S, WorkOrder]:
    orders: dict[S, WorkOrder] = {}

    orders[S.NEW] = new_order(
        id="wo-new",
        needed_parts=(PartNeed("relay-7", 2),),
        availability=(TimeWindow(T0, T0 + timedelta(days=1)),),
        billing=Billing.paid(Money(Decimal("89.90"), "EUR"), entitlement_id="ent-9"),
        required_certifications=("refrigerant",),
    )
    orders[S.NEW].accept_estimate(at=T0 + timedelta(minutes=1), actor=DISPATCHER)
    orders[S.NEW].hand_to_dealer(
        dealer_id="dealer-7",
        centre_id="sp-7",
        reason="nobody in time",
        at=T0 + timedelta(minutes=2),
        actor=DISPATCHER,
    )
    orders[S.NEW].accept_for_dealer("dealer-7", at=T0 + timedelta(minutes=3), actor=DEALER)

    scheduled = new_order(
        id="wo-scheduled", billing=Billing.contract("c-1", premium=True, entitlement_id="e")
    )
    scheduled.schedule(visit(), at=T0, actor=DISPATCHER)
    scheduled.escalate(
        EscalationKind.NOT_ARRANGED,
        due_at=T0 + timedelta(hours=2),
        reason="late",
        at=T0 + timedelta(hours=2),
        actor=SYSTEM,
    )
    orders[S.SCHEDULED] = scheduled

    orders[S.ASSIGNED] = assigned(new_order(id="wo-assigned"))

    accepted = assigned(new_order(id="wo-accepted", billing=Billing.warranty("ent-1", date(2027, 1, 31))))
    accepted.accept(at=T0 + timedelta(minutes=10), actor=TECH, client_update_id="u-1")
    accepted.reschedule(
        TimeWindow(T0 + timedelta(hours=5), T0 + timedelta(hours=6)),
        reason="previous_job_overran",
        at=T0 + timedelta(hours=1),
        actor=TECH,
    )
    orders[S.ACCEPTED] = accepted

    en_route = assigned(new_order(id="wo-en-route"))
    en_route.accept(at=T0 + timedelta(minutes=10), actor=TECH)
    en_route.start_travel(at=T0 + timedelta(hours=2), actor=TECH, client_update_id="u-2")
    orders[S.EN_ROUTE] = en_route

    orders[S.ON_SITE] = on_site(new_order(id="wo-on-site"))
    orders[S.ON_SITE].request_loaner(at=T0 + timedelta(hours=7), actor=SYSTEM)

    completed = on_site(new_order(id="wo-completed"))
    completed.complete(report(make_report), at=T0 + timedelta(hours=4), actor=TECH, client_update_id="u-done")
    orders[S.COMPLETED] = completed

    incomplete = on_site(new_order(id="wo-incomplete"))
    incomplete.report_incomplete(
        IncompleteReason.PARTS_NEEDED,
        at=T0 + timedelta(hours=4),
        actor=TECH,
        report=report(make_report, first_time_fix=False),
    )
    orders[S.INCOMPLETE] = incomplete

    cancelled = new_order(
        id="wo-cancelled", planned_until=T0 + timedelta(days=20), maintenance_plan_id="mp-1"
    )
    cancelled.cancel(
        reason="maintenance plan cancelled: unit sold", at=T0 + timedelta(hours=1), actor=DISPATCHER
    )
    orders[S.CANCELLED] = cancelled

    remote = new_order(id="wo-remote", type=WorkOrderType.REMOTE_SUPPORT, unit=None)
    remote.start_remote_support(at=T0 + timedelta(minutes=1), actor=DISPATCHER)
    orders[S.REMOTE_SUPPORT] = remote
    return orders


def fields_of(order: WorkOrder) -> dict[str, Any]:
    return {
        f.name: getattr(order, f.name) for f in dataclasses.fields(order) if f.name not in codec.NOT_STORED
    }


def test_orders_are_built_in_every_state(
    new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    orders = in_every_state(new_order, make_report)
    assert {state for state, order in orders.items() if order.state is state} == set(S)


@pytest.mark.parametrize("state", list(S))
def test_a_stored_work_order_comes_back_exactly_as_it_was(
    state: S, new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    order = in_every_state(new_order, make_report)[state]
    order.pull_events()
    stored = json.loads(json.dumps(codec.work_order_json(order)))  # what the database hands back
    restored = codec.work_order_of(stored)
    assert fields_of(restored) == fields_of(order)
    assert restored.events == []
    assert restored.allowed_actions() == order.allowed_actions()


def test_the_document_is_readable_json_naming_its_format(
    new_order: NewOrder, make_report: Callable[..., CompletionReport]
) -> None:
    order = in_every_state(new_order, make_report)[S.COMPLETED]
    document = codec.work_order_json(order)
    assert document["codec"] == codec.CODEC_VERSION
    assert document["state"] == "completed"
    assert document["technician_id"] == "tech-1"
    assert document["report"]["parts_used"][0]["serials"] == ["RL-0001"]
    assert document["history"][-1]["action"] == "complete"
    assert document["required_skills"] == ["repair:air_conditioner"]


def test_every_stored_field_of_the_aggregate_is_in_the_document(new_order: NewOrder) -> None:
    stored = set(codec.work_order_json(new_order()))
    fields = {f.name for f in dataclasses.fields(WorkOrder)} - codec.NOT_STORED
    assert fields <= stored
    assert stored - fields == {"codec"}


def test_a_document_in_an_unknown_format_is_refused_not_guessed(new_order: NewOrder) -> None:
    document = codec.work_order_json(new_order())
    with pytest.raises(codec.UnknownSnapshotFormat):
        codec.work_order_of({**document, "codec": 2})
    with pytest.raises(codec.UnknownSnapshotFormat):
        codec.work_order_of({k: v for k, v in document.items() if k != "codec"})
