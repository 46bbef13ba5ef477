"""Domain events of a work order -> the contract events other services consume (into the outbox)."""

from __future__ import annotations

from typing import Any

from contracts import dispatch as c
from contracts.common import Actor as ContractActor
from contracts.common import Address, AttachmentRef, ProductRef
from contracts.common import Billing as ContractBilling
from contracts.common import TimeWindow as ContractWindow
from contracts.envelope import EventPayload
from dispatch.domain import events as d
from dispatch.domain.appointments import RESCHEDULE_REASONS
from dispatch.domain.billing import BillingBasis
from dispatch.domain.values import Actor, Role, TimeWindow
from dispatch.domain.work_orders import WorkOrder
from kit.db import UnitOfWork

_BILLING = {
    BillingBasis.WARRANTY: "warranty",
    BillingBasis.CONTRACT: "contract",
    BillingBasis.PAID: "customer",
}


def publish(uow: UnitOfWork, order: WorkOrder, *, version: int, facts: dict[str, Any]) -> list[EventPayload]:
    """Stage the contract events for what ``order`` raised since it was loaded."""
    payloads = [p for e in order.pull_events() if (p := to_contract(e, order, version=version, facts=facts))]
    for payload in payloads:
        uow.emit(payload)
    return payloads


def actor(a: Actor) -> ContractActor:
    if a.role is Role.SYSTEM:
        return ContractActor(kind="system", id=a.id)
    return ContractActor(kind="user", id=a.id, role=a.role.value)


def window(w: TimeWindow) -> ContractWindow:
    return ContractWindow(start=w.start, end=w.end)


def billing_of(order: WorkOrder) -> ContractBilling:
    if order.billing is None:
        return "undetermined"
    return _BILLING[order.billing.basis]  # type: ignore[return-value]


def deadlines(order: WorkOrder) -> c.SlaDeadlines:
    dl = order.deadlines
    return c.SlaDeadlines(
        arrange_by=dl.arrange_by,
        on_site_by=dl.on_site_by,
        fix_by=dl.fix_by,
        remote_resolve_by=dl.remote_escalation_at,
    )


def appointment(order: WorkOrder, w: TimeWindow, *, current: bool = True) -> c.Appointment:
    """The order's appointment in a contract (one id per work order; it moves when rescheduled)."""
    confirmed = current and order.appointment is not None and order.appointment.confirmed
    return c.Appointment(
        appointment_id=appointment_id(order), window=window(w), confirmed_with_customer=confirmed
    )


def appointment_id(order: WorkOrder) -> str:
    return f"{order.id}-appt"


def _cancel_reason(reason: str) -> tuple[Any, str | None]:
    known = {"ticket_cancelled", "ticket_merged", "duplicate", "solved_remotely", "customer_request", "other"}
    return (reason, None) if reason in known else ("other", reason[:300])


def escalation_kind(kind: d.EscalationKind) -> c.EscalationKind:
    value = kind.value
    if value == "remote_not_solved":
        return "remote_unresolved"
    if value == "premium_fix_overdue":
        return "fix_missed"
    return value  # type: ignore[return-value]


def to_contract(
    event: d.WorkOrderEvent, order: WorkOrder, *, version: int, facts: dict[str, Any]
) -> EventPayload | None:
    common: dict[str, Any] = {
        "work_order_id": order.id,
        "work_order_number": facts["number"],
        "version": version,
        "ticket_id": order.ticket_id,
        "dealer_id": order.dealer_id,
    }
    product = ProductRef.model_validate(facts.get("product") or {})
    customer_id = order.customer_id or "unknown"
    if isinstance(event, d.WorkOrderOpened):
        return c.WorkOrderCreated(
            **common,
            type=order.type.value,
            priority=order.priority.value,
            customer_id=customer_id,
            product=product,
            required_skills=sorted(str(s) for s in order.required_skills),
            site=Address.model_validate(facts["site"]) if facts.get("site") else None,
            region_code=facts.get("region_code"),
            region_grade=order.site.grade.value,
            billing=billing_of(order),
            deadlines=deadlines(order),
            availability_windows=[window(w) for w in order.availability],
            maintenance_plan_id=order.maintenance_plan_id,
            description=facts.get("description"),
            created_at=event.at,
            created_by=actor(event.actor),
        )
    if isinstance(event, d.WorkOrderAssigned):
        appt = order.appointment
        return c.WorkOrderAssigned(
            **common,
            technician_id=event.technician_id,
            previous_technician_id=event.previous_technician_id,
            appointment=appointment(order, event.appointment) if appt else None,
            customer_id=customer_id,
            type=order.type.value,
            priority=order.priority.value,
            region_code=facts.get("region_code"),
            method=facts.get("assignment_method", "manual"),
            locked=order.locked,
            reasons=[r[:300] for r in event.reasons][:20],
            cost=c.AssignmentCost(
                travel_minutes=int(dict(event.cost).get("travel_minutes", 0)),
                score=sum(v for _, v in event.cost) if event.cost else None,
            ),
            deadlines=deadlines(order),
            assigned_at=event.at,
            assigned_by=actor(event.actor),
        )
    if isinstance(event, d.WorkOrderAccepted):
        return c.WorkOrderAccepted(**common, technician_id=event.technician_id, accepted_at=event.at)
    if isinstance(event, d.TravelStarted):
        return c.WorkOrderEnRoute(**common, technician_id=event.technician_id, departed_at=event.at)
    if isinstance(event, d.TechnicianArrived):
        on_site_by = order.deadlines.on_site_by
        return c.WorkOrderArrived(
            **common,
            technician_id=event.technician_id,
            arrived_at=event.at,
            on_site_by=on_site_by,
            within_target=None if on_site_by is None else event.at <= on_site_by,
        )
    if isinstance(event, d.WorkOrderCompleted):
        return _completed(event, order, common, product, customer_id)
    if isinstance(event, d.WorkOrderIncomplete):
        report = order.report
        reason = (
            event.reason
            if event.reason in {"parts_needed", "customer_absent", "other"}
            else ("needs_second_technician" if event.reason == "second_technician_needed" else "other")
        )
        return c.WorkOrderIncomplete(
            **common,
            technician_id=event.technician_id,
            reason=reason,
            labour_minutes=report.labour_minutes if report else 0,
            reported_at=event.at,
        )
    if isinstance(event, d.WorkOrderCancelled):
        reason, note = _cancel_reason(event.reason)
        if event.note:
            note = event.note[:500]
        return c.WorkOrderCancelled(
            **common,
            technician_id=order.technician_id,
            reason=reason,
            note=note,
            cancelled_at=event.at,
            cancelled_by=actor(event.actor),
        )
    if isinstance(event, d.WorkOrderEscalated):
        return c.WorkOrderEscalated(
            **{**common, "dealer_id": event.dealer_id or order.dealer_id},
            kind=escalation_kind(event.kind),
            region_grade=order.site.grade.value,
            technician_id=order.technician_id,
            due_at=event.due_at,
            detected_at=event.at,
            action_taken="loaner_requested"
            if event.kind is d.EscalationKind.PREMIUM_FIX_OVERDUE
            else "converted_to_on_site"
            if event.kind is d.EscalationKind.REMOTE_NOT_SOLVED
            else "supervisor_notified",
        )
    if isinstance(event, d.LoanerRequested):
        site = facts.get("site")
        if not site:
            return None
        return c.LoanerRequested(
            loaner_request_id=f"{order.id}-loaner",
            work_order_id=order.id,
            ticket_id=order.ticket_id,
            customer_id=customer_id,
            serial_number=order.unit.serial if order.unit else None,
            model_code=event.model,
            product_line=order.product_line,
            model_grade=event.model_grade,
            site=Address.model_validate(site),
            region_code=facts.get("region_code"),
            needed_by=event.at,
            reason="premium_fix_overdue",
            dealer_id=order.dealer_id,
            requested_at=event.at,
            requested_by=actor(event.actor),
        )
    if isinstance(event, d.AppointmentRescheduled):
        reason = event.reason if event.reason in RESCHEDULE_REASONS else "other"
        return c.WorkOrderRescheduled(
            **common,
            technician_id=order.technician_id,
            previous_appointment=appointment(order, event.previous, current=False)
            if event.previous
            else None,
            appointment=appointment(order, event.appointment),
            reason=reason,
            # a move the customer asked for, or was told of directly, needs no notice from intake
            customer_notified_at=None if event.notify_customer else event.at,
            rescheduled_at=event.at,
            rescheduled_by=actor(event.actor),
        )
    if isinstance(event, d.AppointmentConfirmed):
        return c.AppointmentConfirmed(
            appointment_id=appointment_id(order),
            work_order_id=order.id,
            ticket_id=order.ticket_id,
            customer_id=customer_id,
            technician_id=order.technician_id,
            window=window(event.appointment),
            confirmed_via=event.via,
            dealer_id=order.dealer_id,
            confirmed_at=event.at,
        )
    if isinstance(event, d.AppointmentLate):
        return c.AppointmentLate(
            appointment_id=appointment_id(order),
            work_order_id=order.id,
            ticket_id=order.ticket_id,
            customer_id=customer_id,
            technician_id=event.technician_id,
            window=window(event.appointment),
            minutes_late=event.minutes_late,
            customer_notified=False,
            dealer_id=order.dealer_id,
            detected_at=event.at,
        )
    if isinstance(event, d.HandedToDealer):
        return c.WorkOrderHandedToDealer(
            **common,
            service_center_id=event.centre_id,
            customer_id=customer_id,
            type=order.type.value,
            priority=order.priority.value,
            product=product,
            site=Address.model_validate(facts["site"]) if facts.get("site") else None,
            region_code=facts.get("region_code"),
            availability_windows=[window(w) for w in order.availability],
            deadlines=deadlines(order),
            accept_by=event.accept_by,
            reason=event.reason[:300],
            handed_at=event.at,
            handed_by=actor(event.actor),
        )
    return None


def _completed(
    event: d.WorkOrderCompleted,
    order: WorkOrder,
    common: dict[str, Any],
    product: ProductRef,
    customer_id: str,
) -> c.WorkOrderCompleted:
    report = order.report
    assert report is not None  # a completed order carries its report
    return c.WorkOrderCompleted(
        **common,
        technician_id=event.technician_id or "remote",
        type=order.type.value,
        customer_id=customer_id,
        product=product,
        service_center_id=order.dealer_centre_id,
        performed_by="service_point" if order.dealer_id else "company",
        billing=billing_of(order),
        mode="remote" if event.remote else "on_site",
        fault_code=report.fault_code,
        cause=report.cause.value if report.cause else None,
        actions=[a[:300] for a in report.actions],
        resolution_summary=report.notes or None,
        parts_used=[
            c.PartUsed(part_number=p.part_number, quantity=p.quantity, serial_numbers=list(p.serials))
            for p in report.parts_used
        ],
        old_parts=[
            c.OldPartCollected(
                part_number=p.part_number,
                serial_number=p.serial,
                condition="defective" if p.defective else "working",
            )
            for p in report.old_parts_collected
        ],
        labour_minutes=report.labour_minutes,
        first_time_fix=report.first_time_fix,
        customer_signature=AttachmentRef(attachment_id=report.signature_ref, kind="signature")
        if report.signature_ref
        else None,
        photos=[AttachmentRef(attachment_id=ref, kind="photo") for ref in report.photo_refs],
        arrived_at=order.arrived_at,
        started_at=order.arrived_at,
        completed_at=event.at,
    )
