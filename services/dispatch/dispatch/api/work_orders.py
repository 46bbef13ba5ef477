"""Work orders: create, list, read (ETag), the dispatcher's explicit actions, instant assignment, history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from contracts.common import Address
from contracts.dispatch import RescheduleReason
from dispatch import commands, handover, manual_assignment, store
from dispatch.api.common import (
    Dispatcher,
    FieldUser,
    Reader,
    Short,
    WindowIn,
    act,
    actor_of,
    check_visible,
    dealer_of,
    respond,
)
from dispatch.api.technician_app import ReportIn
from dispatch.api.views import WorkOrderOut
from dispatch.domain.dealers import own_technician_in_time
from dispatch.domain.values import PartNeed, Priority, WorkOrderType
from kit.auth import Principal, Role, require
from kit.concurrency import IfMatch, etag
from kit.db import UnitOfWork
from kit.dealers import ensure_visible
from kit.deps import Db
from kit.domain import DomainError
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["work orders"])
Assigner = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.DEALER))]
Scheduler = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.DEALER))
]


class WorkOrderIn(BaseModel):
    type: WorkOrderType
    priority: Priority = Priority.NORMAL
    region_id: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    product_line: Annotated[str, Field(min_length=1, max_length=64)]
    address: Address | None = None
    ticket_id: Annotated[str, Field(max_length=64)] | None = None
    serial_number: Annotated[str, Field(max_length=64)] | None = None
    model_grade: Annotated[str, Field(max_length=32)] | None = None
    availability: list[WindowIn] = Field(default_factory=list, max_length=20)
    needed_parts: list[tuple[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=1, le=1000)]]] = (
        Field(default_factory=list, max_length=50)
    )
    description: Annotated[str, Field(max_length=4000)] | None = None
    required_certifications: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        max_length=20,
        description="Certifications the technician must hold for the product line, valid on the day of the "
        "visit (e.g. refrigerant handling for an air conditioner)",
    )


class AssignIn(BaseModel):
    technician_id: Annotated[str, Field(min_length=1, max_length=64)]
    appointment: WindowIn
    reasons: list[Short] = Field(default_factory=list, max_length=20)
    lock: bool = False
    override_lock: bool = False
    override: bool = Field(
        default=False,
        description="Assign even though the technician is off duty or on a break, lacks a skill or a valid "
        "certification, does not cover the region or is absent on the day; the problems are recorded among "
        "the assignment's reasons. An inactive technician is refused whatever this says.",
    )


class AutoAssignIn(BaseModel):
    dealer_fallback: bool = Field(
        default=False,
        description="When no company technician can be on site by the deadline, hand the job to the "
        "authorised service point covering the region instead of refusing",
    )


class CancelIn(BaseModel):
    reason: Literal[
        "ticket_cancelled", "ticket_merged", "duplicate", "solved_remotely", "customer_request", "other"
    ]


class RescheduleIn(BaseModel):
    appointment: WindowIn
    reason: RescheduleReason
    notify_customer: bool = Field(
        default=True,
        description="Ask for the customer to be told of the new time (false: they already agreed it, e.g. "
        "on the phone)",
    )


class ConfirmAppointmentIn(BaseModel):
    via: Literal["phone", "sms", "email", "portal", "technician_app", "dealer"]


class EscalateOnSiteIn(BaseModel):
    reason: Short


class FollowUpIn(BaseModel):
    needed_parts: list[tuple[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=1, le=1000)]]] = (
        Field(default_factory=list, max_length=50, description="Default: the parts the first visit expected")
    )


class AutoAssignOut(BaseModel):
    work_order: WorkOrderOut
    technician_id: str | None = Field(description="The technician chosen; none when handed to a dealer")
    dealer_id: str | None = Field(default=None, description="The service point the job was handed to")
    reasons: list[str]
    cost: dict[str, float]
    runners_up: list[str]
    rejected: dict[str, list[str]]


# --- create, list, read ----------------------------------------------------------------------------


@router.post("/work_orders", status_code=201)
async def create_work_order(
    body: WorkOrderIn, request: Request, db: Db, principal: Dispatcher, key: IdempotencyKey = None
) -> Response:
    async def create(uow: UnitOfWork) -> WorkOrderOut:
        order, facts = await commands.open_work_order(
            uow,
            type=body.type,
            priority=body.priority,
            region_id=body.region_id,
            address=body.address.model_dump(mode="json") if body.address else None,
            product_line=body.product_line,
            actor=actor_of(principal),
            customer_id=body.customer_id,
            ticket_id=body.ticket_id,
            serial_number=body.serial_number,
            model_grade=body.model_grade,
            availability=[w.domain() for w in body.availability],
            needed_parts=[PartNeed(p, q) for p, q in body.needed_parts],
            required_certifications=body.required_certifications,
            facts={"description": body.description},
        )
        return WorkOrderOut.from_order(order, number=facts["number"], version=1)

    return await run_idempotent(request, db, key, create)


@router.get("/work_orders")
async def list_work_orders(
    db: Db,
    principal: Reader,
    limit: Limit = 50,
    cursor: Cursor = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
    technician_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[WorkOrderOut]:
    after = decode_cursor(cursor)
    async with db.transaction() as uow:
        rows = await store.list_work_orders(
            uow,
            state=state,
            technician_id=technician_id,
            dealer_id=principal.dealer_id if principal.is_partner else None,
            after=str(after[0]) if after else None,
            limit=limit + 1,
        )
    return page_of([WorkOrderOut.of(r) for r in rows], limit, lambda w: (w.id,))


@router.get("/work_orders/{work_order_id}")
async def get_work_order(work_order_id: str, db: Db, principal: Reader, response: Response) -> WorkOrderOut:
    async with db.transaction() as uow:
        row = await store.load_row(uow, work_order_id, for_update=False)
    out = WorkOrderOut.of(row)
    ensure_visible(principal, out.dealer_id, "work order")
    response.headers["ETag"] = etag(row["version"])
    return out


# --- dispatcher actions --------------------------------------------------------------------------------


@router.post("/work_orders/{work_order_id}/assign")
async def assign(
    work_order_id: str,
    body: AssignIn,
    db: Db,
    principal: Assigner,
    response: Response,
    if_match: IfMatch = None,
) -> WorkOrderOut:
    """Give the job to a technician for an appointment. A dealer assigns the jobs handed to it, to its own
    technicians (which also accepts the job).

    The choice is checked as the planner would check it: an inactive technician is refused (409
    ``technician-inactive``); a technician off duty or on a break (for a visit today), lacking a skill or
    a certification valid on the day of the visit, not covering the region, or absent that day is refused
    with the ``problems`` listed (409 ``assignment-needs-override``) unless ``override`` is true, when the
    job is assigned and the problems are recorded among the assignment's reasons."""
    dealer_id = dealer_of(principal) if principal.is_partner else None
    async with db.transaction() as uow:
        order, version = await manual_assignment.assign_chosen(
            uow,
            work_order_id,
            technician_id=body.technician_id,
            visit=body.appointment.domain(),
            actor=actor_of(principal),
            reasons=body.reasons,
            override=body.override,
            lock=body.lock,
            override_lock=body.override_lock,
            dealer_id=dealer_id,
            if_match=if_match,
        )
        number = (await store.load_row(uow, work_order_id, for_update=False))["number"]
    return respond(order, version, number, response)


@router.post("/work_orders/{work_order_id}/auto_assign")
async def auto_assign(
    work_order_id: str,
    db: Db,
    principal: Dispatcher,
    response: Response,
    body: AutoAssignIn | None = None,
) -> AutoAssignOut:
    """Instant assignment: the best able company technician now (around the appointments they already
    hold), with the reasons and the runners-up. With ``dealer_fallback``, a job no company technician can
    reach by its on-site deadline goes to the authorised service point covering the region instead."""
    actor = actor_of(principal)
    fallback = body is not None and body.dealer_fallback
    async with db.transaction() as uow:
        now = uow.now()
        order = store.restore(await store.load_row(uow, work_order_id, for_update=False))
        choice = await handover.best_own_technician(uow, order)
        in_time = own_technician_in_time(choice)
        if fallback and in_time is None:
            order, version = await handover.hand_to_dealer(
                uow, work_order_id, actor=actor, even_if_own_technician_in_time=True
            )
            number = (await store.load_row(uow, work_order_id, for_update=False))["number"]
            return AutoAssignOut(
                work_order=respond(order, version, number, response),
                technician_id=None,
                dealer_id=order.dealer_id,
                reasons=[handover.DEFAULT_REASON],
                cost={},
                runners_up=[c.technician_id for c in (choice.best, *choice.runners_up) if c],
                rejected={r.technician_id: list(r.reasons) for r in choice.rejected},
            )
        if choice.best is None:
            raise DomainError(
                "no technician can take this job: "
                + "; ".join(f"{r.technician_id}: {', '.join(r.reasons)}" for r in choice.rejected),
                code="no-technician-available",
            )
        order, version = await commands.change_work_order(
            uow,
            work_order_id,
            lambda o: choice.apply_to(o, at=now, actor=actor),
            assignment_method="instant",
            actor=actor,
        )
        number = (await store.load_row(uow, work_order_id, for_update=False))["number"]
    best = choice.best
    return AutoAssignOut(
        work_order=respond(order, version, number, response),
        technician_id=best.technician_id,
        reasons=list(best.reasons),
        cost=dict(best.cost_pairs()),
        runners_up=[c.technician_id for c in choice.runners_up],
        rejected={r.technician_id: list(r.reasons) for r in choice.rejected},
    )


@router.post("/work_orders/{work_order_id}/cancel")
async def cancel(
    work_order_id: str,
    body: CancelIn,
    db: Db,
    principal: Dispatcher,
    response: Response,
    if_match: IfMatch = None,
) -> WorkOrderOut:
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.cancel(reason=body.reason, at=now, actor=a),
        response,
        if_match,
    )


@router.post("/work_orders/{work_order_id}/reschedule")
async def reschedule(
    work_order_id: str,
    body: RescheduleIn,
    db: Db,
    principal: Scheduler,
    response: Response,
    if_match: IfMatch = None,
) -> WorkOrderOut:
    """Move the appointment, with the reason; ``dispatch.work_order.rescheduled.v1`` tells intake, which
    tells the customer unless ``notify_customer`` is false. A technician moves only their own visits, and
    must do so before the visit starts (a later move is recorded as not made in time)."""
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.reschedule(
            body.appointment.domain(),
            reason=body.reason,
            at=now,
            actor=a,
            notify_customer=body.notify_customer,
        ),
        response,
        if_match,
    )


@router.post("/work_orders/{work_order_id}/confirm_appointment")
async def confirm_appointment(
    work_order_id: str, body: ConfirmAppointmentIn, db: Db, principal: Scheduler, response: Response
) -> WorkOrderOut:
    """The customer agreed the appointment (``dispatch.appointment.confirmed.v1``). A confirmed appointment
    is kept to the minute by the optimiser; confirming again changes nothing."""
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.confirm_appointment(via=body.via, at=now, actor=a),
        response,
    )


@router.post("/work_orders/{work_order_id}/escalate_on_site")
async def escalate_on_site(
    work_order_id: str,
    body: EscalateOnSiteIn,
    db: Db,
    principal: Dispatcher,
    response: Response,
) -> WorkOrderOut:
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.escalate_to_on_site(reason=body.reason, at=now, actor=a),
        response,
    )


@router.post("/work_orders/{work_order_id}/lock")
async def lock(work_order_id: str, db: Db, principal: Dispatcher, response: Response) -> WorkOrderOut:
    """Keep the assigned technician: the optimiser plans around this job instead of moving it."""
    return await act(db, work_order_id, principal, lambda o, a, now: o.lock(at=now, actor=a), response)


@router.post("/work_orders/{work_order_id}/unlock")
async def unlock(work_order_id: str, db: Db, principal: Dispatcher, response: Response) -> WorkOrderOut:
    return await act(db, work_order_id, principal, lambda o, a, now: o.unlock(at=now, actor=a), response)


@router.post("/work_orders/{work_order_id}/follow_up", status_code=201)
async def follow_up(
    work_order_id: str,
    body: FollowUpIn,
    request: Request,
    db: Db,
    principal: Dispatcher,
    key: IdempotencyKey = None,
) -> Response:
    """Open the work order that finishes what an incomplete visit could not."""

    async def create(uow: UnitOfWork) -> WorkOrderOut:
        order, facts = await commands.open_follow_up(
            uow,
            work_order_id,
            actor=actor_of(principal),
            needed_parts=[PartNeed(p, q) for p, q in body.needed_parts],
        )
        return WorkOrderOut.from_order(order, number=facts["number"], version=1)

    return await run_idempotent(request, db, key, create)


# --- remote support --------------------------------------------------------------------------------


@router.post("/work_orders/{work_order_id}/start_remote_support")
async def start_remote_support(
    work_order_id: str, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    """A remote support session begins; not solved within 4 hours, the job goes on site (timer)."""
    return await act(
        db, work_order_id, principal, lambda o, a, now: o.start_remote_support(at=now, actor=a), response
    )


@router.post("/work_orders/{work_order_id}/resolve_remotely")
async def resolve_remotely(
    work_order_id: str, body: ReportIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    """Solved remotely: completed with the report (``dispatch.work_order.completed.v1``, mode remote)."""
    report = body.domain()
    return await act(
        db, work_order_id, principal, lambda o, a, now: o.resolve_remotely(report, at=now, actor=a), response
    )


# --- history ---------------------------------------------------------------------------------------


class TransitionOut(BaseModel):
    action: str
    from_state: str
    to_state: str
    actor_id: str
    actor_role: str
    client_update_id: str | None
    at: datetime


class NoteOut(BaseModel):
    kind: str
    text: str
    at: datetime


class HistoryOut(BaseModel):
    transitions: list[TransitionOut]
    notes: list[NoteOut]


@router.get("/work_orders/{work_order_id}/history")
async def work_order_history(work_order_id: str, db: Db, principal: Reader) -> HistoryOut:
    """Every action taken on the order, and the notes other services left on it."""
    async with db.transaction() as uow:
        check_visible(principal, store.restore(await store.load_row(uow, work_order_id, for_update=False)))
        transitions = await store.transitions_of(uow, work_order_id)
        notes = await store.notes_of(uow, work_order_id)
    return HistoryOut(
        transitions=[TransitionOut.model_validate(dict(r)) for r in transitions],
        notes=[NoteOut.model_validate(dict(r)) for r in notes],
    )
