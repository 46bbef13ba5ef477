"""Service centres, regions and technicians (dispatchers and admins maintain them)."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field, field_validator, model_validator

from dispatch import store
from dispatch import tables as t
from dispatch.api.common import actor_of
from dispatch.domain.values import TimeWindow
from dispatch.planning import skill_of
from kit.auth import Principal, Role, require
from kit.deps import Db

router = APIRouter(tags=["network"])
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR))]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN))]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


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


class TechnicianIn(BaseModel):
    id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    centre_id: Id
    region_ids: list[Id] = Field(min_length=1, max_length=50)
    skills: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=100, description="capability:product_line, e.g. repair:water_heater"
    )
    certifications: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    shifts: dict[Literal["0", "1", "2", "3", "4", "5", "6"], list[tuple[time, time]]] | None = Field(
        default=None, description="Weekday (0=Monday) -> [start, end] spans; default Mon-Fri 08-17"
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

    def row(self) -> dict[str, object]:
        values = self.model_dump(exclude={"shifts"})
        values["shifts"] = (
            {day: [[a.isoformat(), b.isoformat()] for a, b in spans] for day, spans in self.shifts.items()}
            if self.shifts
            else {}
        )
        return values


class TechnicianOut(TechnicianIn):
    location_lat: float | None = Field(default=None, description="The last position the app reported")
    location_lon: float | None = None
    location_reported_at: datetime | None = None


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
    async with db.transaction() as uow:
        await store.get_row(uow, t.centres, body.centre_id)
        await store.insert(uow, t.technicians, {**body.row(), "created_at": uow.now()})
    return body


@router.get("/technicians")
async def list_technicians(db: Db, _: Reader) -> list[TechnicianOut]:
    async with db.transaction() as uow:
        return [
            TechnicianOut.model_validate(_created(dict(r))) for r in await store.list_rows(uow, t.technicians)
        ]


@router.get("/technicians/{technician_id}")
async def get_technician(technician_id: str, db: Db, _: Reader) -> TechnicianOut:
    async with db.transaction() as uow:
        return TechnicianOut.model_validate(
            _created(dict(await store.get_row(uow, t.technicians, technician_id)))
        )


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
            start=store.aware(r["start"]),
            end=store.aware(r["end"]),
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
