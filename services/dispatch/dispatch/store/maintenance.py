"""Maintenance plans and the visits requested from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping

from dispatch import tables as t
from kit import scheduler
from kit.db import UnitOfWork
from kit.domain import NotFound

PLAN_TIMER = "maintenance_plan.request_visits"


async def add_plan(uow: UnitOfWork, values: dict[str, Any]) -> None:
    await uow.conn.execute(t.maintenance_plans.insert().values(**values))


async def plan(uow: UnitOfWork, plan_id: str, *, for_update: bool = False) -> RowMapping:
    query = select(t.maintenance_plans).where(t.maintenance_plans.c.id == plan_id)
    if for_update and uow.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await uow.conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"maintenance plan {plan_id} not found")
    return row


async def save_plan(uow: UnitOfWork, plan_id: str, values: dict[str, Any]) -> None:
    await uow.conn.execute(
        update(t.maintenance_plans).where(t.maintenance_plans.c.id == plan_id).values(**values)
    )


async def list_plans(
    uow: UnitOfWork,
    *,
    customer_id: str | None,
    serial_number: str | None,
    active: bool | None,
    after: str | None,
    limit: int,
) -> list[RowMapping]:
    c = t.maintenance_plans.c
    query = select(t.maintenance_plans).order_by(c.id).limit(limit)
    if customer_id:
        query = query.where(c.customer_id == customer_id)
    if serial_number:
        query = query.where(c.serial_number == serial_number)
    if active is not None:
        query = query.where(c.active == active)
    if after:
        query = query.where(c.id > after)
    return list((await uow.conn.execute(query)).mappings().all())


async def visits(uow: UnitOfWork, plan_id: str) -> list[RowMapping]:
    c = t.maintenance_visits.c
    query = select(t.maintenance_visits).where(c.plan_id == plan_id).order_by(c.sequence)
    return list((await uow.conn.execute(query)).mappings().all())


async def add_visit(
    uow: UnitOfWork, *, plan_id: str, sequence: int, due_on: date, work_order_id: str
) -> bool:
    """Record the visit as requested; ``False`` when it already was (the caller opens nothing then)."""
    c = t.maintenance_visits.c
    exists = await uow.conn.execute(
        select(c.work_order_id).where(c.plan_id == plan_id, c.sequence == sequence)
    )
    if exists.first() is not None:
        return False
    await uow.conn.execute(
        t.maintenance_visits.insert().values(
            plan_id=plan_id,
            sequence=sequence,
            due_on=due_on,
            work_order_id=work_order_id,
            requested_at=uow.now(),
        )
    )
    return True


async def set_plan_timer(uow: UnitOfWork, plan_id: str, due_at: datetime | None) -> None:
    """The plan's one pending timer: when its next visit is to be requested (none: no timer)."""
    if due_at is None:
        await scheduler.cancel(uow, kind=PLAN_TIMER, key=plan_id)
    else:
        await scheduler.schedule(
            uow, kind=PLAN_TIMER, key=plan_id, due_at=due_at, payload={"plan_id": plan_id}
        )
