"""Events produced by the dispatch service: work orders, their appointments, escalations and loaners."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from contracts.common import (
    Actor,
    Address,
    AttachmentRef,
    Billing,
    Code,
    ContractModel,
    FaultCause,
    GeoPoint,
    Id,
    LongText,
    Name,
    PartLine,
    PartNumber,
    Priority,
    ProductRef,
    RegionCode,
    SerialNumber,
    ServiceTier,
    ShortText,
    TimeWindow,
    UtcDateTime,
    WorkOrderType,
)
from contracts.envelope import EventPayload
from contracts.registry import event

WorkOrderNumber = Annotated[str, Field(min_length=1, max_length=32)]

EscalationKind = Literal[
    "not_arranged",
    "dealer_not_arranged",
    "supervisor_check",
    "remote_unresolved",
    "on_site_at_risk",
    "on_site_missed",
    "fix_at_risk",
    "fix_missed",
    "appointment_late",
]


class Appointment(ContractModel):
    """A visit agreed to the minute."""

    appointment_id: Id
    window: TimeWindow
    confirmed_with_customer: bool = False


class SlaDeadlines(ContractModel):
    """When the job must be arranged, reached and fixed, by the region grade and contract."""

    arrange_by: UtcDateTime | None = None
    contact_customer_by: UtcDateTime | None = None
    on_site_by: UtcDateTime | None = None
    fix_by: UtcDateTime | None = None
    remote_resolve_by: UtcDateTime | None = None


class AssignmentCost(ContractModel):
    """What the chosen assignment costs, as the optimiser measured it."""

    travel_minutes: int = Field(ge=0)
    travel_km: float | None = Field(default=None, ge=0)
    lateness_minutes: int = Field(default=0, ge=0)
    score: float | None = Field(default=None, description="The optimiser's objective value; lower is better")


class PartUsed(ContractModel):
    """A part fitted on the job, with the serials of the units fitted and where they came from."""

    part_number: PartNumber
    quantity: int = Field(ge=1, le=1000)
    serial_numbers: list[SerialNumber] = Field(default_factory=list, max_length=1000)
    location_id: Id | None = Field(
        default=None, description="Stock location it was taken from (van, warehouse)"
    )
    reservation_id: Id | None = None


class OldPartCollected(ContractModel):
    """A part removed from the unit and taken away by the technician."""

    part_number: PartNumber
    serial_number: SerialNumber | None = None
    quantity: int = Field(default=1, ge=1, le=1000)
    condition: Literal["defective", "damaged", "working", "unknown"] = "defective"
    return_required: bool = Field(default=True, description="Must go back to a warehouse (warranty evidence)")


class _WorkOrderEvent(EventPayload):
    work_order_id: Id
    work_order_number: WorkOrderNumber
    version: int = Field(ge=1)
    ticket_id: Id | None = Field(
        default=None, description="None for work not raised by a ticket (maintenance)"
    )
    dealer_id: Id | None = Field(
        default=None, description="The dealer / service point doing or owning the job"
    )


@event("dispatch.work_order.created.v1", subject="work_order_id")
class WorkOrderCreated(_WorkOrderEvent):
    """A work order was opened for a job a technician must do (on site or remotely).

    Emitted by dispatch from ``intake.ticket.created.v1`` when a technician is needed, from the
    API, or ahead of a planned maintenance visit. Inventory may pre-reserve ``expected_parts``;
    intake links it into the ticket's timeline.
    """

    type: WorkOrderType
    priority: Priority
    customer_id: Id
    product: ProductRef = Field(default_factory=ProductRef)
    required_skills: list[Code] = Field(default_factory=list, max_length=20)
    site: Address | None = None
    region_code: RegionCode | None = None
    region_grade: ServiceTier | None = None
    availability_windows: list[TimeWindow] = Field(default_factory=list, max_length=20)
    billing: Billing = "undetermined"
    deadlines: SlaDeadlines = Field(default_factory=SlaDeadlines)
    expected_parts: list[PartLine] = Field(default_factory=list, max_length=50)
    maintenance_plan_id: Id | None = None
    description: LongText | None = None
    created_at: UtcDateTime
    created_by: Actor


@event("dispatch.work_order.assigned.v1", subject="work_order_id")
class WorkOrderAssigned(_WorkOrderEvent):
    """A work order was given to a technician with an appointment, and why that technician.

    Emitted by dispatch after instant assignment, a batch optimiser run or a dispatcher's
    choice (also on reassignment). Inventory reserves ``expected_parts`` at ``van_location_id`` or
    the nearest warehouse; intake tells the customer; webhooks tells the service point.
    """

    technician_id: Id
    technician_name: Name | None = None
    service_center_id: Id | None = None
    van_location_id: Id | None = Field(default=None, description="The technician's van stock location")
    previous_technician_id: Id | None = None
    appointment: Appointment | None = Field(default=None, description="None for remote support")
    customer_id: Id
    type: WorkOrderType
    priority: Priority
    region_code: RegionCode | None = None
    site_location: GeoPoint | None = None
    expected_parts: list[PartLine] = Field(default_factory=list, max_length=50)
    method: Literal["instant", "optimiser", "manual", "dealer"]
    locked: bool = Field(default=False, description="A dispatcher fixed it; the optimiser leaves it alone")
    reasons: list[ShortText] = Field(default_factory=list, max_length=20)
    cost: AssignmentCost | None = None
    deadlines: SlaDeadlines = Field(default_factory=SlaDeadlines)
    assigned_at: UtcDateTime
    assigned_by: Actor


class _TechnicianStep(_WorkOrderEvent):
    technician_id: Id


@event("dispatch.work_order.accepted.v1", subject="work_order_id")
class WorkOrderAccepted(_TechnicianStep):
    """The assigned technician accepted the job in the mobile app.

    Emitted by dispatch. The ticket's timeline shows it; the "technician contacts the customer"
    clock is measured from assignment to here or to the first contact.
    """

    accepted_at: UtcDateTime


@event("dispatch.work_order.en_route.v1", subject="work_order_id")
class WorkOrderEnRoute(_TechnicianStep):
    """The technician set off to the site.

    Emitted by dispatch when the technician starts travel in the app. Intake (or a partner via
    webhooks) can tell the customer the expected arrival.
    """

    departed_at: UtcDateTime
    eta: UtcDateTime | None = None
    location: GeoPoint | None = None


@event("dispatch.work_order.arrived.v1", subject="work_order_id")
class WorkOrderArrived(_TechnicianStep):
    """The technician arrived on site.

    Emitted by dispatch. Reports measure the on-site target by region grade from it; the
    on-site escalation timer stops.
    """

    arrived_at: UtcDateTime
    on_site_by: UtcDateTime | None = None
    within_target: bool | None = None
    location: GeoPoint | None = None


@event("dispatch.work_order.started.v1", subject="work_order_id")
class WorkOrderStarted(_TechnicianStep):
    """Work on the job began, on site or as a remote support session.

    Emitted by dispatch. The remote-support four-hour clock starts here for remote jobs.
    """

    mode: Literal["on_site", "remote"]
    started_at: UtcDateTime


#: Why an appointment moved (the dispatch API takes the same values).
RescheduleReason = Literal[
    "customer_request",
    "technician_unavailable",
    "parts_unavailable",
    "previous_job_overran",
    "weather",
    "access_problem",
    "other",
]


@event("dispatch.work_order.rescheduled.v1", subject="work_order_id")
class WorkOrderRescheduled(_WorkOrderEvent):
    """A work order's appointment moved to a new time, with the reason.

    Emitted by dispatch when the customer, the technician or a parts delay moves the visit (a
    technician must do so before it starts). Intake notes it and checks the customer was told;
    inventory moves the reservation's need-by time.
    """

    technician_id: Id | None = None
    previous_appointment: Appointment | None = None
    appointment: Appointment
    reason: RescheduleReason
    note: ShortText | None = None
    customer_notified_at: UtcDateTime | None = None
    rescheduled_at: UtcDateTime
    rescheduled_by: Actor


@event("dispatch.work_order.completed.v1", subject="work_order_id")
class WorkOrderCompleted(_TechnicianStep):
    """The technician finished the job and filed the completion report.

    Emitted by dispatch from the app's complete action. Inventory consumes ``parts_used`` and
    expects each returnable old part back; warranty counts the repair for repeat failures and
    opens a claim for covered work by a service point; intake resolves the ticket; surveys
    schedules the call-back.
    """

    type: WorkOrderType
    customer_id: Id
    product: ProductRef = Field(default_factory=ProductRef)
    service_center_id: Id | None = None
    performed_by: Literal["company", "service_point"] = "company"
    billing: Billing
    mode: Literal["on_site", "remote"]
    fault_code: Code | None = Field(default=None, description="None for installations and maintenance")
    cause: FaultCause | None = None
    actions: list[ShortText] = Field(default_factory=list, max_length=30)
    resolution_summary: LongText | None = None
    parts_used: list[PartUsed] = Field(default_factory=list, max_length=100)
    old_parts: list[OldPartCollected] = Field(default_factory=list, max_length=100)
    labour_minutes: int = Field(ge=0, le=10_000)
    travel_minutes: int | None = Field(default=None, ge=0, le=10_000)
    travel_km: float | None = Field(default=None, ge=0, le=10_000)
    first_time_fix: bool
    customer_signature: AttachmentRef | None = None
    signed_by: Name | None = None
    photos: list[AttachmentRef] = Field(default_factory=list, max_length=30)
    loaner_id: Id | None = Field(default=None, description="A loaner unit left with the customer, if any")
    arrived_at: UtcDateTime | None = None
    started_at: UtcDateTime | None = None
    completed_at: UtcDateTime


@event("dispatch.work_order.incomplete.v1", subject="work_order_id")
class WorkOrderIncomplete(_TechnicianStep):
    """The technician left without finishing; a follow-up visit is needed.

    Emitted by dispatch when the job ends incomplete (parts missing, customer absent, second
    technician needed). Inventory consumes what was fitted and sources ``parts_needed``; dispatch
    plans the follow-up; intake keeps the ticket open.
    """

    reason: Literal[
        "parts_needed",
        "customer_absent",
        "needs_second_technician",
        "needs_further_diagnosis",
        "customer_declined_quote",
        "access_denied",
        "other",
    ]
    note: ShortText | None = None
    fault_code: Code | None = None
    cause: FaultCause | None = None
    parts_used: list[PartUsed] = Field(default_factory=list, max_length=100)
    old_parts: list[OldPartCollected] = Field(default_factory=list, max_length=100)
    parts_needed: list[PartLine] = Field(default_factory=list, max_length=50)
    labour_minutes: int = Field(ge=0, le=10_000)
    photos: list[AttachmentRef] = Field(default_factory=list, max_length=30)
    follow_up_work_order_id: Id | None = None
    reported_at: UtcDateTime


@event("dispatch.work_order.cancelled.v1", subject="work_order_id")
class WorkOrderCancelled(_WorkOrderEvent):
    """A work order was cancelled before it was done.

    Emitted by dispatch when its ticket is cancelled or merged, or a dispatcher cancels it.
    Inventory releases its reservations; the technician's calendar slot frees up.
    """

    technician_id: Id | None = None
    reason: Literal[
        "ticket_cancelled", "ticket_merged", "duplicate", "solved_remotely", "customer_request", "other"
    ]
    note: ShortText | None = None
    cancelled_at: UtcDateTime
    cancelled_by: Actor


@event("dispatch.work_order.escalated.v1", subject="work_order_id")
class WorkOrderEscalated(_WorkOrderEvent):
    """A work order missed, or is about to miss, a service-level deadline and was escalated.

    Emitted by dispatch's timers: not arranged in time, supervisor check, remote support not
    solved in 4 hours, on-site or fix deadline at risk. The supervisor's board shows it;
    intake records it on the ticket.
    """

    kind: EscalationKind
    level: int = Field(default=1, ge=1, le=10)
    technician_id: Id | None = None
    region_grade: ServiceTier | None = None
    due_at: UtcDateTime
    detected_at: UtcDateTime
    escalated_to: Id | None = Field(
        default=None, description="The supervisor (or role queue) now responsible"
    )
    action_taken: Literal[
        "supervisor_notified",
        "converted_to_on_site",
        "loaner_requested",
        "reassigned",
        "customer_notified",
        "none",
    ] = "supervisor_notified"


@event("dispatch.work_order.handed_to_dealer.v1", subject="work_order_id")
class WorkOrderHandedToDealer(_WorkOrderEvent):
    """A work order was handed to an authorised service point (``dealer_id``) to do.

    Emitted by dispatch when no company technician can make the on-site deadline. Webhooks tells
    the service point, which must accept and arrange it by ``accept_by`` (2 hours); otherwise the
    job returns to dispatch with a ``dealer_not_arranged`` escalation.
    """

    service_center_id: Id
    customer_id: Id
    type: WorkOrderType
    priority: Priority
    product: ProductRef = Field(default_factory=ProductRef)
    site: Address | None = None
    region_code: RegionCode | None = None
    availability_windows: list[TimeWindow] = Field(default_factory=list, max_length=20)
    deadlines: SlaDeadlines = Field(default_factory=SlaDeadlines)
    accept_by: UtcDateTime
    reason: ShortText
    handed_at: UtcDateTime
    handed_by: Actor


# --- appointments ------------------------------------------------------------------------------


@event("dispatch.appointment.confirmed.v1", subject="appointment_id")
class AppointmentConfirmed(EventPayload):
    """The customer agreed an appointment for a work order.

    Emitted by dispatch when the appointment is confirmed (by phone, app or portal). Intake
    sends the confirmation; inventory knows when the parts must be at the van.
    """

    appointment_id: Id
    work_order_id: Id
    ticket_id: Id | None = None
    customer_id: Id
    technician_id: Id | None = None
    window: TimeWindow
    confirmed_via: Literal["phone", "sms", "email", "portal", "technician_app", "dealer"]
    dealer_id: Id | None = None
    confirmed_at: UtcDateTime


@event("dispatch.appointment.late.v1", subject="appointment_id")
class AppointmentLate(EventPayload):
    """An appointment's start passed without the technician arriving or moving it.

    Emitted by dispatch's late-detection timer. It escalates to the supervisor; intake calls the
    customer to agree a new time.
    """

    appointment_id: Id
    work_order_id: Id
    ticket_id: Id | None = None
    customer_id: Id
    technician_id: Id | None = None
    window: TimeWindow
    minutes_late: int = Field(ge=0)
    customer_notified: bool = False
    dealer_id: Id | None = None
    detected_at: UtcDateTime


# --- loaners -----------------------------------------------------------------------------------


@event("dispatch.loaner.requested.v1", subject="loaner_request_id")
class LoanerRequested(EventPayload):
    """A loaner unit of the same grade must go to the customer while theirs is repaired.

    Emitted by dispatch when a premium repair is not done within 4 hours (or a dispatcher
    decides). Inventory finds and issues a loaner of ``model_grade`` near ``site``.
    """

    loaner_request_id: Id
    work_order_id: Id
    ticket_id: Id | None = None
    customer_id: Id
    serial_number: SerialNumber | None = Field(default=None, description="The customer's unit under repair")
    model_code: Code | None = None
    product_line: Code | None = None
    model_grade: Code
    site: Address
    region_code: RegionCode | None = None
    needed_by: UtcDateTime
    reason: Literal["premium_fix_overdue", "repair_takes_long", "dispatcher_decision"]
    dealer_id: Id | None = None
    requested_at: UtcDateTime
    requested_by: Actor
