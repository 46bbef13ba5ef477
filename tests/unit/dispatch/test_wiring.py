"""The service's wiring without infrastructure: contract events, stored snapshots, timers, row mapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.dispatch import EscalationKind as ContractEscalationKind
from contracts.dispatch import LoanerRequested, WorkOrderCompleted, WorkOrderCreated, WorkOrderEscalated
from dispatch import commands, events, store
from dispatch.app import service
from dispatch.domain.appointments import Appointment
from dispatch.domain.billing import BillingBasis
from dispatch.domain.completion import CompletionReport
from dispatch.domain.escalation import TimerKind
from dispatch.domain.events import EscalationKind
from dispatch.domain.values import Actor, Capability, Role, Skill
from dispatch.domain.work_orders import WorkOrder
from dispatch.planning import skill_of, technician_of

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
FACTS: dict[str, Any] = {
    "number": "WO-1",
    "site": {"line1": "1 Rue de Rivoli", "city": "Paris", "country": "FR"},
    "region_code": "region-1",
}


def _on_site(order: WorkOrder) -> WorkOrder:
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=2), 60), at=T0, actor=DISPATCHER)
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0 + timedelta(hours=1), actor=TECH)
    order.arrive(at=T0 + timedelta(hours=2), actor=TECH)
    return order


def test_opening_a_work_order_publishes_created_with_its_deadlines(
    new_order: Callable[..., WorkOrder],
) -> None:
    order = new_order()
    [payload] = [events.to_contract(e, order, version=1, facts=FACTS) for e in order.pull_events()]
    assert isinstance(payload, WorkOrderCreated)
    assert payload.deadlines.arrange_by == order.deadlines.arrange_by
    assert payload.billing == "warranty"
    assert payload.site is not None
    assert payload.site.city == "Paris"


def test_completed_event_carries_the_technicians_report(
    new_order: Callable[..., WorkOrder], make_report: Callable[..., CompletionReport]
) -> None:
    order = _on_site(new_order())
    order.pull_events()
    order.complete(make_report(), at=T0 + timedelta(hours=3), actor=TECH)
    [payload] = [events.to_contract(e, order, version=6, facts=FACTS) for e in order.pull_events()]
    assert isinstance(payload, WorkOrderCompleted)
    assert payload.fault_code == "E42"
    assert payload.cause == "product_defect"
    assert payload.parts_used[0].serial_numbers == ["RL-0001"]
    assert payload.customer_signature is not None
    assert payload.customer_signature.attachment_id == "sig-123"
    assert [p.attachment_id for p in payload.photos] == ["photo-1"]
    assert payload.labour_minutes == 50
    assert payload.first_time_fix is True
    assert payload.arrived_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize("kind", list(EscalationKind))
def test_every_escalation_kind_has_a_contract_kind(kind: EscalationKind) -> None:
    assert events.escalation_kind(kind) in ContractEscalationKind.__args__  # type: ignore[attr-defined]


def test_premium_fix_overdue_publishes_escalation_and_loaner_request(
    new_order: Callable[..., WorkOrder],
) -> None:
    order = new_order()
    order.pull_events()
    order.escalate(
        EscalationKind.PREMIUM_FIX_OVERDUE, due_at=T0, reason="overdue", at=T0, actor=Actor.system()
    )
    order.request_loaner(at=T0, actor=Actor.system())
    payloads = [events.to_contract(e, order, version=2, facts=FACTS) for e in order.pull_events()]
    assert isinstance(payloads[0], WorkOrderEscalated)
    assert payloads[0].action_taken == "loaner_requested"
    assert isinstance(payloads[1], LoanerRequested)
    assert payloads[1].model_grade == "premium-9k"


def test_every_work_order_timer_kind_and_the_maintenance_timer_have_a_handler() -> None:
    assert set(service.timers) == {store.timer_kind(kind) for kind in TimerKind} | {store.PLAN_TIMER}


def test_dispatch_consumes_tickets_entitlements_units_and_failed_reservations() -> None:
    assert service.handlers.types() == [
        "intake.ticket.cancelled.v1",
        "intake.ticket.created.v1",
        "intake.ticket.merged.v1",
        "intake.ticket.updated.v1",
        "inventory.reservation.failed.v1",
        "inventory.stock.changed.v1",
        "warranty.entitlement.determined.v1",
        "warranty.unit.registered.v1",
        "warranty.unit.updated.v1",
    ]


def test_a_stored_skill_reads_capability_then_product_line() -> None:
    assert skill_of("repair:water_heater") == Skill("water_heater", Capability.REPAIR)
    with pytest.raises(ValueError, match="welding"):
        skill_of("welding:water_heater")


def test_a_stored_technician_row_becomes_a_technician_with_default_week() -> None:
    row = {
        "id": "tech-9",
        "name": "Camille",
        "centre_id": "c-1",
        "region_ids": ["r-1"],
        "skills": ["installation:air_conditioner"],
        "shifts": {"0": [["07:00:00", "15:00:00"]]},
        "timezone": "UTC",
        "active": True,
        "home_lat": 48.8,
        "home_lon": 2.3,
        "van_location_id": "van-9",
        "dealer_id": None,
    }
    tech = technician_of(row)
    assert tech.covers_region("r-1")
    assert tech.skills == frozenset({Skill("air_conditioner", Capability.INSTALLATION)})
    assert set(tech.shifts) == {0}


def test_work_the_customer_pays_is_not_billed_to_the_warranty() -> None:
    decision = {"entitlement_id": "e-1", "contract_id": None, "premium_contract": False}
    assert commands.billing_from({**decision, "billing": "customer"}) is None
    covered = commands.billing_from({**decision, "billing": "warranty"})
    assert covered is not None
    assert covered.basis is BillingBasis.WARRANTY
    contract = commands.billing_from({**decision, "billing": "contract", "contract_id": "c-9"})
    assert contract is not None
    assert (contract.basis, contract.contract_id) == (BillingBasis.CONTRACT, "c-9")
