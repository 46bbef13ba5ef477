"""The technician app: my jobs today, my position and status, and the steps of a visit.

The app works with intermittent connectivity. Each step carries the app's ``client_update_id``: sending it
again (the answer was lost, the app replays its queue) changes nothing and returns the order as it is.
``occurred_at`` is when the step happened on the device, so a step sent after a spell offline keeps its
real time (never in the future, never before the order's previous step).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from dispatch import store, working_status
from dispatch.api.common import FieldUser, Short, Technician, act, actor_of
from dispatch.api.views import StatusOut, WorkOrderOut
from dispatch.domain.completion import CollectedPart, CompletionReport, FaultCause, IncompleteReason, UsedPart
from dispatch.domain.technicians import TechnicianStatus
from dispatch.domain.values import Actor
from dispatch.domain.work_orders import WorkOrder
from dispatch.domain.work_orders.aggregate import CLOCK_SKEW
from dispatch.planning import technician_of
from kit.db import UnitOfWork
from kit.deps import Db
from kit.domain import DomainError

router = APIRouter(tags=["technician app"])
ClientUpdateId = Annotated[str, Field(min_length=1, max_length=200)]


class TechnicianUpdateIn(BaseModel):
    client_update_id: ClientUpdateId | None = None
    occurred_at: datetime | None = Field(
        default=None, description="When it happened on the device (default: when the server receives it)"
    )


class PointIn(BaseModel):
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


class VisitStepIn(TechnicianUpdateIn):
    position: PointIn | None = Field(
        default=None,
        description="Where the device was at the step; it becomes the last known position as of "
        "``occurred_at`` (unless a later one is held)",
    )


class DeclineIn(TechnicianUpdateIn):
    reason: Short


class UsedPartIn(BaseModel):
    part_number: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1
    serials: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=1000)


class OldPartIn(BaseModel):
    part_number: Annotated[str, Field(min_length=1, max_length=64)]
    serial: Annotated[str, Field(max_length=64)] | None = None
    defective: bool = True


class ReportIn(BaseModel):
    fault_code: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Required for repairs and remote support; none for installations and maintenance",
    )
    cause: FaultCause | None = None
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
    occurred_at: datetime | None = None


class IncompleteIn(TechnicianUpdateIn):
    reason: IncompleteReason
    report: ReportIn | None = None


class PositionIn(BaseModel):
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    reported_at: datetime | None = Field(default=None, description="When the device took the position")


class PositionOut(BaseModel):
    kept: bool = Field(description="False when a later position was already reported")
    reported_at: datetime


class MyStatusIn(BaseModel):
    status: Literal["available", "on_break", "off_duty"]
    occurred_at: datetime | None = Field(
        default=None, description="When it changed on the device (default: when the server receives it)"
    )


def _position_at(
    step: str, position: PointIn | None
) -> Callable[[UnitOfWork, WorkOrder], Awaitable[None]] | None:
    """Keep the step's position as the technician's last known one, as of when the step happened."""
    if position is None:
        return None

    async def keep(uow: UnitOfWork, order: WorkOrder) -> None:
        at = next((r.at for r in reversed(order.history) if r.action == step), None)
        if at is not None and order.technician_id:
            await store.report_position(
                uow, order.technician_id, lat=position.latitude, lon=position.longitude, at=at
            )

    return keep


# --- the steps of a visit ------------------------------------------------------------------------------


def _reported(
    body: TechnicianUpdateIn | CompleteIn, step: Callable[..., object], *args: object, **kwargs: object
) -> Callable[[WorkOrder, Actor, datetime], object]:
    """The app's ``step`` on the order (``WorkOrder.accept``, say, with ``args`` and ``kwargs``), at the
    time the device recorded it and with the app's ``client_update_id``."""
    return lambda o, a, now: step(
        o,
        *args,
        at=o.reported_time(body.occurred_at, now),
        actor=a,
        client_update_id=body.client_update_id,
        **kwargs,
    )


@router.post("/work_orders/{work_order_id}/accept")
async def accept(
    work_order_id: str, body: TechnicianUpdateIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    return await act(db, work_order_id, principal, _reported(body, WorkOrder.accept), response)


@router.post("/work_orders/{work_order_id}/decline")
async def decline(
    work_order_id: str, body: DeclineIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    """The technician gives the job back; it keeps its appointment and waits for another technician."""
    return await act(
        db, work_order_id, principal, _reported(body, WorkOrder.decline, reason=body.reason), response
    )


@router.post("/work_orders/{work_order_id}/start_travel")
async def start_travel(
    work_order_id: str, body: VisitStepIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    """On the way: the technician's status becomes travelling (to this order)."""
    return await act(
        db,
        work_order_id,
        principal,
        _reported(body, WorkOrder.start_travel),
        response,
        then=_position_at("start_travel", body.position),
    )


@router.post("/work_orders/{work_order_id}/arrive")
async def arrive(
    work_order_id: str, body: VisitStepIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    """On site: the technician's status becomes on_site until the visit is completed or reported
    incomplete (then available)."""
    return await act(
        db,
        work_order_id,
        principal,
        _reported(body, WorkOrder.arrive),
        response,
        then=_position_at("arrive", body.position),
    )


@router.post("/work_orders/{work_order_id}/complete")
async def complete(
    work_order_id: str, body: CompleteIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    return await act(
        db, work_order_id, principal, _reported(body, WorkOrder.complete, body.domain()), response
    )


@router.post("/work_orders/{work_order_id}/incomplete")
async def incomplete(
    work_order_id: str, body: IncompleteIn, db: Db, principal: FieldUser, response: Response
) -> WorkOrderOut:
    report = body.report.domain() if body.report else None
    return await act(
        db,
        work_order_id,
        principal,
        _reported(body, WorkOrder.report_incomplete, body.reason, report=report),
        response,
    )


# --- my day ----------------------------------------------------------------------------------------


def _device_time(reported: datetime | None, now: datetime, *, field: str, future: str) -> datetime:
    """When the device says something happened (default: ``now``): with its time zone, and not ahead of
    the server's clock by more than a device's clock may run ahead (``future``: the refusal's message)."""
    at = reported or now
    if at.tzinfo is None:
        raise DomainError(f"{field} must carry its time zone", code="naive-datetime")
    if at > now + CLOCK_SKEW:
        raise DomainError(future, code="occurred-in-future")
    return at


@router.get("/me/jobs")
async def my_jobs(
    db: Db,
    principal: Technician,
    day: Annotated[date | None, Query(alias="date", description="Default: today in my time zone")] = None,
) -> list[WorkOrderOut]:
    """The calling technician's visits on ``date``, in appointment order. Days are those of the time zone
    the technician is planned in: the home centre calendar's for a technician working to it (no shifts of
    their own), else their own."""
    async with db.transaction() as uow:
        me = await store.find_technician(uow, principal.subject)
        zone = ZoneInfo(technician_of(me).timezone if me is not None else "UTC")
        day = day or uow.now().astimezone(zone).date()
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        rows = await store.list_work_orders(
            uow,
            state=None,
            technician_id=principal.subject,
            dealer_id=None,
            after=None,
            limit=200,
            day_start=start,
            day_end=end,
        )
    return [WorkOrderOut.of(r) for r in rows]


@router.post("/me/position")
async def report_position(body: PositionIn, db: Db, principal: Technician) -> PositionOut:
    """Where the technician is now: travel to the next job is planned from here (an older report than the
    one held is ignored, so a replayed queue cannot move the technician back)."""
    async with db.transaction() as uow:
        at = _device_time(
            body.reported_at,
            uow.now(),
            field="reported_at",
            future="a position cannot be reported from the future",
        )
        kept = await store.report_position(
            uow, principal.subject, lat=body.latitude, lon=body.longitude, at=at
        )
    return PositionOut(kept=kept, reported_at=at)


@router.post("/me/status")
async def set_my_status(body: MyStatusIn, db: Db, principal: Technician) -> StatusOut:
    """The technician is available, on a break, or off duty (done for the day: no urgent job is sent, and
    the rest of the day is not planned). While a visit is under way the status follows the visit (409):
    travelling and on site are set by its steps. A report older than the status held is not kept."""
    async with db.transaction() as uow:
        at = _device_time(
            body.occurred_at, uow.now(), field="occurred_at", future="a status cannot change in the future"
        )
        held, kept = await working_status.set_status(
            uow, principal.subject, TechnicianStatus(body.status), actor=actor_of(principal), at=at
        )
    return StatusOut.of(principal.subject, held, kept=kept)
