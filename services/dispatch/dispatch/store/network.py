"""Service centres, regions, technicians and their absences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping

from dispatch import tables as t
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
