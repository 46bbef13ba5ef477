"""Local copies of other services' facts dispatch decides with: entitlements, tickets, units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import RowMapping

from dispatch import tables as t
from kit.copies import keep_newest
from kit.db import UnitOfWork

# --- entitlements (warranty's decision per ticket) ---------------------------------------------------


async def keep_entitlement(uow: UnitOfWork, values: dict[str, Any]) -> None:
    """Keep warranty's latest decision for the ticket (the later of two of the same moment wins)."""
    await keep_newest(uow, t.entitlements, values, order_by="determined_at", replace_equal=True)


async def entitlement_for_ticket(uow: UnitOfWork, ticket_id: str) -> RowMapping | None:
    query = select(t.entitlements).where(t.entitlements.c.ticket_id == ticket_id)
    return (await uow.conn.execute(query)).mappings().first()


# --- tickets (intake's, the newest version seen) ----------------------------------------------------


async def lock_ticket(uow: UnitOfWork, ticket_id: str) -> None:
    """Hold the ticket until this transaction ends. Events about one ticket (its creation, edits,
    cancellation, warranty's decision) are handled by concurrent consumers: each must see what the
    others committed, or a decision could miss the work order opened meanwhile."""
    if uow.conn.dialect.name == "postgresql":  # SQLite runs one writer at a time anyway
        await uow.conn.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended("ticket:" + ticket_id, 0)))
        )


async def ticket(uow: UnitOfWork, ticket_id: str, *, for_update: bool = True) -> RowMapping | None:
    query = select(t.tickets).where(t.tickets.c.ticket_id == ticket_id)
    if for_update and uow.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await uow.conn.execute(query)).mappings().first()


async def keep_ticket(
    uow: UnitOfWork,
    ticket_id: str,
    *,
    version: int,
    status: str,
    details: dict[str, Any] | None,
    cancelled_at: datetime | None = None,
) -> None:
    values = {
        "version": version,
        "status": status,
        "details": details,
        "cancelled_at": cancelled_at,
        "updated_at": uow.now(),
    }
    result = await uow.conn.execute(
        update(t.tickets).where(t.tickets.c.ticket_id == ticket_id).values(**values)
    )
    if result.rowcount == 0:
        await uow.conn.execute(t.tickets.insert().values(ticket_id=ticket_id, **values))


# --- units (warranty's registered units) ------------------------------------------------------------


async def unit(uow: UnitOfWork, serial_number: str) -> RowMapping | None:
    query = select(t.units).where(t.units.c.serial_number == serial_number)
    return (await uow.conn.execute(query)).mappings().first()


async def keep_unit(uow: UnitOfWork, serial_number: str, values: dict[str, Any]) -> bool:
    """Keep warranty's facts of a unit unless a newer version is held; whether they were kept."""
    kept = {**values, "serial_number": serial_number, "updated_at": uow.now()}
    return await keep_newest(uow, t.units, kept, order_by="version")
