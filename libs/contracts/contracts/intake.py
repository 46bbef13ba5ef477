"""Events produced by the intake service: the customer file, tickets, their SLA clocks, calls, complaints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from contracts.common import (
    Actor,
    Address,
    AttachmentRef,
    Channel,
    Code,
    ContractModel,
    EmailContact,
    Id,
    LongText,
    Name,
    PhoneContact,
    Priority,
    ProductRef,
    RawPhoneNumber,
    Reason,
    RegionCode,
    ServiceTier,
    ShortText,
    TicketType,
    TimeWindow,
    UtcDateTime,
)
from contracts.envelope import EventPayload
from contracts.registry import event

TicketNumber = Annotated[str, Field(min_length=1, max_length=32, description="Human-readable, unique")]

SlaTargetName = Literal["acknowledge", "first_response", "technician_contact", "resolve", "supervisor_review"]
"""The response targets a ticket's SLA clocks measure (DESIGN.md §1, service levels)."""

TicketStatus = Literal[
    "new",
    "acknowledged",
    "in_progress",
    "waiting_customer",
    "waiting_parts",
    "waiting_third_party",
    "resolved",
    "closed",
    "cancelled",
    "merged",
]


class SlaTarget(ContractModel):
    """One response target of a ticket and when it falls due."""

    name: SlaTargetName
    due_at: UtcDateTime
    business_hours: bool = Field(default=False, description="Measured in the calendar's working time")


class TicketDetails(ContractModel):
    """The facts of a ticket other services act on; carried whole so consumers keep a local copy."""

    channel: Channel
    type: TicketType
    priority: Priority
    customer_id: Id
    customer_tier: ServiceTier | None = None
    product: ProductRef = Field(default_factory=ProductRef)
    purchase_date: date | None = Field(
        default=None, description="As the customer stated it, for a unit that is not registered"
    )
    subject: Annotated[str, Field(max_length=300)] | None = None
    fault_description: LongText | None = None
    site_address: Address | None = None
    region_code: RegionCode | None = None
    needs_on_site: bool = Field(description="A technician must visit (rather than phone/remote/consultation)")
    preferred_windows: list[TimeWindow] = Field(default_factory=list, max_length=20)
    contact_name: Name | None = None
    contact_phone: RawPhoneNumber | None = None
    owner_id: Id | None = Field(
        default=None, description="The agent who first took it and owns it until closed"
    )
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=50)


# --- customer file -----------------------------------------------------------------------------


class CustomerFacts(ContractModel):
    """The part of the customer file other services may copy."""

    kind: Literal["person", "company"]
    name: Name
    company_name: Name | None = None
    tier: ServiceTier
    phones: list[PhoneContact] = Field(default_factory=list, max_length=20)
    emails: list[EmailContact] = Field(default_factory=list, max_length=20)
    addresses: list[Address] = Field(default_factory=list, max_length=20)
    region_code: RegionCode | None = None
    preferred_language: Annotated[str, Field(max_length=16)] | None = None
    dealer_id: Id | None = Field(default=None, description="The dealer the customer bought through, if any")


@event("intake.customer.created.v1", subject="customer_id")
class CustomerCreated(EventPayload):
    """A customer was added to the customer file.

    Emitted by intake when an agent, a partner API or an inbound channel creates a customer.
    Warranty and dispatch keep a local copy (name, tier, region, contacts) for their decisions.
    """

    customer_id: Id
    version: int = Field(ge=1, description="Entity version; consumers ignore an older one than they hold")
    customer: CustomerFacts
    dealer_id: Id | None = None
    created_at: UtcDateTime
    created_by: Actor | None = None


@event("intake.customer.updated.v1", subject="customer_id")
class CustomerUpdated(EventPayload):
    """A customer's details changed (the whole current record travels, not a diff).

    Emitted by intake on every edit of the customer file. Consumers replace their local copy when
    ``version`` is newer than the one they hold.
    """

    customer_id: Id
    version: int = Field(ge=1)
    customer: CustomerFacts
    changed_fields: list[Code] = Field(default_factory=list, max_length=50)
    dealer_id: Id | None = None
    updated_at: UtcDateTime
    updated_by: Actor | None = None


@event("intake.customer.merged.v1", subject="customer_id")
class CustomersMerged(EventPayload):
    """Duplicate customers were merged into one surviving record.

    Emitted by intake after an agent merges duplicates. Consumers re-point units, work orders,
    claims and invitations from each merged id to ``customer_id``.
    """

    customer_id: Id = Field(description="The surviving customer")
    merged_customer_ids: list[Id] = Field(min_length=1, max_length=50)
    version: int = Field(ge=1)
    dealer_id: Id | None = None
    merged_at: UtcDateTime
    merged_by: Actor | None = None


# --- tickets -----------------------------------------------------------------------------------


@event("intake.ticket.created.v1", subject="ticket_id")
class TicketCreated(EventPayload):
    """A new service request (ticket) was opened.

    Emitted by intake once a request from any channel is recorded and its SLA clocks started.
    Warranty determines the entitlement for the unit; dispatch opens a work order when
    ``needs_on_site`` (or remote support) applies; webhooks tells the dealer concerned.
    """

    ticket_id: Id
    ticket_number: TicketNumber
    version: int = Field(ge=1)
    details: TicketDetails
    sla_targets: list[SlaTarget] = Field(default_factory=list, max_length=10)
    related_ticket_id: Id | None = Field(default=None, description="The original, for complaints and repeats")
    source_reference: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="The call id, Message-ID or fax id the ticket was opened from"
    )
    dealer_id: Id | None = None
    opened_at: UtcDateTime
    opened_by: Actor


@event("intake.ticket.updated.v1", subject="ticket_id")
class TicketUpdated(EventPayload):
    """A ticket's details changed: priority, product, site, windows, fault description or owner.

    Emitted by intake on each edit. Dispatch updates the open work order (site, windows,
    priority); warranty re-determines the entitlement when the product changed.
    """

    ticket_id: Id
    ticket_number: TicketNumber
    version: int = Field(ge=1)
    status: TicketStatus
    details: TicketDetails
    changed_fields: list[Code] = Field(default_factory=list, max_length=50)
    dealer_id: Id | None = None
    updated_at: UtcDateTime
    updated_by: Actor


@event("intake.ticket.acknowledged.v1", subject="ticket_id")
class TicketAcknowledged(EventPayload):
    """The customer was told their request was received (with its ticket number).

    Emitted by intake when the acknowledgement is sent or an agent takes the request. Reports
    measure the acknowledgement target (email 10 min, fax 5 min) from it.
    """

    ticket_id: Id
    ticket_number: TicketNumber
    version: int = Field(ge=1)
    channel: Channel
    method: Literal["auto_email", "auto_fax", "agent_reply", "phone", "sms", "portal"]
    customer_id: Id
    dealer_id: Id | None = None
    received_at: UtcDateTime
    acknowledged_at: UtcDateTime
    due_at: UtcDateTime | None = None
    within_target: bool | None = None
    acknowledged_by: Actor


class _TicketClosure(EventPayload):
    ticket_id: Id
    ticket_number: TicketNumber
    version: int = Field(ge=1)
    customer_id: Id
    type: TicketType
    dealer_id: Id | None = None
    opened_at: UtcDateTime


@event("intake.ticket.resolved.v1", subject="ticket_id")
class TicketResolved(_TicketClosure):
    """A ticket was resolved: the customer's problem is fixed or answered.

    Emitted by intake when an agent resolves the ticket, or when the work order that served it is
    completed. Surveys schedules the call-back; the resolve SLA clock stops.
    """

    resolution: Literal[
        "repaired",
        "replaced",
        "refunded",
        "installed",
        "maintained",
        "answered",
        "remote_fix",
        "complaint_resolved",
        "no_fault_found",
        "other",
    ]
    summary: ShortText | None = None
    work_order_id: Id | None = None
    resolved_at: UtcDateTime
    resolved_by: Actor


@event("intake.ticket.closed.v1", subject="ticket_id")
class TicketClosed(_TicketClosure):
    """A resolved ticket was closed for good; ownership ends.

    Emitted by intake after the customer confirmed, or the reopen period passed. Reports count
    the ticket's full lifetime from it.
    """

    reason: Literal["confirmed_by_customer", "no_reply", "auto_after_resolution", "agent"]
    resolved_at: UtcDateTime | None = None
    closed_at: UtcDateTime
    closed_by: Actor


@event("intake.ticket.reopened.v1", subject="ticket_id")
class TicketReopened(_TicketClosure):
    """A resolved or closed ticket was reopened because the problem was not solved.

    Emitted by intake on a customer reply or an agent action. Dispatch may open a follow-up work
    order; reports count it against the repeat-repair rate.
    """

    reason: ShortText
    reopen_count: int = Field(ge=1)
    previously_resolved_at: UtcDateTime | None = None
    reopened_at: UtcDateTime
    reopened_by: Actor


@event("intake.ticket.cancelled.v1", subject="ticket_id")
class TicketCancelled(_TicketClosure):
    """A ticket was cancelled (withdrawn, duplicate, raised in error).

    Emitted by intake. Dispatch cancels the open work order; inventory releases its reservations;
    surveys does not call back.
    """

    reason: Literal["customer_withdrew", "duplicate", "raised_in_error", "not_serviceable", "other"]
    note: ShortText | None = None
    cancelled_at: UtcDateTime
    cancelled_by: Actor


@event("intake.ticket.merged.v1", subject="ticket_id")
class TicketMerged(EventPayload):
    """A duplicate ticket was merged into another, which carries on.

    Emitted by intake. Consumers move whatever they hold for ``ticket_id`` to ``into_ticket_id``
    (dispatch cancels a duplicate work order).
    """

    ticket_id: Id
    into_ticket_id: Id
    version: int = Field(ge=1)
    dealer_id: Id | None = None
    merged_at: UtcDateTime
    merged_by: Actor


class _SlaClock(EventPayload):
    ticket_id: Id
    ticket_number: TicketNumber
    target: SlaTargetName
    due_at: UtcDateTime
    channel: Channel
    type: TicketType
    priority: Priority
    customer_tier: ServiceTier | None = None
    owner_id: Id | None = None
    dealer_id: Id | None = None


@event("intake.ticket.sla_warning.v1", subject="ticket_id")
class TicketSlaWarning(_SlaClock):
    """A ticket's response target is about to be missed.

    Emitted by intake's scheduler at the warning threshold of a running SLA clock. The owner's
    desk highlights the ticket; webhooks tells partners who subscribed.
    """

    warned_at: UtcDateTime
    remaining_seconds: int = Field(ge=0)


@event("intake.ticket.sla_breached.v1", subject="ticket_id")
class TicketSlaBreached(_SlaClock):
    """A ticket's response target was missed.

    Emitted by intake's scheduler when a running SLA clock passes its due time. The ticket is
    escalated to ``escalated_to``; the breach counts in the compliance report and metrics.
    """

    breached_at: UtcDateTime = Field(description="Now, when the breach was detected")
    overdue_seconds: int = Field(ge=0)
    escalated_to: Id | None = Field(default=None, description="The supervisor (or queue) now responsible")


# --- channels ----------------------------------------------------------------------------------


@event("intake.call.missed.v1", subject="call_id")
class CallMissed(EventPayload):
    """A hotline call was not answered (no answer, abandoned, busy, out of hours): a call-back is due.

    Emitted by intake from the telephony webhook. The call-back list gets a task with an owner
    and due time; reports count it against the answer target.
    """

    call_id: Id
    caller_number: RawPhoneNumber | None = Field(default=None, description="None when withheld")
    callee_number: RawPhoneNumber | None = None
    queue: Code | None = None
    outcome: Literal["no_answer", "abandoned", "busy", "out_of_hours", "failed"]
    customer_id: Id | None = Field(default=None, description="The matched customer, if any")
    started_at: UtcDateTime
    ended_at: UtcDateTime
    ring_seconds: int = Field(ge=0)
    callback_task_id: Id | None = None
    callback_due_at: UtcDateTime | None = None
    callback_owner_id: Id | None = None
    dealer_id: Id | None = None


@event("intake.call.answered.v1", subject="call_id")
class CallAnswered(EventPayload):
    """A hotline call was answered by an agent.

    Emitted by intake from the telephony webhook. Reports measure ring-to-answer against the
    three-ring target; a pending call-back for the caller can be closed.
    """

    call_id: Id
    caller_number: RawPhoneNumber | None = None
    queue: Code | None = None
    agent_id: Id
    customer_id: Id | None = None
    started_at: UtcDateTime
    answered_at: UtcDateTime
    ring_seconds: int = Field(ge=0)
    within_target: bool
    dealer_id: Id | None = None


@event("intake.message.quarantined.v1", subject="message_id")
class MessageQuarantined(EventPayload):
    """An inbound email, fax or telephony event was refused by the input limits and kept in quarantine.

    Emitted by intake instead of creating a ticket. Operators review the quarantine; nothing
    is dropped silently. ``message_id`` is the quarantined item's id.
    """

    message_id: Id
    channel: Literal["email", "fax", "hotline"]
    reasons: list[Reason] = Field(min_length=1, max_length=20)
    size_bytes: int | None = Field(default=None, ge=0)
    mailbox: Annotated[str, Field(max_length=200)] | None = None
    received_at: UtcDateTime
    quarantined_at: UtcDateTime


# --- complaints --------------------------------------------------------------------------------


@event("intake.complaint.opened.v1", subject="ticket_id")
class ComplaintOpened(EventPayload):
    """A complaint ticket was opened, linked to the request it is about.

    Emitted by intake when an agent or the API opens a complaint, or automatically on
    ``surveys.response.negative.v1``. Its own SLA runs (answer 24 h, supervisor after 2 days,
    resolve within a month); dispatch and warranty may look at the linked work and claim.
    """

    ticket_id: Id = Field(description="The complaint ticket")
    ticket_number: TicketNumber
    original_ticket_id: Id | None = None
    work_order_id: Id | None = None
    survey_response_id: Id | None = None
    customer_id: Id
    dealer_id: Id | None = None
    technician_id: Id | None = None
    origin: Literal["agent", "api", "survey", "email", "phone", "partner"]
    category: Literal[
        "service_quality",
        "technician_conduct",
        "lateness",
        "repeat_failure",
        "product_quality",
        "billing",
        "other",
    ] = "other"
    summary: ShortText
    detail: LongText | None = None
    answer_due_at: UtcDateTime
    supervisor_due_at: UtcDateTime
    resolve_due_at: UtcDateTime
    opened_at: UtcDateTime
    opened_by: Actor
