"""Technicians as dispatchers and the planner read them, and what they are doing now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.engine import RowMapping

from dispatch import tables as t
from kit.db import UnitOfWork
from kit.domain import NotFound

INACTIVE = "inactive"


def _with_centre_calendar() -> Select[Any]:
    return select(t.technicians, t.centres.c.calendar.label("centre_calendar")).select_from(
        t.technicians.outerjoin(t.centres, t.technicians.c.centre_id == t.centres.c.id)
    )


async def technicians(
    uow: UnitOfWork, *, status: str | None = None, own_only: bool = False
) -> list[RowMapping]:
    """Technician rows, each with its home centre's business calendar (``centre_calendar``, ``None`` when
    the centre keeps none). ``status`` filters on what the technician is doing (``inactive``: deactivated
    ones); ``own_only`` leaves out dealers' technicians."""
    c = t.technicians.c
    query = _with_centre_calendar().order_by(c.id)
    if status == INACTIVE:
        query = query.where(c.active.is_(False))
    elif status is not None:
        query = query.where(c.active.is_(True), c.status == status)
    if own_only:
        query = query.where(c.dealer_id.is_(None))
    return list((await uow.conn.execute(query)).mappings().all())


async def technician(uow: UnitOfWork, technician_id: str) -> RowMapping:
    """One technician row with its home centre's business calendar (see :func:`technicians`)."""
    row = await find_technician(uow, technician_id)
    if row is None:
        raise NotFound(f"technician {technician_id} not found")
    return row


async def find_technician(uow: UnitOfWork, technician_id: str) -> RowMapping | None:
    """:func:`technician`, or ``None`` for one dispatch does not keep."""
    query = _with_centre_calendar().where(t.technicians.c.id == technician_id)
    row: RowMapping | None = (await uow.conn.execute(query)).mappings().first()
    return row


async def working_status_row(uow: UnitOfWork, technician_id: str) -> RowMapping | None:
    """The technician's status columns, locked until the transaction ends (status reports of one
    technician are applied one after the other); ``None`` for an unknown technician."""
    c = t.technicians.c
    query = (
        select(c.id, c.active, c.status, c.status_since, c.status_work_order_id)
        .where(c.id == technician_id)
        .with_for_update()
    )
    return (await uow.conn.execute(query)).mappings().first()


async def keep_working_status(
    uow: UnitOfWork, technician_id: str, *, status: str, since: datetime | None, work_order_id: str | None
) -> None:
    await uow.conn.execute(
        update(t.technicians)
        .where(t.technicians.c.id == technician_id)
        .values(status=status, status_since=since, status_work_order_id=work_order_id)
    )
