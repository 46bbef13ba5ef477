"""The hotline: the PBX's CTI webhook, calls, the caller card, tickets opened on a call, the call-back list."""

from __future__ import annotations

import hmac
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from intake.api.channel_views import (
    WEBHOOK_ERRORS,
    Agent,
    actor_of,
    after_of,
    check_webhook,
    cursor_of,
    refused,
)
from intake.channels import Rejected
from intake.channels.cti_webhook import read_cti_request
from intake.channels.settings import channel_settings
from intake.domain.callbacks import CallBackOutcome, CallBackTask
from intake.domain.contact_points import Address
from intake.domain.hotline import Call
from intake.domain.ticket_values import Channel, Priority, ProductRef, TicketType, TimeWindow
from intake.operations.channels import hotline
from intake.operations.channels import tickets as ticket_ops
from intake.operations.channels.quarantine import quarantine
from intake.store import channels as store
from kit.concurrency import IfMatch, etag
from kit.db import UnitOfWork
from kit.deps import Db, RuntimeDep
from kit.errors import HTTPProblem
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.pagination import Cursor, Limit, Page

router = APIRouter(tags=["hotline"])

CallId = Annotated[str, Path(max_length=250)]
CallbackId = Annotated[str, Path(max_length=64)]
Text = Annotated[str, Field(max_length=200)]

_CTI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One telephony event in the generic CTI shape PBXs send to helpdesks: form fields "
        "(event=newCall&callId=…&from=…&to=…&direction=in&user[]=…) or the same keys as JSON.",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["event", "callId"],
                    "properties": {
                        "event": {"type": "string", "enum": ["newCall", "answer", "hangup"]},
                        "callId": {"type": "string", "maxLength": 250},
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "direction": {"type": "string", "enum": ["in", "out"]},
                        "user[]": {"type": "array", "items": {"type": "string"}},
                        "queue": {"type": "string"},
                        "cause": {
                            "type": "string",
                            "enum": [
                                "normalClearing",
                                "busy",
                                "cancel",
                                "noAnswer",
                                "congestion",
                                "notFound",
                                "forwarded",
                            ],
                        },
                        "answeringNumber": {"type": "string"},
                        "timestamp": {"type": "string", "description": "ISO 8601 or Unix seconds"},
                    },
                },
                "example": "event=newCall&callId=4711&from=0301234567&to=08001234567&direction=in&user[]=anna",
            },
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


# --- DTOs ------------------------------------------------------------------------------------------


class CustomerCardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    name: str
    company_name: str | None
    tier: str
    region_code: str | None
    dealer_id: str | None
    phones: list[str]
    emails: list[str]
    matched_by: list[str]


class KnownUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    serial_number: str
    model_code: str | None
    product_line: str | None
    sale_date: date | None
    installation_date: date | None
    repair_coverage_ends_on: date | None
    registered: bool
    last_ticket_number: str | None


class OpenTicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    status: str
    type: str
    priority: str
    owner_id: str | None
    opened_at: datetime
    subject: str | None
    serial_number: str | None


class CallerCardOut(BaseModel):
    """What the agent's screen shows while the phone rings."""

    model_config = ConfigDict(from_attributes=True)

    phone: str | None = Field(description="The caller's number in E.164, when it could be read")
    customer: CustomerCardOut | None
    other_matches: list[CustomerCardOut]
    units: list[KnownUnitOut]
    open_tickets: list[OpenTicketOut]


class CallOut(BaseModel):
    call_id: str
    direction: str
    from_number: str | None
    to_number: str | None
    customer_number: str | None = Field(description="The customer's side of the call in E.164")
    queue: str | None
    users: list[str]
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    answered_by: str | None
    cause: str | None
    outcome: Literal["ringing", "connected", "answered", "abandoned", "missed", "out_of_hours", "forwarded"]
    ring_seconds: float | None
    within_target: bool | None = Field(description="Answered within the ring target (three rings)")
    customer_id: str | None
    ticket_id: str | None
    version: int

    @classmethod
    def of(cls, call: Call, within_target: bool | None) -> CallOut:
        ring = call.ring_time
        return cls(
            call_id=call.call_id,
            direction=call.direction.value,
            from_number=call.from_number,
            to_number=call.to_number,
            customer_number=call.customer_number,
            queue=call.queue,
            users=list(call.users),
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            answered_by=call.answered_by,
            cause=call.cause.value if call.cause else None,
            outcome=call.outcome.value,
            ring_seconds=ring.total_seconds() if ring is not None else None,
            within_target=within_target,
            customer_id=call.customer_id,
            ticket_id=call.ticket_id,
            version=call.version,
        )


class CtiEventOut(BaseModel):
    call: CallOut
    changed: bool = Field(description="False for a replayed or superseded event")
    callback_id: str | None = Field(description="The call-back task this event put on the list")
    caller: CallerCardOut | None = Field(description="For a new inbound call: who is calling")


class CallDetailOut(BaseModel):
    call: CallOut
    caller: CallerCardOut | None


class AttemptOut(BaseModel):
    at: datetime
    actor: str
    reached: bool
    note: str


class CallbackOut(BaseModel):
    id: str
    call_id: str
    number: str
    owner: str
    due_at: datetime
    overdue: bool
    created_at: datetime
    customer_id: str | None
    status: Literal["open", "done", "cancelled"]
    outcome: CallBackOutcome | None
    taken_by: str | None
    escalation_level: int
    escalated_at: datetime | None
    closed_at: datetime | None
    attempts: list[AttemptOut]
    version: int

    @classmethod
    def of(cls, task: CallBackTask, now: datetime) -> CallbackOut:
        return cls(
            id=task.id,
            call_id=task.call_id,
            number=task.number,
            owner=task.owner,
            due_at=task.due_at,
            overdue=task.overdue(now),
            created_at=task.created_at,
            customer_id=task.customer_id,
            status=task.status.value,
            outcome=task.outcome,
            taken_by=task.taken_by,
            escalation_level=task.escalation_level,
            escalated_at=task.escalated_at,
            closed_at=task.closed_at,
            attempts=[
                AttemptOut(at=a.at, actor=a.actor_ref, reached=a.reached, note=a.note) for a in task.attempts
            ],
            version=task.version,
        )


class CallbackOutcomeIn(BaseModel):
    outcome: CallBackOutcome = Field(
        description="reached closes the task; no_answer, busy and voicemail keep it open and due again "
        "later; wrong_number and not_needed close it without a conversation"
    )
    note: Annotated[str, Field(max_length=200)] = ""


class ProductIn(BaseModel):
    model_code: Annotated[str, Field(max_length=64)] | None = None
    serial_number: Annotated[str, Field(max_length=64)] | None = None
    product_line: Annotated[str, Field(max_length=64)] | None = None


class AddressIn(BaseModel):
    line1: Annotated[str, Field(min_length=1, max_length=200)]
    city: Annotated[str, Field(min_length=1, max_length=100)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    line2: Annotated[str, Field(max_length=200)] | None = None
    region_code: Annotated[str, Field(max_length=40)] | None = None


class WindowIn(BaseModel):
    start: datetime
    end: datetime


class CallTicketIn(BaseModel):
    """The ticket form the agent fills in on the call; the caller is the customer unless named."""

    type: TicketType = TicketType.REPAIR
    priority: Priority = Priority.NORMAL
    customer_id: Annotated[str, Field(max_length=64)] | None = None
    contact_name: Text | None = None
    contact_phone: Annotated[str, Field(max_length=40)] | None = None
    contact_email: Annotated[str, Field(max_length=254)] | None = None
    product: ProductIn | None = None
    purchase_date: date | None = None
    subject: Annotated[str, Field(max_length=300)] | None = None
    fault_description: Annotated[str, Field(max_length=4000)] | None = None
    site_address: AddressIn | None = None
    needs_on_site: bool = False
    preferred_windows: list[WindowIn] = Field(default_factory=list, max_length=20)

    def command(self) -> ticket_ops.OpenTicket:
        return ticket_ops.OpenTicket(
            channel=Channel.PHONE,
            type=self.type,
            priority=self.priority,
            customer_id=self.customer_id,
            contact_name=self.contact_name,
            contact_phone=self.contact_phone,
            contact_email=self.contact_email,
            product=ProductRef(**self.product.model_dump()) if self.product else None,
            purchase_date=self.purchase_date,
            subject=self.subject,
            fault_description=self.fault_description,
            site_address=Address(**self.site_address.model_dump()) if self.site_address else None,
            needs_on_site=self.needs_on_site,
            preferred_windows=[TimeWindow(w.start, w.end) for w in self.preferred_windows],
        )


class CallTicketOut(BaseModel):
    call_id: str
    ticket_id: str
    ticket_number: str
    customer_id: str


# --- the PBX's webhook ------------------------------------------------------------------------------


async def _take_cti_event(request: Request, db: Db, runtime: RuntimeDep, body: bytes) -> CtiEventOut:
    settings = channel_settings(runtime.name)
    received_at = runtime.clock.now()
    content_type = request.headers.get("content-type", "")
    event = read_cti_request(body, content_type, received_at=received_at)
    async with db.transaction() as uow:
        if isinstance(event, Rejected):
            held = await quarantine(
                uow,
                event,
                channel="hotline",
                source="cti-webhook",
                received_at=received_at,
                context={"content_type": content_type[:300]},
            )
        else:
            recorded = await hotline.record_cti_event(uow, event, settings)
            return CtiEventOut(
                call=CallOut.of(recorded.call, recorded.within_target),
                changed=recorded.changed,
                callback_id=recorded.callback.id if recorded.callback else None,
                caller=CallerCardOut.model_validate(recorded.card) if recorded.card else None,
            )
    raise refused(held.code, held.reason, held.item_id, what="telephony event")


@router.post(
    "/hotline/cti",
    summary="Telephony event from the PBX (CTI webhook)",
    description="The PBX posts newCall, answer and hangup events, in any order and as often as it "
    "retries; a replay changes nothing. Authenticated by a shared token (`Authorization: Bearer …`) "
    "or an HMAC-SHA256 signature of `<timestamp>.<body>` (`X-CTI-Timestamp`, `X-CTI-Signature`). "
    "An event that cannot be read is kept in quarantine (422 names it).",
    openapi_extra=_CTI_BODY,
    responses=WEBHOOK_ERRORS,
)
async def cti_event(request: Request, db: Db, runtime: RuntimeDep) -> CtiEventOut:
    body = await request.body()
    check_webhook(channel_settings(runtime.name).cti_auth(), body, request, runtime)
    return await _take_cti_event(request, db, runtime, body)


@router.post(
    "/hotline/cti/{token}",
    summary="Telephony event from a PBX that can only put its token in the URL",
    description="As `POST /hotline/cti`, for PBX integrations configured with a URL that carries the "
    "token (as helpdesks' generic CTI endpoints do). Prefer the header: URLs end up in logs.",
    openapi_extra=_CTI_BODY,
    responses=WEBHOOK_ERRORS,
)
async def cti_event_with_token(
    token: Annotated[str, Path(max_length=200)], request: Request, db: Db, runtime: RuntimeDep
) -> CtiEventOut:
    tokens = channel_settings(runtime.name).cti_tokens
    if not tokens:
        raise HTTPProblem(503, "webhook-not-configured", "No CTI token is configured.")
    if not any(hmac.compare_digest(token.encode(), known.encode()) for known in tokens):
        raise HTTPProblem(401, "webhook-unauthenticated", "the webhook token is missing or wrong")
    return await _take_cti_event(request, db, runtime, await request.body())


# --- calls and the caller card ---------------------------------------------------------------------


@router.get("/hotline/caller", summary="Caller lookup: who a number belongs to, their units and open tickets")
async def caller(
    phone: Annotated[str, Query(min_length=3, max_length=40, description="Any format; read as E.164")],
    db: Db,
    _: Agent,
) -> CallerCardOut:
    async with db.transaction() as uow:
        card = await ticket_ops.caller_card(uow, phone)
    return CallerCardOut.model_validate(card)


@router.get("/calls", summary="Calls, newest first")
async def list_calls(
    db: Db,
    _: Agent,
    limit: Limit = 50,
    cursor: Cursor = None,
    outcome: Annotated[
        Literal["ringing", "connected", "answered", "abandoned", "missed", "out_of_hours", "forwarded"]
        | None,
        Query(),
    ] = None,
    number: Annotated[str | None, Query(max_length=32, description="The customer's number in E.164")] = None,
) -> Page[CallOut]:
    async with db.transaction() as uow:
        rows = await store.list_calls(
            uow, outcome=outcome, customer_number=number, after=after_of(cursor), limit=limit + 1
        )
    items = [CallOut.of(store.call_of(row), row["within_target"]) for row in rows]
    return Page(
        items=items[:limit], next_cursor=cursor_of(rows, limit, lambda r: (r["created_at"], r["call_id"]))
    )


@router.get("/calls/{call_id}", summary="One call, with the caller card")
async def get_call(call_id: CallId, db: Db, _: Agent, response: Response) -> CallDetailOut:
    async with db.transaction() as uow:
        row = await store.get_call(uow, call_id)
        call = store.call_of(row)
        card = await ticket_ops.caller_card(uow, call.customer_number) if call.customer_number else None
    response.headers["ETag"] = etag(call.version)
    return CallDetailOut(
        call=CallOut.of(call, row["within_target"]),
        caller=CallerCardOut.model_validate(card) if card else None,
    )


@router.post(
    "/calls/{call_id}/ticket",
    status_code=201,
    summary="Open the ticket for this call",
    description="The agent on the call opens its ticket (first-contact owner: the agent). One ticket "
    "per call: a second one is refused with 409 `call-has-ticket`.",
    responses={201: {"model": CallTicketOut}},
)
async def open_ticket_for_call(
    call_id: CallId,
    body: CallTicketIn,
    request: Request,
    db: Db,
    principal: Agent,
    key: IdempotencyKey = None,
) -> Response:
    actor = actor_of(principal)

    async def create(uow: UnitOfWork) -> CallTicketOut:
        ticket = await hotline.open_ticket_for_call(uow, call_id, actor=actor, command=body.command())
        return CallTicketOut(
            call_id=call_id, ticket_id=ticket.id, ticket_number=ticket.number, customer_id=ticket.customer_id
        )

    return await run_idempotent(request, db, key, create)


# --- the call-back list ----------------------------------------------------------------------------


@router.get("/callbacks", summary="The call-back list, soonest due first")
async def list_callbacks(
    db: Db,
    runtime: RuntimeDep,
    _: Agent,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[Literal["open", "done", "cancelled"] | None, Query()] = "open",
    owner: Annotated[str | None, Query(max_length=200, description="A person or a queue")] = None,
    overdue: Annotated[bool, Query(description="Only those past their due time")] = False,
) -> Page[CallbackOut]:
    now = runtime.clock.now()
    async with db.transaction() as uow:
        tasks = await store.list_callbacks(
            uow,
            status=status,
            owner=owner,
            due_before=now if overdue else None,
            after=after_of(cursor),
            limit=limit + 1,
        )
    return Page(
        items=[CallbackOut.of(task, now) for task in tasks[:limit]],
        next_cursor=cursor_of(tasks, limit, lambda task: (task.due_at, task.id)),
    )


def _callback_out(task: CallBackTask, response: Response, now: datetime) -> CallbackOut:
    response.headers["ETag"] = etag(task.version)
    return CallbackOut.of(task, now)


@router.get("/callbacks/{task_id}", summary="One call-back task")
async def get_callback(
    task_id: CallbackId, db: Db, runtime: RuntimeDep, _: Agent, response: Response
) -> CallbackOut:
    async with db.transaction() as uow:
        task = await store.get_callback(uow, task_id)
    return _callback_out(task, response, runtime.clock.now())


@router.post("/callbacks/{task_id}/take", summary="Take a call-back for yourself")
async def take_callback(
    task_id: CallbackId,
    db: Db,
    runtime: RuntimeDep,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> CallbackOut:
    async with db.transaction() as uow:
        task = await hotline.take_callback(uow, task_id, actor=actor_of(principal), if_match=if_match)
    return _callback_out(task, response, runtime.clock.now())


@router.post("/callbacks/{task_id}/complete", summary="Record the outcome of calling back")
async def complete_callback(
    task_id: CallbackId,
    body: CallbackOutcomeIn,
    db: Db,
    runtime: RuntimeDep,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> CallbackOut:
    async with db.transaction() as uow:
        task = await hotline.complete_callback(
            uow, task_id, outcome=body.outcome, note=body.note, actor=actor_of(principal), if_match=if_match
        )
    return _callback_out(task, response, runtime.clock.now())
