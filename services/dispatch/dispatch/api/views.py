"""Response models (DTOs) of the dispatch API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import RowMapping

from dispatch import store
from dispatch.domain.technicians import TechnicianStatus, WorkingStatus
from dispatch.domain.work_orders import WorkOrder
from dispatch.events import billing_of


class WindowOut(BaseModel):
    start: datetime
    end: datetime


class AppointmentOut(WindowOut):
    confirmed_at: datetime | None = Field(description="When the customer agreed it; none until then")
    times_moved: int


class DealerOut(BaseModel):
    dealer_id: str
    centre_id: str | None
    handed_at: datetime | None
    accepted_at: datetime | None


class AssignmentOut(BaseModel):
    technician_id: str
    assigned_at: datetime
    assigned_by: str
    reasons: list[str]
    cost: dict[str, float]
    locked: bool


class EscalationOut(BaseModel):
    kind: str
    due_at: datetime
    at: datetime
    reason: str


class DeadlinesOut(BaseModel):
    arrange_by: datetime
    supervisor_check_at: datetime
    on_site_by: datetime | None
    fix_by: datetime | None
    remote_escalation_at: datetime | None
    premium: bool


class WorkOrderOut(BaseModel):
    id: str
    number: str
    version: int
    state: str
    type: str
    priority: str
    ticket_id: str | None
    customer_id: str | None
    dealer_id: str | None
    region_id: str
    product_line: str
    required_certifications: list[str] = Field(
        description="Certifications for the product line the technician must hold on the day of the visit"
    )
    technician_id: str | None
    appointment: AppointmentOut | None
    dealer: DealerOut | None = Field(description="The authorised service point the job was handed to")
    maintenance_plan_id: str | None
    follow_up_of: str | None = Field(description="The incomplete work order this one finishes")
    billing: str
    deadlines: DeadlinesOut
    assignment: AssignmentOut | None
    escalations: list[EscalationOut]
    allowed_actions: list[str]
    loaner_requested_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: RowMapping) -> WorkOrderOut:
        return cls.from_order(store.restore(row), number=row["number"], version=row["version"])

    @classmethod
    def from_order(cls, order: WorkOrder, *, number: str, version: int) -> WorkOrderOut:
        d = order.deadlines
        rec = order.assignment
        return cls(
            id=order.id,
            number=number,
            version=version,
            state=order.state.value,
            type=order.type.value,
            priority=order.priority.value,
            ticket_id=order.ticket_id,
            customer_id=order.customer_id,
            dealer_id=order.dealer_id,
            region_id=order.site.region_id,
            product_line=order.product_line,
            required_certifications=sorted(order.required_certifications),
            technician_id=order.technician_id,
            appointment=AppointmentOut(
                start=order.appointment.start,
                end=order.appointment.end,
                confirmed_at=order.appointment.confirmed_at,
                times_moved=order.appointment.times_moved,
            )
            if order.appointment
            else None,
            dealer=DealerOut(
                dealer_id=order.dealer_id,
                centre_id=order.dealer_centre_id,
                handed_at=order.handed_to_dealer_at,
                accepted_at=order.dealer_accepted_at,
            )
            if order.dealer_id
            else None,
            maintenance_plan_id=order.maintenance_plan_id,
            follow_up_of=order.follow_up_of,
            billing=billing_of(order),
            deadlines=DeadlinesOut(
                arrange_by=d.arrange_by,
                supervisor_check_at=d.supervisor_check_at,
                on_site_by=d.on_site_by,
                fix_by=d.fix_by,
                remote_escalation_at=d.remote_escalation_at,
                premium=d.premium,
            ),
            assignment=AssignmentOut(
                technician_id=rec.technician_id,
                assigned_at=rec.at,
                assigned_by=rec.actor.id,
                reasons=list(rec.reasons),
                cost=dict(rec.cost),
                locked=order.locked,
            )
            if rec
            else None,
            escalations=[
                EscalationOut(kind=e.kind.value, due_at=e.due_at, at=e.at, reason=e.reason)
                for e in order.escalations
            ],
            allowed_actions=order.allowed_actions(),
            loaner_requested_at=order.loaner_requested_at,
            finished_at=order.finished_at,
        )


class StatusOut(BaseModel):
    technician_id: str
    status: TechnicianStatus
    since: datetime | None
    work_order_id: str | None = Field(description="The visit the technician travels to or works on")
    kept: bool = Field(description="False when a later status was already held (a late report)")

    @classmethod
    def of(cls, technician_id: str, status: WorkingStatus, *, kept: bool) -> StatusOut:
        return cls(
            technician_id=technician_id,
            status=status.status,
            since=status.since,
            work_order_id=status.work_order_id,
            kept=kept,
        )


def plain(row: RowMapping) -> dict[str, Any]:
    return dict(row)
