"""Request and response models (DTOs) of the ticket API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import RowMapping

from intake.api.common import AddressDto, AttachmentDto, Id, LongText, ProductDto, ShortText, WindowDto
from intake.domain.complaints import ComplaintCategory
from intake.domain.contact_points import ServiceTier
from intake.domain.sla import ClockOutcome, ClockReport, ClockState
from intake.domain.sla_policy import ClockKind
from intake.domain.ticket_values import (
    Channel,
    LinkKind,
    NoteVisibility,
    Priority,
    Resolution,
    TicketStatus,
    TicketType,
)
from intake.domain.tickets import Ticket
from intake.operations.tickets import OpenTicket


class ContactIn(BaseModel):
    """How the requester can be reached; used to find them in the customer file when no id is given."""

    name: Annotated[str, Field(max_length=200)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    company_name: Annotated[str, Field(max_length=200)] | None = None


class TicketIn(BaseModel):
    """A new request. Name the customer by ``customer_id``, or give ``contact`` details to match (or
    register) them. A complaint names the ticket it is about in ``related_ticket_id``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "phone",
                    "type": "repair",
                    "priority": "normal",
                    "contact": {"name": "Hans Müller", "phone": "030 1234567"},
                    "product": {"model_code": "WH-80", "serial_number": "SN-1001"},
                    "fault_description": "No hot water since this morning",
                    "site_address": {
                        "line1": "Hauptstr. 1",
                        "city": "Berlin",
                        "postal_code": "10115",
                        "country": "DE",
                        "region_code": "berlin",
                        "tier": "B",
                    },
                    "needs_on_site": True,
                    "preferred_windows": [{"start": "2026-03-10T08:00:00Z", "end": "2026-03-10T12:00:00Z"}],
                }
            ]
        }
    )

    channel: Channel
    type: TicketType = TicketType.REPAIR
    priority: Priority = Priority.NORMAL
    customer_id: Id | None = None
    contact: ContactIn | None = None
    product: ProductDto | None = None
    purchase_date: date | None = Field(default=None, description="As stated, for an unregistered unit")
    subject: Annotated[str, Field(max_length=300)] | None = None
    fault_description: Annotated[str, Field(max_length=4000)] | None = None
    site_address: AddressDto | None = Field(
        default=None, description="Where the unit is; defaults to the customer's primary address"
    )
    needs_on_site: bool = False
    preferred_windows: list[WindowDto] = Field(default_factory=list, max_length=20)
    attachments: list[AttachmentDto] = Field(default_factory=list, max_length=50)
    source_reference: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="The call, message or fax the ticket comes from"
    )
    related_ticket_id: Id | None = Field(default=None, description="For a complaint: the ticket it is about")
    complaint_category: ComplaintCategory = ComplaintCategory.OTHER
    dealer_id: Id | None = Field(default=None, description="Staff only; a dealer token opens for itself")

    def command(self, *, dealer_id: str | None) -> OpenTicket:
        contact = self.contact or ContactIn()
        return OpenTicket(
            channel=self.channel,
            type=self.type,
            priority=self.priority,
            customer_id=self.customer_id,
            contact_name=contact.name,
            contact_phone=contact.phone,
            contact_email=contact.email,
            company_name=contact.company_name,
            product=self.product.domain() if self.product else None,
            purchase_date=self.purchase_date,
            subject=self.subject,
            fault_description=self.fault_description,
            site_address=self.site_address.domain() if self.site_address else None,
            needs_on_site=self.needs_on_site,
            preferred_windows=[w.domain() for w in self.preferred_windows],
            attachments=[a.domain() for a in self.attachments],
            source_reference=self.source_reference,
            dealer_id=dealer_id,
            related_ticket_id=self.related_ticket_id,
            complaint_category=self.complaint_category,
        )


class ComplaintIn(BaseModel):
    """A complaint, about an earlier ticket (``ticket_id``) or from a customer (``customer_id``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_id": "5a0f3c1e-0d5e-4d5b-9a51-2f1f3a6b8c10",
                    "summary": "The technician came two hours late and left a mess",
                    "category": "technician_conduct",
                }
            ]
        }
    )

    ticket_id: Id | None = None
    customer_id: Id | None = None
    summary: Annotated[str, Field(min_length=1, max_length=300)]
    detail: Annotated[str, Field(max_length=4000)] | None = None
    category: ComplaintCategory = ComplaintCategory.OTHER
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.PHONE


class LinkOut(BaseModel):
    ticket_id: str
    kind: LinkKind


class ClockOut(BaseModel):
    """One SLA target of the ticket and where it stands now."""

    target: ClockKind
    state: ClockState
    outcome: ClockOutcome
    due_at: datetime | None = Field(description="None while the clock is paused")
    counted_seconds: int
    remaining_seconds: int
    stopped_at: datetime | None

    @classmethod
    def of(cls, report: ClockReport) -> ClockOut:
        return cls(
            target=report.kind,
            state=report.state,
            outcome=report.outcome,
            due_at=report.due_at,
            counted_seconds=int(report.counted.total_seconds()),
            remaining_seconds=int(report.remaining / timedelta(seconds=1)),
            stopped_at=report.stopped_at,
        )


class TicketOut(BaseModel):
    id: str
    number: str
    version: int
    status: TicketStatus
    channel: Channel
    type: TicketType
    priority: Priority
    customer_id: str
    customer_tier: ServiceTier | None
    owner_id: str | None
    watchers: list[str]
    product: ProductDto
    purchase_date: date | None
    subject: str | None
    fault_description: str | None
    site_address: AddressDto | None
    region_code: str | None
    needs_on_site: bool
    preferred_windows: list[WindowDto]
    contact_name: str | None
    contact_phone: str | None
    attachments: list[AttachmentDto]
    links: list[LinkOut]
    source_reference: str | None
    dealer_id: str | None
    opened_at: datetime
    opened_by: str
    acknowledged_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    resolution: Resolution | None
    closed_at: datetime | None
    reopen_count: int
    merged_into: str | None
    allowed_actions: list[str] = Field(description="What the ticket's state allows now")

    @classmethod
    def of(cls, ticket: Ticket, version: int) -> TicketOut:
        return cls(
            id=ticket.id,
            number=ticket.number,
            version=version,
            status=ticket.status,
            channel=ticket.channel,
            type=ticket.type,
            priority=ticket.priority,
            customer_id=ticket.customer_id,
            customer_tier=ticket.customer_tier,
            owner_id=ticket.owner_id,
            watchers=sorted(ticket.watchers),
            product=ProductDto.of(ticket.product),
            purchase_date=ticket.purchase_date,
            subject=ticket.subject,
            fault_description=ticket.fault_description,
            site_address=AddressDto.of(ticket.site_address),
            region_code=ticket.region_code,
            needs_on_site=ticket.needs_on_site,
            preferred_windows=[WindowDto(start=w.start, end=w.end) for w in ticket.preferred_windows],
            contact_name=ticket.contact_name,
            contact_phone=ticket.contact_phone,
            attachments=[AttachmentDto.of(a) for a in ticket.attachments],
            links=[LinkOut(ticket_id=link.ticket_id, kind=link.kind) for link in ticket.links],
            source_reference=ticket.source_reference,
            dealer_id=ticket.dealer_id,
            opened_at=ticket.opened_at,
            opened_by=ticket.opened_by.ref,
            acknowledged_at=ticket.acknowledged_at,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            resolution=ticket.resolution,
            closed_at=ticket.closed_at,
            reopen_count=ticket.reopen_count,
            merged_into=ticket.merged_into,
            allowed_actions=ticket.allowed_actions(),
        )


class EntitlementOut(BaseModel):
    """Warranty's latest decision for the ticket's unit, as the agent reads it out."""

    entitlement_id: str
    serial_number: str | None
    coverage: str
    billing: str
    expires_on: date | None
    remedies: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    determined_at: datetime

    @classmethod
    def of(cls, row: RowMapping) -> EntitlementOut:
        return cls(
            entitlement_id=row["entitlement_id"],
            serial_number=row["serial_number"],
            coverage=row["coverage"],
            billing=row["billing"],
            expires_on=row["expires_on"],
            remedies=list(row["remedies"]),
            reasons=list(row["reasons"]),
            determined_at=row["determined_at"],
        )


class WorkOrderCopyOut(BaseModel):
    work_order_id: str
    number: str | None
    state: str
    technician_id: str | None
    technician_name: str | None
    appointment_start: datetime | None
    appointment_end: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, row: RowMapping) -> WorkOrderCopyOut:
        return cls(
            work_order_id=row["work_order_id"],
            number=row["number"],
            state=row["state"],
            technician_id=row["technician_id"],
            technician_name=row["technician_name"],
            appointment_start=row["appointment_start"],
            appointment_end=row["appointment_end"],
            updated_at=row["updated_at"],
        )


class ClaimCopyOut(BaseModel):
    claim_id: str
    claim_number: str
    work_order_id: str | None
    state: str
    updated_at: datetime

    @classmethod
    def of(cls, row: RowMapping) -> ClaimCopyOut:
        return cls(
            claim_id=row["claim_id"],
            claim_number=row["claim_number"],
            work_order_id=row["work_order_id"],
            state=row["state"],
            updated_at=row["updated_at"],
        )


class TicketDetailOut(TicketOut):
    """A ticket with its SLA clocks and what other services told about it."""

    sla: list[ClockOut]
    entitlement: EntitlementOut | None
    work_orders: list[WorkOrderCopyOut]
    claims: list[ClaimCopyOut]


class TimelineEntryOut(BaseModel):
    seq: int = Field(description="Position on the timeline (the cursor counts it)")
    at: datetime
    actor: str
    kind: str
    detail: str
    reference: str | None


class NoteOut(BaseModel):
    id: str
    at: datetime
    author: str
    body: str
    visibility: NoteVisibility
    via: Channel | None


# --- action bodies ---------------------------------------------------------------------------------------


class ReasonIn(BaseModel):
    reason: ShortText


class NoteIn(BaseModel):
    body: LongText


class ReplyIn(BaseModel):
    body: LongText
    via: Channel = Field(default=Channel.EMAIL, description="How the reply reaches the customer")


class CustomerMessageIn(BaseModel):
    """Something the customer said about the ticket (a letter, a portal message, a call)."""

    via: Channel
    body: LongText
    reference: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="The source record, so a replay is recorded once"
    )


class DetailsIn(BaseModel):
    """The facts to change; a field left out stays as it is."""

    product: ProductDto | None = None
    fault_description: Annotated[str, Field(max_length=4000)] | None = None
    site_address: AddressDto | None = None
    needs_on_site: bool | None = None
    preferred_windows: list[WindowDto] | None = Field(default=None, max_length=20)
    customer_tier: ServiceTier | None = None


class WatchIn(BaseModel):
    user_id: Id | None = Field(default=None, description="Defaults to the caller")


class LinkIn(BaseModel):
    ticket_id: Id
    kind: LinkKind = LinkKind.RELATED
