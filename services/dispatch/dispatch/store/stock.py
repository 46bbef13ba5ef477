"""Local copy of inventory's stock levels at the technicians' vans."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from dispatch import tables as t
from kit.copies import keep_newest
from kit.db import UnitOfWork


async def keep_van_stock(
    uow: UnitOfWork,
    *,
    location_id: str,
    part_number: str,
    on_hand: int,
    reserved: int,
    available: int,
    version: int,
    changed_at: datetime,
) -> bool:
    """Keep a part's level at a van unless the copy held is as new or newer; whether it was kept.

    One statement, so two consumers applying events about the same part and van at once cannot both
    insert, and the older of them cannot overwrite the newer."""
    values = {
        "location_id": location_id,
        "part_number": part_number,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": available,
        "version": version,
        "changed_at": changed_at,
        "updated_at": uow.now(),
    }
    return await keep_newest(uow, t.van_stock, values, order_by="version")


async def van_stock(uow: UnitOfWork, location_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """What each of the vans holds free for a job: location id -> part number -> quantity available."""
    wanted = sorted(set(location_ids))
    if not wanted:
        return {}
    c = t.van_stock.c
    query = select(c.location_id, c.part_number, c.available).where(
        c.location_id.in_(wanted), c.available > 0
    )
    held: dict[str, dict[str, int]] = {}
    for location_id, part_number, available in (await uow.conn.execute(query)).all():
        held.setdefault(location_id, {})[part_number] = int(available)
    return held
