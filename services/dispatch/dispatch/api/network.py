"""Service centres, regions and technicians (dispatchers and admins maintain them)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field, field_validator, model_validator

from dispatch import store, working_status
from dispatch import tables as t
from dispatch.api.common import Dispatcher, Id, actor_of
from dispatch.api.views import StatusOut
from dispatch.domain.technicians import ShiftSpan, TechnicianStatus
from dispatch.domain.values import TimeWindow
from dispatch.planning import skill_of
from dispatch.working_status import status_of, working_status_of
from kit.auth import Principal, Role, require
from kit.deps import Db
from kit.domain import DomainError

router = APIRouter(tags=["network"])
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN))]


class CentreIn(BaseModel):
    id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["headquarters", "regional_centre", "service_point"]
    dealer_id: Id | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    warehouse_location_id: Id | None = None
    region_ids: list[Id] = Field(
        default_factory=list,
        max_length=200,
        description="Regions it serves besides those it is responsible for (an authorised service point's "
        "coverage: it receives their jobs when no company technician can make the deadline)",
    )

    @model_validator(mode="after")
    def _dealer_runs_service_points_only(self) -> CentreIn:
        if (self.kind == "service_point") != (self.dealer_id is not None):
            raise ValueError("an authorised service point names its dealer, and only a service point does")
        return self


class RegionIn(BaseModel):
    id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    grade: Literal["A", "B", "C"]
    centre_id: Id


class CertificationIn(BaseModel):
    """A certification the technician holds; jobs on its product line that require it go only to
    technicians holding it on the day of the visit."""

    name: Annotated[str, Field(min_length=1, max_length=100, description="e.g. refrigerant_handling")]
    product_line: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="The product line it is for; none: every product line"
    )
    valid_from: date | None = Field(default=None, description="First day it is valid; none: already")
    valid_until: date | None = Field(default=None, description="Last day it is valid; none: no expiry")

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, value: object) -> object:
        # the first form of a certification was its bare name (every product line, no expiry)
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _valid_for_some_time(self) -> CertificationIn:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("a certification cannot expire before it becomes valid")
        return self


class TechnicianIn(BaseModel):
    id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    centre_id: Id
    region_ids: list[Id] = Field(min_length=1, max_length=50)
    skills: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=100, description="capability:product_line, e.g. repair:water_heater"
    )
    certifications: list[CertificationIn] = Field(
        default_factory=list,
        max_length=50,
        description="Certifications with their product line and validity (a bare name is accepted: every "
        "product line, no expiry)",
    )
    shifts: dict[Literal["0", "1", "2", "3", "4", "5", "6"], list[tuple[time, time]]] | None = Field(
        default=None,
        description="Weekday (0=Monday) -> [start, end] spans in the technician's time zone (an end of "
        "00:00 is midnight). Leave out to work to the home centre's business calendar: its working hours, "
        "time zone and holidays as they are when planning (a change of the centre's calendar applies at "
        "once), or Mon-Fri 08-17 while the centre keeps none.",
    )
    home_lat: Annotated[float, Field(ge=-90, le=90)]
    home_lon: Annotated[float, Field(ge=-180, le=180)]
    van_location_id: Id | None = None
    timezone: Annotated[str, Field(max_length=64)] = "UTC"
    dealer_id: Id | None = None
    active: bool = True
    daily_capacity_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 480

    @field_validator("skills")
    @classmethod
    def _skills_known(cls, skills: list[str]) -> list[str]:
        for text in skills:
            try:
                skill_of(text)
            except ValueError as exc:
                raise ValueError(f"unknown skill {text!r}") from exc
        return skills

    @field_validator("shifts")
    @classmethod
    def _shifts_possible(
        cls, shifts: dict[str, list[tuple[time, time]]] | None
    ) -> dict[str, list[tuple[time, time]]] | None:
        for spans in (shifts or {}).values():
            for start, end in spans:
                try:
                    ShiftSpan(start, end)
                except DomainError as exc:
                    raise ValueError(exc.detail) from exc
        return shifts

    def row(self) -> dict[str, object]:
        values = self.model_dump(mode="json", exclude={"shifts"})
        values["shifts"] = (
            {day: [[a.isoformat(), b.isoformat()] for a, b in spans] for day, spans in self.shifts.items()}
            if self.shifts
            else {}
        )
        return values


class TechnicianOut(TechnicianIn):
    works_to: Literal["own_shifts", "centre_calendar", "standard_week"] = Field(
        description="Whose working hours plan the technician: their own shifts, their home centre's "
        "business calendar (and its holidays), or Mon-Fri 08-17 while the centre keeps none"
    )
    status: TechnicianStatus = Field(
        description="What the technician is doing now: travelling and on_site follow the visits' steps; "
        "available, on_break and off_duty are set from the app (or by a dispatcher); inactive: not planned"
    )
    status_since: datetime | None = Field(description="When the status began (none: before it was recorded)")
    status_work_order_id: str | None = Field(description="The visit the technician travels to or works on")
    location_lat: float | None = Field(default=None, description="The last position the app reported")
    location_lon: float | None = None
    location_reported_at: datetime | None = Field(default=None, description="When the device took it")

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> TechnicianOut:
        """A technician row with its home centre's calendar (``store.technician(s)``)."""
        values = {k: v for k, v in row.items() if k in TechnicianIn.model_fields or k.startswith("location_")}
        if row["shifts"]:
            works_to = "own_shifts"
        else:
            works_to = "standard_week" if row["centre_calendar"] is None else "centre_calendar"
            values["shifts"] = None
        working = working_status_of(row)
        return cls.model_validate(
            {
                **values,
                "works_to": works_to,
                "status": status_of(row),
                "status_since": working.since,
                "status_work_order_id": working.work_order_id,
            }
        )


class StatusIn(BaseModel):
    status: Literal["available", "on_break", "off_duty"]


def _created(row: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in row.items() if k != "created_at"}


@router.post("/centres", status_code=201)
async def create_centre(body: CentreIn, db: Db, _: Dispatcher) -> CentreIn:
    async with db.transaction() as uow:
        await store.insert(uow, t.centres, {**body.model_dump(), "created_at": uow.now()})
    return body


@router.get("/centres")
async def list_centres(db: Db, _: Reader) -> list[CentreIn]:
    async with db.transaction() as uow:
        return [CentreIn.model_validate(_created(dict(r))) for r in await store.list_rows(uow, t.centres)]


@router.put("/centres/{centre_id}")
async def update_centre(centre_id: str, body: CentreIn, db: Db, _: Dispatcher) -> CentreIn:
    async with db.transaction() as uow:
        await store.update_row(uow, t.centres, centre_id, body.model_dump(exclude={"id"}))
    return body


@router.post("/regions", status_code=201)
async def create_region(body: RegionIn, db: Db, _: Dispatcher) -> RegionIn:
    async with db.transaction() as uow:
        await store.get_row(uow, t.centres, body.centre_id)
        await store.insert(uow, t.regions, {**body.model_dump(), "created_at": uow.now()})
    return body


@router.get("/regions")
async def list_regions(db: Db, _: Reader) -> list[RegionIn]:
    async with db.transaction() as uow:
        return [RegionIn.model_validate(_created(dict(r))) for r in await store.list_rows(uow, t.regions)]


@router.put("/regions/{region_id}")
async def update_region(region_id: str, body: RegionIn, db: Db, _: Dispatcher) -> RegionIn:
    async with db.transaction() as uow:
        await store.update_row(uow, t.regions, region_id, body.model_dump(exclude={"id"}))
    return body


@router.post("/technicians", status_code=201)
async def create_technician(body: TechnicianIn, db: Db, _: Dispatcher) -> TechnicianIn:
    """A technician, available from now. Without ``shifts`` they work to their home centre's business
    calendar, read when planning: a change of the centre's hours or holidays applies to them at once (a
    copy taken now would silently drift from the centre). Until the centre keeps a calendar, Mon-Fri 08-17
    in the technician's time zone."""
    async with db.transaction() as uow:
        await store.get_row(uow, t.centres, body.centre_id)
        now = uow.now()
        await store.insert(uow, t.technicians, {**body.row(), "status_since": now, "created_at": now})
    return body


@router.get("/technicians")
async def list_technicians(
    db: Db,
    _: Reader,
    status: Annotated[TechnicianStatus | None, Query(description="Only technicians doing this now")] = None,
) -> list[TechnicianOut]:
    """The technicians with what each is doing now, since when, and where they were last reported."""
    async with db.transaction() as uow:
        return [TechnicianOut.of(r) for r in await store.technicians(uow, status=status)]


@router.get("/technicians/{technician_id}")
async def get_technician(technician_id: str, db: Db, _: Reader) -> TechnicianOut:
    """The technician, what they are doing now and since when, and their last reported position."""
    async with db.transaction() as uow:
        return TechnicianOut.of(await store.technician(uow, technician_id))


@router.post("/technicians/{technician_id}/status")
async def set_technician_status(
    technician_id: str, body: StatusIn, db: Db, principal: Dispatcher
) -> StatusOut:
    """A dispatcher sets what the technician is doing (a call from the field, or a status a cancelled
    visit left behind), even while a visit is under way. Recorded with who and when."""
    async with db.transaction() as uow:
        held, kept = await working_status.set_status(
            uow, technician_id, TechnicianStatus(body.status), actor=actor_of(principal), override=True
        )
    return StatusOut.of(technician_id, held, kept=kept)


@router.put("/technicians/{technician_id}")
async def update_technician(technician_id: str, body: TechnicianIn, db: Db, _: Dispatcher) -> TechnicianIn:
    async with db.transaction() as uow:
        await store.update_row(
            uow, t.technicians, technician_id, {k: v for k, v in body.row().items() if k != "id"}
        )
    return body


class AbsenceIn(BaseModel):
    start: datetime
    end: datetime
    reason: Literal["leave", "sick", "training", "other"] = "leave"


class AbsenceOut(AbsenceIn):
    id: str
    technician_id: str


@router.post("/technicians/{technician_id}/absences", status_code=201)
async def add_absence(technician_id: str, body: AbsenceIn, db: Db, principal: Dispatcher) -> AbsenceOut:
    """The technician is away (leave, sickness, training): no job is planned for them meanwhile."""
    window = TimeWindow(body.start, body.end)
    absence_id = str(uuid.uuid4())
    async with db.transaction() as uow:
        await store.get_row(uow, t.technicians, technician_id)
        await store.insert(
            uow,
            t.absences,
            {
                "id": absence_id,
                "technician_id": technician_id,
                "start": window.start,
                "end": window.end,
                "reason": body.reason,
                "created_at": uow.now(),
                "created_by": actor_of(principal).id,
            },
        )
    return AbsenceOut(
        id=absence_id, technician_id=technician_id, start=window.start, end=window.end, reason=body.reason
    )


@router.get("/technicians/{technician_id}/absences")
async def list_absences(technician_id: str, db: Db, _: Reader) -> list[AbsenceOut]:
    async with db.transaction() as uow:
        await store.get_row(uow, t.technicians, technician_id)
        rows = await store.absences(uow, technician_id=technician_id)
    return [
        AbsenceOut(
            id=r["id"],
            technician_id=r["technician_id"],
            start=r["start"],
            end=r["end"],
            reason=r["reason"],
        )
        for r in rows
    ]


@router.delete("/technicians/{technician_id}/absences/{absence_id}", status_code=204)
async def remove_absence(technician_id: str, absence_id: str, db: Db, _: Dispatcher) -> Response:
    async with db.transaction() as uow:
        await store.remove_absence(uow, technician_id, absence_id)
    return Response(status_code=204)


@router.delete("/technicians/{technician_id}", status_code=204)
async def deactivate_technician(technician_id: str, db: Db, _: Dispatcher) -> Response:
    async with db.transaction() as uow:
        await store.update_row(uow, t.technicians, technician_id, {"active": False})
    return Response(status_code=204)
