"""Service centres, regions, technicians and their absences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping

from dispatch import tables as t
from kit.calendar import BusinessCalendar
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.domain import Conflict, NotFound


async def insert(uow: UnitOfWork, table: Any, values: dict[str, Any]) -> None:
    row_id = values.get("id")
    if row_id is not None and await find_row(uow, table, str(row_id)) is not None:
        raise Conflict(f"{table.name} {row_id} already exists", code="already-exists")
    await uow.conn.execute(table.insert().values(**values))


async def update_row(uow: UnitOfWork, table: Any, row_id: str, values: dict[str, Any]) -> None:
    result = await uow.conn.execute(update(table).where(table.c.id == row_id).values(**values))
    if result.rowcount != 1:
        raise NotFound(f"{table.name} {row_id} not found")


async def find_row(uow: UnitOfWork, table: Any, row_id: str) -> RowMapping | None:
    return (await uow.conn.execute(select(table).where(table.c.id == row_id))).mappings().first()


async def get_row(uow: UnitOfWork, table: Any, row_id: str) -> RowMapping:
    row = await find_row(uow, table, row_id)
    if row is None:
        raise NotFound(f"{table.name} {row_id} not found")
    return row


async def list_rows(uow: UnitOfWork, table: Any) -> list[RowMapping]:
    return list((await uow.conn.execute(select(table).order_by(table.c.id))).mappings().all())


async def region_grade(uow: UnitOfWork, region_id: str) -> str | None:
    query = select(t.regions.c.grade).where(t.regions.c.id == region_id)
    return (await uow.conn.execute(query)).scalars().first()


async def centre_calendar(uow: UnitOfWork, centre_id: str) -> tuple[BusinessCalendar | None, int]:
    """The centre's business calendar (``None``: it counts on the wall clock) and its version."""
    row = await get_row(uow, t.centres, centre_id)
    stored = row["calendar"]
    return (None if stored is None else calendar_of(stored)), int(row["calendar_version"])


async def set_centre_calendar(
    uow: UnitOfWork, centre_id: str, calendar: BusinessCalendar | None, *, if_match: str | None
) -> int:
    """Keep the centre's calendar (``None`` removes it) unless ``if_match`` names an older version; the new
    version."""
    c = t.centres.c
    query = select(c.calendar_version).where(c.id == centre_id).with_for_update()
    version = (await uow.conn.execute(query)).scalars().first()
    if version is None:
        raise NotFound(f"service centre {centre_id} not found")
    check_if_match(if_match, int(version))
    await uow.conn.execute(
        update(t.centres)
        .where(c.id == centre_id)
        .values(calendar=None if calendar is None else calendar_json(calendar), calendar_version=version + 1)
    )
    return int(version) + 1


async def region_calendar(uow: UnitOfWork, region_id: str) -> BusinessCalendar | None:
    """The business calendar of the centre responsible for the region; ``None`` when it keeps none."""
    query = (
        select(t.centres.c.calendar)
        .select_from(t.regions.join(t.centres, t.regions.c.centre_id == t.centres.c.id))
        .where(t.regions.c.id == region_id)
    )
    stored = (await uow.conn.execute(query)).scalars().first()
    return None if stored is None else calendar_of(stored)


def calendar_json(calendar: BusinessCalendar) -> dict[str, Any]:
    return calendar.to_json()


def calendar_of(data: Mapping[str, Any]) -> BusinessCalendar:
    return BusinessCalendar.from_json(data)


async def report_position(
    uow: UnitOfWork, technician_id: str, *, lat: float, lon: float, at: datetime
) -> bool:
    """Keep the technician's reported position unless a later one is held; whether it was kept."""
    c = t.technicians.c
    result = await uow.conn.execute(
        update(t.technicians)
        .where(
            c.id == technician_id,
            (c.location_reported_at.is_(None)) | (c.location_reported_at < at),
        )
        .values(location_lat=lat, location_lon=lon, location_reported_at=at)
    )
    if result.rowcount == 1:
        return True
    await get_row(uow, t.technicians, technician_id)
    return False


async def absences(
    uow: UnitOfWork,
    *,
    technician_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[RowMapping]:
    c = t.absences.c
    query = select(t.absences).order_by(c.technician_id, c.start)
    if technician_id is not None:
        query = query.where(c.technician_id == technician_id)
    if start is not None and end is not None:
        query = query.where(c.start < end, c.end > start)
    return list((await uow.conn.execute(query)).mappings().all())


async def remove_absence(uow: UnitOfWork, technician_id: str, absence_id: str) -> None:
    c = t.absences.c
    result = await uow.conn.execute(
        delete(t.absences).where(c.id == absence_id, c.technician_id == technician_id)
    )
    if result.rowcount != 1:
        raise NotFound(f"absence {absence_id} of technician {technician_id} not found")
