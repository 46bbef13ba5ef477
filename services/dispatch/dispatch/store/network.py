"""Service centres, regions, technicians and their absences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

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


class CentreCalendar(NamedTuple):
    """A centre's business calendar (``None``: it counts on the wall clock), its version, and who last
    set or removed it, and when (``None`` before anyone did)."""

    calendar: BusinessCalendar | None
    version: int
    updated_at: datetime | None
    updated_by: str | None


async def centre_calendar(uow: UnitOfWork, centre_id: str) -> CentreCalendar:
    row = await get_row(uow, t.centres, centre_id)
    stored, updated_at = row["calendar"], row["calendar_updated_at"]
    return CentreCalendar(
        None if stored is None else calendar_of(stored),
        int(row["calendar_version"]),
        updated_at,
        row["calendar_updated_by"],
    )


async def set_centre_calendar(
    uow: UnitOfWork, centre_id: str, calendar: BusinessCalendar | None, *, if_match: str | None, by: str
) -> CentreCalendar:
    """Keep the centre's calendar (``None`` removes it) set by ``by`` now, unless ``if_match`` names an
    older version; the calendar as kept."""
    c = t.centres.c
    query = select(c.calendar_version).where(c.id == centre_id).with_for_update()
    version = (await uow.conn.execute(query)).scalars().first()
    if version is None:
        raise NotFound(f"service centre {centre_id} not found")
    check_if_match(if_match, int(version))
    now = uow.now()
    await uow.conn.execute(
        update(t.centres)
        .where(c.id == centre_id)
        .values(
            calendar=None if calendar is None else calendar_json(calendar),
            calendar_version=version + 1,
            calendar_updated_at=now,
            calendar_updated_by=by,
        )
    )
    return CentreCalendar(calendar, int(version) + 1, now, by)


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
