"""Entitlement decisions kept, completed repairs, replacements earned, and old-part returns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from warranty.domain import (
    RepairEvent,
)
from warranty.domain.claims import PartReturn, ReturnOutcome
from warranty.domain.statistics import RepairFact
from warranty.tables import (
    entitlements,
    part_returns,
    repairs,
    replacement_eligibilities,
)


async def record_entitlement(
    conn: AsyncConnection,
    *,
    entitlement_id: str,
    ticket_id: str | None,
    serial: str | None,
    decided_on: date,
    coverage: str,
    decision: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        entitlements.insert().values(
            entitlement_id=entitlement_id,
            ticket_id=ticket_id,
            serial=serial,
            decided_on=decided_on,
            coverage=coverage,
            decision=decision,
            determined_at=at,
        )
    )


async def repairs_for(conn: AsyncConnection, serial: str) -> list[RepairEvent]:
    rows = (
        await conn.execute(
            select(repairs.c.repaired_on, repairs.c.fault_code, repairs.c.work_order_id)
            .where(repairs.c.serial == serial)
            .order_by(repairs.c.repaired_on, repairs.c.completed_at)
        )
    ).all()
    return [RepairEvent(r.repaired_on, r.fault_code, r.work_order_id) for r in rows]


async def add_repair(
    conn: AsyncConnection,
    *,
    work_order_id: str,
    serial: str,
    model_code: str | None,
    fault_code: str,
    repaired_on: date,
    dealer_id: str | None,
    ticket_id: str | None,
    part_numbers: Sequence[str],
    completed_at: datetime,
) -> bool:
    """Record a completed repair; False when this work order was already counted."""
    known = (
        await conn.execute(select(repairs.c.work_order_id).where(repairs.c.work_order_id == work_order_id))
    ).first()
    if known is not None:
        return False
    await conn.execute(
        repairs.insert().values(
            work_order_id=work_order_id,
            serial=serial,
            model_code=model_code,
            fault_code=fault_code,
            repaired_on=repaired_on,
            dealer_id=dealer_id,
            ticket_id=ticket_id,
            part_numbers=list(part_numbers),
            completed_at=completed_at,
        )
    )
    return True


async def replacement_already_earned(
    conn: AsyncConnection, *, serial: str, fault_code: str, since: date
) -> bool:
    row = (
        await conn.execute(
            select(replacement_eligibilities.c.earned_on).where(
                replacement_eligibilities.c.serial == serial,
                replacement_eligibilities.c.fault_code == fault_code,
                replacement_eligibilities.c.earned_on >= since,
            )
        )
    ).first()
    return row is not None


async def record_replacement(
    conn: AsyncConnection, *, serial: str, fault_code: str, earned_on: date, work_order_ids: list[str]
) -> None:
    await conn.execute(
        replacement_eligibilities.insert().values(
            serial=serial, fault_code=fault_code, earned_on=earned_on, work_order_ids=work_order_ids
        )
    )


async def repair_facts(conn: AsyncConnection, *, since: date, until: date) -> list[RepairFact]:
    rows = (
        await conn.execute(
            select(repairs).where(repairs.c.repaired_on >= since, repairs.c.repaired_on <= until)
        )
    ).all()
    return [
        RepairFact(
            r.serial,
            r.model_code or "unknown",
            r.fault_code,
            r.repaired_on,
            tuple(r.part_numbers),
            r.work_order_id,
        )
        for r in rows
    ]


# --- part returns -------------------------------------------------------------------------------


async def record_part_return(
    conn: AsyncConnection,
    *,
    old_part_serial: str,
    return_id: str,
    part_number: str,
    claim_id: str | None,
    work_order_id: str | None,
    received_on: date | None = None,
    inspected_on: date | None = None,
    outcome: str | None = None,
    fault_confirmed: bool | None = None,
) -> None:
    row = (
        await conn.execute(select(part_returns).where(part_returns.c.old_part_serial == old_part_serial))
    ).first()
    if row is None:
        await conn.execute(
            part_returns.insert().values(
                old_part_serial=old_part_serial,
                return_id=return_id,
                part_number=part_number,
                claim_id=claim_id,
                work_order_id=work_order_id,
                received_on=received_on,
                inspected_on=inspected_on,
                outcome=outcome,
                fault_confirmed=fault_confirmed,
            )
        )
        return
    await conn.execute(
        part_returns.update()
        .where(part_returns.c.old_part_serial == old_part_serial)
        .values(
            claim_id=claim_id or row.claim_id,
            work_order_id=work_order_id or row.work_order_id,
            received_on=received_on or row.received_on,
            inspected_on=inspected_on or row.inspected_on,
            outcome=outcome or row.outcome,
            fault_confirmed=row.fault_confirmed if fault_confirmed is None else fault_confirmed,
        )
    )


async def part_returns_for(conn: AsyncConnection, serials: Sequence[str]) -> dict[str, PartReturn]:
    if not serials:
        return {}
    rows = (
        await conn.execute(select(part_returns).where(part_returns.c.old_part_serial.in_(list(serials))))
    ).all()
    return {
        r.old_part_serial: PartReturn(
            r.old_part_serial, r.received_on, r.inspected_on, ReturnOutcome(r.outcome) if r.outcome else None
        )
        for r in rows
    }


async def repair_times(conn: AsyncConnection, work_order_ids: Sequence[str]) -> list[datetime]:
    if not work_order_ids:
        return []
    rows = (
        await conn.execute(
            select(repairs.c.completed_at).where(repairs.c.work_order_id.in_(list(work_order_ids)))
        )
    ).all()
    return [r.completed_at for r in rows]
