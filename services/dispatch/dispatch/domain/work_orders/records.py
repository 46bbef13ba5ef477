"""Value objects a work order is made of: where, which unit, and the records of what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatch.domain.events import EscalationKind
from dispatch.domain.network import RegionGrade
from dispatch.domain.values import Actor, GeoPoint
from dispatch.domain.work_orders.states import WorkOrderState


@dataclass(frozen=True)
class Site:
    address: str
    location: GeoPoint
    region_id: str
    grade: RegionGrade


@dataclass(frozen=True)
class UnitRef:
    """The installed unit the job is about, as the warranty service registered it."""

    serial: str
    model: str | None = None
    model_grade: str | None = None
    installer_technician_id: str | None = None


@dataclass(frozen=True)
class TransitionRecord:
    action: str
    from_state: WorkOrderState
    to_state: WorkOrderState
    at: datetime
    actor: Actor
    client_update_id: str | None = None


@dataclass(frozen=True)
class AssignmentRecord:
    """Who was assigned, by whom, and why (the reasons and cost breakdown the assignment gave)."""

    technician_id: str
    at: datetime
    actor: Actor
    reasons: tuple[str, ...] = ()
    cost: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class EscalationRecord:
    kind: EscalationKind
    due_at: datetime
    at: datetime
    reason: str
    actor: Actor
