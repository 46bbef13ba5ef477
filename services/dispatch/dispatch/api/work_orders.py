"""Work orders: create, list, read (ETag), explicit actions, instant assignment, the technician app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from dispatch import commands, store
from dispatch import tables as t
from dispatch.api.views import WorkOrderOut
from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment import assign_now
from dispatch.domain.completion import CollectedPart, CompletionReport, FaultCause, IncompleteReason, UsedPart
from dispatch.domain.values import Actor, PartNeed, Priority, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import WorkOrder
from dispatch.planning import crew_of, job_of
from kit.auth import Principal, Role, require
from kit.concurrency import IfMatch, etag
from kit.db import UnitOfWork
from kit.deps import Db
from kit.domain import DomainError, Forbidden
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["work orders"])
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR))]
FieldUser = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.TECHNICIAN))]
Reader = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.DEALER))
]
Short = Annotated[str, Field(min_length=1, max_length=300)]
ClientUpdateId = Annotated[str, Field(min_length=1, max_length=200)]


class WindowIn(BaseModel):
    start: datetime
    end: datetime

    def domain(self) -> TimeWindow:
        return TimeWindow(self.start, self.end)


class WorkOrderIn(BaseModel):
    type: WorkOrderType
    priority: Priority = Priority.NORMAL
    region_id: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    product_line: Annotated[str, Field(min_length=1, max_length=64)]
    address: dict[str, object] | None = None
    ticket_id: Annotated[str, Field(max_length=64)] | None = None
    serial_number: Annotated[str, Field(max_length=64)] | None = None
    model_grade: Annotated[str, Field(max_length=32)] | None = None
    availability: list[WindowIn] = Field(default_factory=list, max_length=20)
    needed_parts: list[tuple[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=1, le=1000)]]] = (
        Field(default_factory=list, max_length=50)
    )
    description: Annotated[str, Field(max_length=4000)] | None = None


class AssignIn(BaseModel):
    technician_id: Annotated[str, Field(min_length=1, max_length=64)]
    appointment: WindowIn
    reasons: list[Short] = Field(default_factory=list, max_length=20)
    lock: bool = False
    override_lock: bool = False


class TechnicianUpdateIn(BaseModel):
    client_update_id: ClientUpdateId | None = None


class UsedPartIn(BaseModel):
    part_number: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1
    serials: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=1000)


class OldPartIn(BaseModel):
    part_number: Annotated[str, Field(min_length=1, max_length=64)]
    serial: Annotated[str, Field(max_length=64)] | None = None
    defective: bool = True


class ReportIn(BaseModel):
    fault_code: Annotated[str, Field(min_length=1, max_length=64)]
    cause: FaultCause
    actions: list[Short] = Field(min_length=1, max_length=30)
    labour_minutes: Annotated[int, Field(ge=0, le=10_000)]
    first_time_fix: bool
    parts_used: list[UsedPartIn] = Field(default_factory=list, max_length=100)
    old_parts: list[OldPartIn] = Field(default_factory=list, max_length=100)
    signature_ref: Annotated[str, Field(max_length=200)] | None = None
    photo_refs: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=30)
    notes: Annotated[str, Field(max_length=4000)] = ""

    def domain(self) -> CompletionReport:
        return CompletionReport(
            fault_code=self.fault_code,
            cause=self.cause,
            actions=tuple(self.actions),
            labour_minutes=self.labour_minutes,
            first_time_fix=self.first_time_fix,
            parts_used=tuple(UsedPart(p.part_number, p.quantity, tuple(p.serials)) for p in self.parts_used),
            old_parts_collected=tuple(
                CollectedPart(p.part_number, p.serial, p.defective) for p in self.old_parts
            ),
            signature_ref=self.signature_ref,
            photo_refs=tuple(self.photo_refs),
            notes=self.notes,
        )


class CompleteIn(ReportIn):
    client_update_id: ClientUpdateId | None = None


class IncompleteIn(BaseModel):
    reason: IncompleteReason
    report: ReportIn | None = None
    client_update_id: ClientUpdateId | None = None


class CancelIn(BaseModel):
    reason: Literal[
        "ticket_cancelled", "ticket_merged", "duplicate", "solved_remotely", "customer_request", "other"
    ]


class RescheduleIn(BaseModel):
    appointment: WindowIn
    reason: Literal[
        "customer_request",
        "technician_unavailable",
        "parts_unavailable",
        "previous_job_overran",
        "weather",
        "access_problem",
        "other",
    ]
    notify_customer: bool = True


class EscalateOnSiteIn(BaseModel):
    reason: Short


class AutoAssignOut(BaseModel):
    work_order: WorkOrderOut
    technician_id: str
    reasons: list[str]
    cost: dict[str, float]
    runners_up: list[str]
    rejected: dict[str, list[str]]


def _actor(principal: Principal) -> Actor:
    return commands.role_actor(principal.subject, frozenset(r.value for r in principal.roles))


def _visible(principal: Principal, order: WorkOrder) -> None:
    if not principal.may_see_dealer(order.dealer_id):
        raise Forbidden("this work order belongs to another dealer")


def _respond(order: WorkOrder, version: int, number: str, response: Response) -> WorkOrderOut:
    response.headers["ETag"] = etag(version)
    return WorkOrderOut.from_order(order, number=number, version=version)


async def _act(
    db: Db,
    work_order_id: str,
    principal: Principal,
    act: Callable[[WorkOrder, Actor, datetime], object],
    response: Response,
    if_match: str | None = None,
    method: str | None = None,
) -> WorkOrderOut:
    actor = _actor(principal)
    async with db.transaction() as uow:
        now = uow.now()
        order, version = await commands.change_work_order(
            uow,
            work_order_id,
            lambda o: act(o, actor, now),
            if_match=if_match,
            assignment_method=method,
            actor=actor,
        )
        number = (await store.load_row(uow, work_order_id, for_update=False))["number"]
    return _respond(order, version, number, response)


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
            address=body.address,
            product_line=body.product_line,
            actor=_actor(principal),
            customer_id=body.customer_id,
            ticket_id=body.ticket_id,
            serial_number=body.serial_number,
            model_grade=body.model_grade,
            availability=[w.domain() for w in body.availability],
            needed_parts=[PartNeed(p, q) for p, q in body.needed_parts],
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
    if not principal.may_see_dealer(out.dealer_id):
        raise Forbidden("this work order belongs to another dealer")
    response.headers["ETag"] = etag(row["version"])
    return out


# --- dispatcher actions --------------------------------------------------------------------------------


@router.post("/work_orders/{work_order_id}/assign")
async def assign(
    work_order_id: str,
    body: AssignIn,
    db: Db,
    principal: Dispatcher,
    response: Response,
    if_match: IfMatch = None,
) -> WorkOrderOut:
    async with db.transaction() as uow:
        await store.get_row(uow, t.technicians, body.technician_id)

    def act(order: WorkOrder, actor: Actor, now: datetime) -> None:
        order.assign(
            body.technician_id,
            Appointment(body.appointment.domain()),
            at=now,
            actor=actor,
            reasons=body.reasons or ("chosen by the dispatcher",),
            override_lock=body.override_lock,
        )
        if body.lock:
            order.lock(at=now, actor=actor)

    return await _act(db, work_order_id, principal, act, response, if_match, method="manual")


@router.post("/work_orders/{work_order_id}/auto_assign")
async def auto_assign(work_order_id: str, db: Db, principal: Dispatcher, response: Response) -> AutoAssignOut:
    """Instant assignment: the best able technician now, with the reasons and the runners-up."""
    actor = _actor(principal)
    async with db.transaction() as uow:
        now = uow.now()
        order = store.restore(await store.load_row(uow, work_order_id, for_update=False))
        crews = [crew_of(r, at=now) for r in await store.list_rows(uow, t.technicians) if r["active"]]
        choice = assign_now(job_of(order), crews, now=now)
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
        work_order=_respond(order, version, number, response),
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
    return await _act(
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
    principal: FieldUser,
    response: Response,
    if_match: IfMatch = None,
) -> WorkOrderOut:
    return await _act(
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


@router.post("/work_orders/{work_order_id}/escalate_on_site")
async def escalate_on_site(
    work_order_id: str,
    body: EscalateOnSiteIn,
    db: Db,
    principal: Dispatcher,
    response: Response,
) -> WorkOrderOut:
    return await _act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.escalate_to_on_site(reason=body.reason, at=now, actor=a),
        response,
    )


# --- technician app (idempotent by client_update_id) -------------------------------------------------


@router.post("/work_orders/{work_order_id}/accept")
async def accept(
    work_order_id: str, body: TechnicianUpdateIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    return await _act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.accept(at=now, actor=a, client_update_id=body.client_update_id),
        response,
    )


@router.post("/work_orders/{work_order_id}/start_travel")
async def start_travel(
    work_order_id: str, body: TechnicianUpdateIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    return await _act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.start_travel(at=now, actor=a, client_update_id=body.client_update_id),
        response,
    )


@router.post("/work_orders/{work_order_id}/arrive")
async def arrive(
    work_order_id: str, body: TechnicianUpdateIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    return await _act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.arrive(at=now, actor=a, client_update_id=body.client_update_id),
        response,
    )


@router.post("/work_orders/{work_order_id}/complete")
async def complete(
    work_order_id: str, body: CompleteIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    report = body.domain()
    return await _act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.complete(report, at=now, actor=a, client_update_id=body.client_update_id),
        response,
    )


@router.post("/work_orders/{work_order_id}/incomplete")
async def incomplete(
    work_order_id: str, body: IncompleteIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    report = body.report.domain() if body.report else None
    return await _act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.report_incomplete(
            body.reason, at=now, actor=a, report=report, client_update_id=body.client_update_id
        ),
        response,
    )


@router.get("/me/jobs")
async def my_jobs(
    db: Db,
    principal: Annotated[Principal, Depends(require(Role.TECHNICIAN))],
    day: Annotated[date | None, Query(alias="date")] = None,
) -> list[WorkOrderOut]:
    """The calling technician's jobs with an appointment on ``date`` (default: every open one)."""
    async with db.transaction() as uow:
        start = datetime.combine(day, time(0), tzinfo=UTC) if day else None
        rows = await store.list_work_orders(
            uow,
            state=None,
            technician_id=principal.subject,
            dealer_id=None,
            after=None,
            limit=200,
            day_start=start,
            day_end=start + timedelta(days=1) if start else None,
        )
    return [WorkOrderOut.of(r) for r in rows]


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
        _visible(principal, store.restore(await store.load_row(uow, work_order_id, for_update=False)))
        transitions = await store.transitions_of(uow, work_order_id)
        notes = await store.notes_of(uow, work_order_id)
    return HistoryOut(
        transitions=[TransitionOut.model_validate(dict(r)) for r in transitions],
        notes=[NoteOut.model_validate(dict(r)) for r in notes],
    )
