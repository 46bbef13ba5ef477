"""Builders for the dispatch domain tests (fixtures: test modules cannot import from here).

Times start at ``T0`` (Tuesday 2026-03-10 08:00 UTC); the dispatcher is ``dispatcher-1`` and the
assigned technician ``tech-1``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.billing import Billing
from dispatch.domain.completion import CompletionReport, FaultCause, IncompleteReason, UsedPart
from dispatch.domain.network import RegionGrade
from dispatch.domain.technicians import Technician, weekday_shifts
from dispatch.domain.values import Actor, Capability, GeoPoint, Priority, Role, Skill, WorkOrderType
from dispatch.domain.work_orders import Site, UnitRef, WorkOrder, WorkOrderState

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # a Tuesday
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
CITY = GeoPoint(48.8566, 2.3522)


def _site(grade: RegionGrade = RegionGrade.B, region: str = "region-1", location: GeoPoint = CITY) -> Site:
    return Site("1 Rue de Rivoli, Paris", location, region, grade)


def _report(**overrides: Any) -> CompletionReport:
    values: dict[str, Any] = {
        "fault_code": "E42",
        "cause": FaultCause.PRODUCT_DEFECT,
        "actions": ("replaced compressor relay",),
        "labour_minutes": 50,
        "first_time_fix": True,
        "parts_used": (UsedPart("relay-7", 1, ("RL-0001",)),),
        "signature_ref": "sig-123",
        "photo_refs": ("photo-1",),
    }
    values.update(overrides)
    return CompletionReport(**values)


@pytest.fixture
def new_order() -> Callable[..., WorkOrder]:
    def build(**overrides: Any) -> WorkOrder:
        values: dict[str, Any] = {
            "id": "wo-1",
            "type": WorkOrderType.REPAIR,
            "priority": Priority.NORMAL,
            "site": _site(),
            "product_line": "air_conditioner",
            "at": T0,
            "actor": DISPATCHER,
            "ticket_id": "t-1",
            "unit": UnitRef("SN-1", "AC-9000", "premium-9k", installer_technician_id="tech-1"),
            "billing": Billing.warranty("ent-1"),
        }
        values.update(overrides)
        return WorkOrder.open(**values)

    return build


_PATH_TO: dict[WorkOrderState, list[str]] = {
    WorkOrderState.NEW: [],
    WorkOrderState.SCHEDULED: ["schedule"],
    WorkOrderState.ASSIGNED: ["assign"],
    WorkOrderState.ACCEPTED: ["assign", "accept"],
    WorkOrderState.EN_ROUTE: ["assign", "accept", "start_travel"],
    WorkOrderState.ON_SITE: ["assign", "accept", "start_travel", "arrive"],
    WorkOrderState.COMPLETED: ["assign", "accept", "start_travel", "arrive", "complete"],
    WorkOrderState.INCOMPLETE: ["assign", "accept", "start_travel", "arrive", "report_incomplete"],
    WorkOrderState.CANCELLED: ["cancel"],
    WorkOrderState.REMOTE_SUPPORT: ["start_remote_support"],
}


def _drive_to(state: WorkOrderState, order: WorkOrder) -> WorkOrder:
    """Take a fresh order (a remote support job for ``REMOTE_SUPPORT``) to ``state`` through the legal
    actions, at T0 + 10 min, for a one-hour visit by ``tech-1`` at T0 + 2 h."""
    at = T0 + timedelta(minutes=10)
    visit = Appointment.at(T0 + timedelta(hours=2), 60)
    actions: dict[str, Callable[[], object]] = {
        "schedule": lambda: order.schedule(visit, at=at, actor=DISPATCHER),
        "assign": lambda: order.assign("tech-1", visit, at=at, actor=DISPATCHER),
        "cancel": lambda: order.cancel(reason="customer_request", at=at, actor=DISPATCHER),
        "accept": lambda: order.accept(at=at, actor=TECH),
        "start_travel": lambda: order.start_travel(at=at, actor=TECH),
        "arrive": lambda: order.arrive(at=at, actor=TECH),
        "complete": lambda: order.complete(_report(), at=at, actor=TECH),
        "report_incomplete": lambda: order.report_incomplete(
            IncompleteReason.PARTS_NEEDED, at=at, actor=TECH
        ),
        "start_remote_support": lambda: order.start_remote_support(at=at, actor=DISPATCHER),
    }
    for step in _PATH_TO[state]:
        actions[step]()
    assert order.state is state
    return order


@pytest.fixture
def drive_to() -> Callable[[WorkOrderState, WorkOrder], WorkOrder]:
    return _drive_to


@pytest.fixture
def technician() -> Callable[..., Technician]:
    def build(id: str = "tech-1", **overrides: Any) -> Technician:
        values: dict[str, Any] = {
            "id": id,
            "name": f"Technician {id}",
            "home_centre_id": "centre-1",
            "region_ids": frozenset({"region-1"}),
            "skills": frozenset({Skill("air_conditioner", Capability.REPAIR)}),
            "shifts": weekday_shifts(range(7), time(8), time(17)),
            "home": CITY,
        }
        values.update(overrides)
        return Technician(**values)

    return build


@pytest.fixture
def make_site() -> Callable[..., Site]:
    return _site


@pytest.fixture
def make_report() -> Callable[..., CompletionReport]:
    return _report
