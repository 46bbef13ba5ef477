"""Domain events a work order raises. Plain values: the store drains them from the aggregate
(``WorkOrder.pull_events``) and maps them to contract events in the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.domain.values import Actor, Priority, TimeWindow, WorkOrderType


class EscalationKind(StrEnum):
    NOT_ARRANGED = "not_arranged"
    SUPERVISOR_CHECK = "supervisor_check"
    REMOTE_NOT_SOLVED = "remote_not_solved"
    ON_SITE_AT_RISK = "on_site_at_risk"
    APPOINTMENT_LATE = "appointment_late"
    PREMIUM_FIX_OVERDUE = "premium_fix_overdue"
    DEALER_NOT_ARRANGED = "dealer_not_arranged"


@dataclass(frozen=True, kw_only=True)
class WorkOrderEvent:
    work_order_id: str
    at: datetime
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class WorkOrderOpened(WorkOrderEvent):
    ticket_id: str | None
    type: WorkOrderType
    priority: Priority
    region_id: str
    on_site_by: datetime | None
    arrange_by: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderScheduled(WorkOrderEvent):
    appointment: TimeWindow


@dataclass(frozen=True, kw_only=True)
class WorkOrderAssigned(WorkOrderEvent):
    technician_id: str
    previous_technician_id: str | None
    appointment: TimeWindow
    reasons: tuple[str, ...]
    cost: tuple[tuple[str, float], ...]


@dataclass(frozen=True, kw_only=True)
class WorkOrderAccepted(WorkOrderEvent):
    technician_id: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderDeclined(WorkOrderEvent):
    technician_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class TravelStarted(WorkOrderEvent):
    technician_id: str


@dataclass(frozen=True, kw_only=True)
class TechnicianArrived(WorkOrderEvent):
    """The work started on site (``dispatch.work_order.started.v1``)."""

    technician_id: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderCompleted(WorkOrderEvent):
    technician_id: str | None
    remote: bool
    first_time_fix: bool


@dataclass(frozen=True, kw_only=True)
class WorkOrderIncomplete(WorkOrderEvent):
    technician_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderCancelled(WorkOrderEvent):
    reason: str
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class HandedToDealer(WorkOrderEvent):
    """An authorised service point got the job; it must accept and arrange it by ``accept_by``."""

    dealer_id: str
    centre_id: str
    reason: str
    accept_by: datetime


@dataclass(frozen=True, kw_only=True)
class DealerAccepted(WorkOrderEvent):
    dealer_id: str


@dataclass(frozen=True, kw_only=True)
class ReturnedByDealer(WorkOrderEvent):
    """The job came back from the dealer (declined, taken back, or not accepted in time)."""

    dealer_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RemoteSupportStarted(WorkOrderEvent):
    escalate_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class EscalatedToOnSite(WorkOrderEvent):
    reason: str
    on_site_by: datetime | None


@dataclass(frozen=True, kw_only=True)
class WorkOrderEscalated(WorkOrderEvent):
    kind: EscalationKind
    reason: str
    due_at: datetime
    dealer_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoanerRequested(WorkOrderEvent):
    """A loaner unit of the same grade goes to the site, free of charge (``dispatch.loaner.requested.v1``)."""

    model: str | None
    model_grade: str
    site_address: str
    region_id: str


@dataclass(frozen=True, kw_only=True)
class AppointmentRescheduled(WorkOrderEvent):
    """A moved appointment; ``notify_customer`` asks for the customer to be told of the new time."""

    previous: TimeWindow | None
    appointment: TimeWindow
    reason: str
    notify_customer: bool
    notice: timedelta | None
    moved_before_start: bool


@dataclass(frozen=True, kw_only=True)
class AppointmentConfirmed(WorkOrderEvent):
    """The customer agreed the appointment (``via`` says how: phone, sms, portal ...)."""

    appointment: TimeWindow
    via: str


@dataclass(frozen=True, kw_only=True)
class AppointmentLate(WorkOrderEvent):
    """The appointment's start passed with nobody on site and no move agreed before it."""

    appointment: TimeWindow
    technician_id: str | None
    minutes_late: int


@dataclass(frozen=True, kw_only=True)
class RequestUpdated(WorkOrderEvent):
    """The ticket behind the order changed (priority, site, the customer's availability), or the order now
    serves the ticket its own was merged into (``ticket``)."""

    changed: tuple[str, ...]
