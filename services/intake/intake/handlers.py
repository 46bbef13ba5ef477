"""Inbound events -> intake operations (thin: each maps an event to a fact and hands it over).

The inbox skips a redelivered event; the operations also tolerate the same fact twice and facts out
of order (see :mod:`intake.operations.activity`).
"""

from __future__ import annotations

from datetime import datetime

from contracts import dispatch as d
from contracts import surveys as s
from contracts import warranty as w
from contracts.envelope import CloudEvent
from intake.domain.complaints import NegativeSurveyAnswer
from intake.operations import activity, complaints
from intake.operations.activity import ClaimFact, EntitlementFact, UnitFact, WorkOrderFact, WorkStep
from kit.db import UnitOfWork
from messaging.consumer import EventHandlers

handlers: EventHandlers[UnitOfWork] = EventHandlers()


# --- warranty ------------------------------------------------------------------------------------------


@handlers.on(w.EntitlementDetermined)
async def note_entitlement(uow: UnitOfWork, payload: w.EntitlementDetermined, envelope: CloudEvent) -> None:
    if payload.ticket_id is None:
        return
    await activity.entitlement_determined(
        uow,
        EntitlementFact(
            entitlement_id=payload.entitlement_id,
            ticket_id=payload.ticket_id,
            serial_number=payload.serial_number,
            coverage=payload.coverage,
            billing=payload.billing,
            remedies=[r.model_dump(mode="json") for r in payload.remedies],
            expires_on=payload.expires_on,
            reasons=[r.model_dump(mode="json") for r in payload.reasons],
            determined_at=payload.determined_at,
        ),
    )


@handlers.on(w.UnitRegistered)
async def keep_registered_unit(uow: UnitOfWork, payload: w.UnitRegistered, envelope: CloudEvent) -> None:
    await activity.unit_registered(uow, _unit(payload.unit, payload.version, payload.registered_at))


@handlers.on(w.UnitUpdated)
async def keep_updated_unit(uow: UnitOfWork, payload: w.UnitUpdated, envelope: CloudEvent) -> None:
    await activity.unit_registered(uow, _unit(payload.unit, payload.version, payload.updated_at))


@handlers.on(w.UnitTransferred)
async def move_transferred_unit(uow: UnitOfWork, payload: w.UnitTransferred, envelope: CloudEvent) -> None:
    await activity.unit_transferred(
        uow,
        serial_number=payload.serial_number,
        to_customer_id=payload.to_customer_id,
        version=payload.version,
        at=envelope.time,
    )


def _unit(unit: w.UnitFacts, version: int, at: datetime) -> UnitFact:
    return UnitFact(
        serial_number=unit.serial_number,
        version=version,
        model_code=unit.model_code,
        at=at,
        customer_id=unit.customer_id,
        product_line=unit.product_line,
        dealer_id=unit.dealer_id,
        sale_date=unit.sale_date,
        installation_date=unit.installation_date,
        repair_coverage_ends_on=unit.repair_coverage_ends_on,
    )


@handlers.on(w.ClaimSubmitted)
async def note_claim_submitted(uow: UnitOfWork, payload: w.ClaimSubmitted, envelope: CloudEvent) -> None:
    detail = (
        f"dealer {payload.dealer_id} claims {payload.amounts.total.amount} {payload.amounts.total.currency}"
    )
    await activity.claim_changed(
        uow, _claim(payload, "submitted", payload.submitted_at, detail, payload.ticket_id)
    )


@handlers.on(w.ClaimApproved)
async def note_claim_approved(uow: UnitOfWork, payload: w.ClaimApproved, envelope: CloudEvent) -> None:
    detail = f"approved {payload.approved.amount} {payload.approved.currency} of {payload.claimed.amount}"
    await activity.claim_changed(uow, _claim(payload, "approved", payload.decided_at, detail))


@handlers.on(w.ClaimRejected)
async def note_claim_rejected(uow: UnitOfWork, payload: w.ClaimRejected, envelope: CloudEvent) -> None:
    detail = "rejected: " + "; ".join(r.message for r in payload.reasons)
    await activity.claim_changed(uow, _claim(payload, "rejected", payload.decided_at, detail))


@handlers.on(w.ClaimSettled)
async def note_claim_settled(uow: UnitOfWork, payload: w.ClaimSettled, envelope: CloudEvent) -> None:
    detail = (
        f"settled {payload.settled.amount} {payload.settled.currency} in statement {payload.statement_id}"
    )
    await activity.claim_changed(uow, _claim(payload, "settled", payload.settled_at, detail))


def _claim(
    payload: w.ClaimSubmitted | w.ClaimApproved | w.ClaimRejected | w.ClaimSettled,
    state: str,
    at: datetime,
    detail: str,
    ticket_id: str | None = None,
) -> ClaimFact:
    return ClaimFact(
        claim_id=payload.claim_id,
        claim_number=payload.claim_number,
        state=state,
        version=payload.version,
        at=at,
        detail=f"claim {payload.claim_number}: {detail}"[:500],
        ticket_id=ticket_id,
        work_order_id=payload.work_order_id,
    )


# --- dispatch ------------------------------------------------------------------------------------------


@handlers.on(d.WorkOrderCreated)
async def note_work_order_created(uow: UnitOfWork, payload: d.WorkOrderCreated, envelope: CloudEvent) -> None:
    detail = f"work order {payload.work_order_number} opened ({payload.type}, {payload.priority})"
    await activity.work_order_changed(uow, _work(payload, WorkStep.CREATED, payload.created_at, detail))


@handlers.on(d.WorkOrderAssigned)
async def note_work_order_assigned(
    uow: UnitOfWork, payload: d.WorkOrderAssigned, envelope: CloudEvent
) -> None:
    window = payload.appointment.window if payload.appointment else None
    who = payload.technician_name or payload.technician_id
    when = f", appointment {window.start.isoformat()} to {window.end.isoformat()}" if window else ""
    await activity.work_order_changed(
        uow,
        _work(
            payload,
            WorkStep.ASSIGNED,
            payload.assigned_at,
            f"technician {who} assigned{when}",
            technician_id=payload.technician_id,
            technician_name=payload.technician_name,
            appointment=(window.start, window.end) if window else None,
            work_type=payload.type,
        ),
    )


@handlers.on(d.WorkOrderRescheduled)
async def note_work_order_rescheduled(
    uow: UnitOfWork, payload: d.WorkOrderRescheduled, envelope: CloudEvent
) -> None:
    window = payload.appointment.window
    detail = f"appointment moved to {window.start.isoformat()} to {window.end.isoformat()} ({payload.reason})"
    await activity.work_order_changed(
        uow,
        _work(
            payload,
            WorkStep.RESCHEDULED,
            payload.rescheduled_at,
            detail,
            technician_id=payload.technician_id,
            appointment=(window.start, window.end),
        ),
    )


@handlers.on(d.WorkOrderStarted)
async def note_work_order_started(uow: UnitOfWork, payload: d.WorkOrderStarted, envelope: CloudEvent) -> None:
    detail = f"technician {payload.technician_id} started work ({payload.mode})"
    await activity.work_order_changed(
        uow, _work(payload, WorkStep.STARTED, payload.started_at, detail, technician_id=payload.technician_id)
    )


@handlers.on(d.WorkOrderCompleted)
async def note_work_order_completed(
    uow: UnitOfWork, payload: d.WorkOrderCompleted, envelope: CloudEvent
) -> None:
    summary = payload.resolution_summary or "; ".join(payload.actions) or "work completed"
    await activity.work_order_changed(
        uow,
        _work(
            payload,
            WorkStep.COMPLETED,
            payload.completed_at,
            f"work order {payload.work_order_number} completed: {summary}",
            technician_id=payload.technician_id,
            work_type=payload.type,
            remote=payload.mode == "remote",
        ),
    )


@handlers.on(d.WorkOrderIncomplete)
async def note_work_order_incomplete(
    uow: UnitOfWork, payload: d.WorkOrderIncomplete, envelope: CloudEvent
) -> None:
    detail = f"work order {payload.work_order_number} left incomplete: {payload.reason}"
    await activity.work_order_changed(
        uow,
        _work(
            payload,
            WorkStep.INCOMPLETE,
            payload.reported_at,
            detail + (f" ({payload.note})" if payload.note else ""),
            technician_id=payload.technician_id,
            waiting_for_parts=payload.reason == "parts_needed",
        ),
    )


@handlers.on(d.WorkOrderCancelled)
async def note_work_order_cancelled(
    uow: UnitOfWork, payload: d.WorkOrderCancelled, envelope: CloudEvent
) -> None:
    detail = f"work order {payload.work_order_number} cancelled ({payload.reason})"
    await activity.work_order_changed(uow, _work(payload, WorkStep.CANCELLED, payload.cancelled_at, detail))


@handlers.on(d.WorkOrderEscalated)
async def note_work_order_escalated(
    uow: UnitOfWork, payload: d.WorkOrderEscalated, envelope: CloudEvent
) -> None:
    detail = f"work order {payload.work_order_number} escalated: {payload.kind} ({payload.action_taken})"
    await activity.work_order_changed(uow, _work(payload, WorkStep.ESCALATED, payload.detected_at, detail))


@handlers.on(d.AppointmentConfirmed)
async def note_appointment_confirmed(
    uow: UnitOfWork, payload: d.AppointmentConfirmed, envelope: CloudEvent
) -> None:
    window = payload.window
    await activity.work_order_changed(
        uow,
        WorkOrderFact(
            work_order_id=payload.work_order_id,
            ticket_id=payload.ticket_id,
            step=WorkStep.APPOINTMENT_CONFIRMED,
            version=0,
            at=payload.confirmed_at,
            detail=f"appointment {window.start.isoformat()} to {window.end.isoformat()} confirmed ({payload.confirmed_via})",
        ),
    )


@handlers.on(d.AppointmentLate)
async def note_appointment_late(uow: UnitOfWork, payload: d.AppointmentLate, envelope: CloudEvent) -> None:
    await activity.work_order_changed(
        uow,
        WorkOrderFact(
            work_order_id=payload.work_order_id,
            ticket_id=payload.ticket_id,
            step=WorkStep.APPOINTMENT_LATE,
            version=0,
            at=payload.detected_at,
            detail=f"technician {payload.minutes_late} minutes late; customer told: {payload.customer_notified}",
        ),
    )


def _work(
    payload: d.WorkOrderCreated
    | d.WorkOrderAssigned
    | d.WorkOrderRescheduled
    | d.WorkOrderStarted
    | d.WorkOrderCompleted
    | d.WorkOrderIncomplete
    | d.WorkOrderCancelled
    | d.WorkOrderEscalated,
    step: WorkStep,
    at: datetime,
    detail: str,
    *,
    technician_id: str | None = None,
    technician_name: str | None = None,
    appointment: tuple[datetime, datetime] | None = None,
    work_type: str | None = None,
    remote: bool = False,
    waiting_for_parts: bool = False,
) -> WorkOrderFact:
    return WorkOrderFact(
        work_order_id=payload.work_order_id,
        ticket_id=payload.ticket_id,
        step=step,
        version=payload.version,
        at=at,
        detail=detail[:500],
        number=payload.work_order_number,
        technician_id=technician_id,
        technician_name=technician_name,
        appointment=appointment,
        work_type=work_type,
        remote=remote,
        waiting_for_parts=waiting_for_parts,
    )


# --- surveys -------------------------------------------------------------------------------------------


@handlers.on(s.ResponseNegative)
async def open_complaint_for_negative_answer(
    uow: UnitOfWork, payload: s.ResponseNegative, envelope: CloudEvent
) -> None:
    scores = {"nps": payload.scores.nps, "csat": payload.scores.csat}
    await complaints.complaint_for_negative_answer(
        uow,
        NegativeSurveyAnswer(
            response_id=payload.response_id,
            invitation_id=payload.invitation_id or payload.response_id,
            answered_at=payload.received_at,
            scores={name: value for name, value in scores.items() if value is not None},
            comment=payload.comment,
            ticket_id=payload.ticket_id,
            work_order_id=payload.work_order_id,
            customer_id=payload.customer_id,
            technician_id=payload.technician_id,
        ),
    )
