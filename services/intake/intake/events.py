"""Domain changes of tickets, SLA clocks and customers -> the contract events others consume (outbox).

One save of an aggregate stages at most one event per kind of change: the status moves, the owner
change and the detail edits of one action travel as one ``intake.ticket.updated.v1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from contracts import intake as c
from contracts.common import Actor as ContractActor
from contracts.common import Address as ContractAddress
from contracts.common import AttachmentRef as ContractAttachment
from contracts.common import EmailContact, GeoPoint, PhoneContact
from contracts.common import ProductRef as ContractProduct
from contracts.common import TimeWindow as ContractWindow
from contracts.envelope import EventPayload
from intake.domain import customers as dc
from intake.domain import ticket_events as te
from intake.domain.common import Actor, ActorKind, DomainEvent
from intake.domain.complaints import ComplaintOpened
from intake.domain.contact_points import Address
from intake.domain.sla import EscalatedToSupervisor, SlaAtRisk, SlaBreached, TicketSla
from intake.domain.sla_policy import ClockKind, TimeBasis
from intake.domain.ticket_values import AttachmentRef, LinkKind
from intake.domain.tickets import Ticket
from kit.db import UnitOfWork
from kit.metrics import SLA_BREACHES

SERVICE = "intake"
_ROLE_ORDER = ("supervisor", "agent", "dispatcher", "dealer", "partner", "admin")
_ATTACHMENT_KINDS = {"signature", "photo", "document", "audio", "fax_image", "email_message", "other"}
_STATUS_CHANGES = (te.TicketStatusChanged,)
_OWN_EVENTS = (te.TicketResolved, te.TicketClosed, te.TicketReopened, te.TicketCancelled, te.TicketMerged)


def actor(a: Actor) -> ContractActor:
    if a.kind is ActorKind.USER:
        role = next((r for r in _ROLE_ORDER if r in a.roles), min(a.roles, default=None))
        return ContractActor(kind="user", id=a.id[:64], role=role, name=a.name)
    return ContractActor(kind=a.kind.value, id=a.id[:64])


def address(a: Address | None) -> ContractAddress | None:
    if a is None:
        return None
    location = (
        GeoPoint(latitude=a.latitude, longitude=a.longitude)
        if a.latitude is not None and a.longitude is not None
        else None
    )
    return ContractAddress(
        line1=a.line1,
        line2=a.line2,
        city=a.city,
        district=a.district,
        postal_code=a.postal_code,
        country=a.country,
        region_code=a.region_code,
        location=location,
    )


def attachment(a: AttachmentRef) -> ContractAttachment:
    kind = a.kind if a.kind in _ATTACHMENT_KINDS else "other"
    return ContractAttachment(
        attachment_id=a.attachment_id,
        kind=cast(Any, kind),
        content_type=a.content_type,
        size_bytes=a.size_bytes,
    )


def details(ticket: Ticket) -> c.TicketDetails:
    return c.TicketDetails(
        channel=ticket.channel.value,
        type=ticket.type.value,
        priority=ticket.priority.value,
        customer_id=ticket.customer_id,
        customer_tier=ticket.customer_tier.value if ticket.customer_tier else None,
        product=ContractProduct(
            serial_number=ticket.product.serial_number,
            model_code=ticket.product.model_code,
            product_line=ticket.product.product_line,
        ),
        purchase_date=ticket.purchase_date,
        subject=ticket.subject,
        fault_description=ticket.fault_description,
        site_address=address(ticket.site_address),
        region_code=ticket.region_code,
        needs_on_site=ticket.needs_on_site,
        preferred_windows=[ContractWindow(start=w.start, end=w.end) for w in ticket.preferred_windows],
        contact_name=ticket.contact_name,
        contact_phone=ticket.contact_phone,
        owner_id=ticket.owner_id,
        attachments=[attachment(a) for a in ticket.attachments],
    )


def sla_targets(sla: TicketSla | None) -> list[c.SlaTarget]:
    if sla is None:
        return []
    return [
        c.SlaTarget(
            name=kind.value,
            due_at=clock.due_at,
            business_hours=clock.target.basis is TimeBasis.WORKING,
        )
        for kind, clock in sla.clocks.items()
    ]


def _due(sla: TicketSla | None, kind: ClockKind, fallback: datetime) -> datetime:
    clock = sla.clocks.get(kind) if sla else None
    return clock.due_at if clock is not None else fallback


# --- tickets ----------------------------------------------------------------------------------------


def ticket_events(
    ticket: Ticket, raised: Sequence[DomainEvent], *, version: int, sla: TicketSla | None, at: datetime
) -> list[EventPayload]:
    """The contract events for what ``ticket`` (and its clocks) raised in one save."""
    payloads: list[EventPayload] = []
    changed: list[str] = []
    updated_by: Actor | None = None
    opened = any(isinstance(e, te.TicketOpened) for e in raised)
    escalations = {e.kind: e for e in raised if isinstance(e, EscalatedToSupervisor)}
    for event in raised:
        payload = _ticket_event(ticket, event, version=version, sla=sla, escalations=escalations)
        if payload is not None:
            payloads.append(payload)
            continue
        fields = _changed_fields(event)
        if fields and not opened and isinstance(event, te.TicketEvent):
            changed.extend(f for f in fields if f not in changed)
            updated_by = updated_by or event.actor
    if changed and updated_by is not None:
        payloads.append(
            c.TicketUpdated(
                ticket_id=ticket.id,
                ticket_number=ticket.number,
                version=version,
                status=ticket.status.value,
                details=details(ticket),
                changed_fields=changed[:50],
                dealer_id=ticket.dealer_id,
                updated_at=at,
                updated_by=actor(updated_by),
            )
        )
    return payloads


def _changed_fields(event: DomainEvent) -> tuple[str, ...]:
    if isinstance(event, _OWN_EVENTS):
        return ()
    if isinstance(event, _STATUS_CHANGES):
        return ("status",)
    if isinstance(event, te.TicketOwnerChanged):
        return ("owner_id",)
    if isinstance(event, te.TicketUpdated):
        return event.changed_fields
    if isinstance(event, te.TicketLinked):
        return ("links",)
    return ()


def _closure(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "customer_id": ticket.customer_id,
        "type": ticket.type.value,
        "dealer_id": ticket.dealer_id,
        "opened_at": ticket.opened_at,
    }


def _ticket_event(
    ticket: Ticket,
    event: DomainEvent,
    *,
    version: int,
    sla: TicketSla | None,
    escalations: dict[ClockKind, EscalatedToSupervisor],
) -> EventPayload | None:
    if isinstance(event, te.TicketOpened):
        complaint_about = ticket.linked(LinkKind.COMPLAINT_ABOUT)
        return c.TicketCreated(
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            version=version,
            details=details(ticket),
            sla_targets=sla_targets(sla),
            related_ticket_id=complaint_about[0] if complaint_about else None,
            source_reference=ticket.source_reference,
            dealer_id=ticket.dealer_id,
            opened_at=ticket.opened_at,
            opened_by=actor(ticket.opened_by),
        )
    if isinstance(event, te.TicketAcknowledged):
        clock = sla.clocks.get(ClockKind.ACKNOWLEDGE) if sla else None
        return c.TicketAcknowledged(
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            version=version,
            channel=ticket.channel.value,
            method=event.method.value,
            customer_id=ticket.customer_id,
            dealer_id=ticket.dealer_id,
            received_at=ticket.opened_at,
            acknowledged_at=event.at,
            due_at=clock.due_at if clock else None,
            within_target=None
            if clock is None or sla is None
            else not clock.is_breached(event.at, sla.calendar),
            acknowledged_by=actor(event.actor),
        )
    if isinstance(event, te.TicketResolved):
        return c.TicketResolved(
            **_closure(ticket),
            version=version,
            resolution=event.resolution.value,
            summary=event.summary,
            work_order_id=event.work_order_id,
            resolved_at=event.at,
            resolved_by=actor(event.actor),
        )
    if isinstance(event, te.TicketClosed):
        return c.TicketClosed(
            **_closure(ticket),
            version=version,
            reason=event.reason.value,
            resolved_at=event.resolved_at,
            closed_at=event.at,
            closed_by=actor(event.actor),
        )
    if isinstance(event, te.TicketReopened):
        return c.TicketReopened(
            **_closure(ticket),
            version=version,
            reason=event.reason,
            reopen_count=event.reopen_count,
            previously_resolved_at=event.previously_resolved_at,
            reopened_at=event.at,
            reopened_by=actor(event.actor),
        )
    if isinstance(event, te.TicketCancelled):
        return c.TicketCancelled(
            **_closure(ticket),
            version=version,
            reason=event.reason.value,
            note=event.note,
            cancelled_at=event.at,
            cancelled_by=actor(event.actor),
        )
    if isinstance(event, te.TicketMerged):
        return c.TicketMerged(
            ticket_id=ticket.id,
            into_ticket_id=event.into_ticket_id,
            version=version,
            dealer_id=ticket.dealer_id,
            merged_at=event.at,
            merged_by=actor(event.actor),
        )
    if isinstance(event, ComplaintOpened):
        opened = ticket.opened_at
        return c.ComplaintOpened(
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            original_ticket_id=event.original_ticket_id,
            work_order_id=event.work_order_id,
            survey_response_id=event.survey_response_id,
            customer_id=ticket.customer_id,
            dealer_id=ticket.dealer_id,
            origin=event.origin.value,
            category=event.category.value,
            summary=event.summary[:500],
            detail=ticket.fault_description,
            answer_due_at=_due(sla, ClockKind.FIRST_RESPONSE, opened + timedelta(hours=24)),
            supervisor_due_at=_due(sla, ClockKind.SUPERVISOR_REVIEW, opened + timedelta(hours=48)),
            resolve_due_at=_due(sla, ClockKind.RESOLVE, opened + timedelta(days=30)),
            opened_at=opened,
            opened_by=actor(event.actor),
        )
    if isinstance(event, SlaAtRisk | SlaBreached):
        return _sla_event(ticket, event, escalations)
    return None


def _sla_event(
    ticket: Ticket, event: SlaAtRisk | SlaBreached, escalations: dict[ClockKind, EscalatedToSupervisor]
) -> EventPayload:
    common: dict[str, Any] = {
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "target": event.kind.value,
        "due_at": event.due_at,
        "channel": ticket.channel.value,
        "type": ticket.type.value,
        "priority": ticket.priority.value,
        "customer_tier": ticket.customer_tier.value if ticket.customer_tier else None,
        "owner_id": ticket.owner_id,
        "dealer_id": ticket.dealer_id,
    }
    if isinstance(event, SlaAtRisk):
        return c.TicketSlaWarning(
            **common,
            warned_at=event.at,
            remaining_seconds=max(int(event.remaining.total_seconds()), 0),
        )
    escalation = escalations.get(event.kind)
    return c.TicketSlaBreached(
        **common,
        breached_at=event.at,
        overdue_seconds=max(int(event.overdue.total_seconds()), 0),
        escalated_to=escalation.to[:64] if escalation else None,
    )


def stage_ticket_events(
    uow: UnitOfWork,
    ticket: Ticket,
    raised: Sequence[DomainEvent],
    *,
    version: int,
    sla: TicketSla | None,
) -> list[EventPayload]:
    """Stage the contract events of one save into the outbox (and count SLA breaches)."""
    payloads = ticket_events(ticket, raised, version=version, sla=sla, at=uow.now())
    for payload in payloads:
        uow.emit(payload)
        if isinstance(payload, c.TicketSlaBreached):
            uow.after_commit(SLA_BREACHES.labels(SERVICE, payload.target).inc)
    return payloads


# --- customers --------------------------------------------------------------------------------------


def customer_facts(customer: dc.Customer) -> c.CustomerFacts:
    return c.CustomerFacts(
        kind=customer.kind.value,
        name=customer.name,
        company_name=customer.company_name,
        tier=customer.tier.value,
        phones=[
            PhoneContact(number=p.number, kind=p.kind.value, primary=i == 0)
            for i, p in enumerate(customer.phones)
        ],
        emails=[EmailContact(address=e.address, primary=i == 0) for i, e in enumerate(customer.emails)],
        addresses=[a for a in (address(a) for a in customer.addresses) if a is not None],
        region_code=customer.region_code,
        preferred_language=customer.preferred_language,
        dealer_id=customer.dealer_id,
    )


def customer_events(
    customer: dc.Customer, raised: Sequence[DomainEvent], *, version: int, at: datetime
) -> list[EventPayload]:
    payloads: list[EventPayload] = []
    changed: list[str] = []
    changed_by: Actor | None = None
    created = False
    for event in raised:
        if isinstance(event, dc.CustomerRegistered):
            created = True
            payloads.append(
                c.CustomerCreated(
                    customer_id=customer.id,
                    version=version,
                    customer=customer_facts(customer),
                    dealer_id=customer.dealer_id,
                    created_at=event.at,
                    created_by=actor(event.actor),
                )
            )
        elif isinstance(event, dc.CustomersMerged):
            payloads.append(
                c.CustomersMerged(
                    customer_id=customer.id,
                    merged_customer_ids=list(event.merged_customer_ids)[:50],
                    version=version,
                    dealer_id=customer.dealer_id,
                    merged_at=event.at,
                    merged_by=actor(event.actor),
                )
            )
            changed.extend(["phones", "emails", "addresses", "contacts"])
            changed_by = changed_by or event.actor
        elif isinstance(event, dc.CustomerChanged):
            changed.extend(event.changed_fields)
            changed_by = changed_by or event.actor
    if changed and not created and changed_by is not None:
        payloads.append(
            c.CustomerUpdated(
                customer_id=customer.id,
                version=version,
                customer=customer_facts(customer),
                changed_fields=list(dict.fromkeys(changed))[:50],
                dealer_id=customer.dealer_id,
                updated_at=at,
                updated_by=actor(changed_by),
            )
        )
    return payloads


def stage_customer_events(
    uow: UnitOfWork, customer: dc.Customer, raised: Sequence[DomainEvent], *, version: int
) -> None:
    for payload in customer_events(customer, raised, version=version, at=uow.now()):
        uow.emit(payload)
