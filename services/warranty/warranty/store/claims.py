"""Claims with their lines and transitions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.domain import Conflict, Money, NotFound
from warranty import codec
from warranty.domain.claims import Claim, ClaimState, ClaimTransition
from warranty.tables import (
    claim_lines,
    claim_transitions,
    claims,
)


def new_claim_number(claim_id: str) -> str:
    return "WC-" + claim_id.replace("-", "")[:12].upper()


async def insert_claim(conn: AsyncConnection, claim: Claim, *, origin: str, at: datetime) -> None:
    await conn.execute(
        claims.insert().values(
            claim_id=claim.claim_id,
            claim_number=new_claim_number(claim.claim_id),
            origin=origin,
            version=1,
            created_at=at,
            **_claim_values(claim, at),
        )
    )
    await _write_children(conn, claim, known_transitions=0)


async def update_claim(conn: AsyncConnection, claim: Claim, *, version: int, at: datetime) -> int:
    done = await conn.execute(
        claims.update()
        .where(claims.c.claim_id == claim.claim_id, claims.c.version == version)
        .values(**_claim_values(claim, at), version=version + 1)
    )
    if done.rowcount != 1:
        raise Conflict(f"claim {claim.claim_id} was changed concurrently; retry", code="claim-changed")
    known = (
        await conn.execute(
            select(func.count())
            .select_from(claim_transitions)
            .where(claim_transitions.c.claim_id == claim.claim_id)
        )
    ).scalar_one()
    await conn.execute(claim_lines.delete().where(claim_lines.c.claim_id == claim.claim_id))
    await _write_children(conn, claim, known_transitions=int(known))
    return version + 1


def _claim_values(claim: Claim, at: datetime) -> dict[str, Any]:
    return {
        "dealer_id": claim.dealer_id,
        "serial": claim.serial,
        "work_order_id": claim.record.work_order_id,
        "model_code": claim.model_code,
        "state": claim.state.value,
        "currency": claim.currency,
        "record": codec.record_json(claim.record),
        "parts": codec.parts_json(claim.parts),
        "customer_signature_ref": claim.customer_signature_ref,
        "photo_refs": list(claim.photo_refs),
        "removed_lines": dict(claim.removed_lines),
        "appraisals": [codec.appraisal_json(a) for a in claim.appraisals],
        "claimed": claim.total.amount,
        "approved_amount": None if claim.approved_amount is None else claim.approved_amount.amount,
        "decided_at": claim.decided_at,
        "statement_id": claim.statement_id,
        "review_due_at": claim.review_due_at,
        "escalated_at": claim.escalated_at,
        "updated_at": at,
    }


async def _write_children(conn: AsyncConnection, claim: Claim, *, known_transitions: int) -> None:
    lines = [
        {
            "claim_id": claim.claim_id,
            "line_id": line.line_id,
            "kind": line.kind.value,
            "part_number": line.part.part_number if line.part else None,
            "old_part_serial": line.part.old_part_serial if line.part else None,
            "amount": line.amount.amount,
            "currency": line.amount.currency,
            "removed_reason": claim.removed_lines.get(line.line_id),
        }
        for line in claim.lines
    ]
    if lines:
        await conn.execute(claim_lines.insert(), lines)
    new = [
        {
            "claim_id": claim.claim_id,
            "seq": seq,
            "action": t.action,
            "from_state": t.from_state.value if t.from_state else None,
            "to_state": t.to_state.value,
            "at": t.at,
            "actor": t.actor,
            "note": t.note,
        }
        for seq, t in enumerate(claim.history, start=1)
        if seq > known_transitions
    ]
    if new:
        await conn.execute(claim_transitions.insert(), new)


async def get_claim(conn: AsyncConnection, claim_id: str) -> tuple[Claim, int, str, str] | None:
    """The claim, its version, its claim number and its origin."""
    row = (await conn.execute(select(claims).where(claims.c.claim_id == claim_id))).first()
    if row is None:
        return None
    return (await _claims_of(conn, [row]))[0], row.version, row.claim_number, row.origin


async def require_claim(conn: AsyncConnection, claim_id: str) -> tuple[Claim, int, str, str]:
    found = await get_claim(conn, claim_id)
    if found is None:
        raise NotFound(f"claim {claim_id} not found")
    return found


async def _claims_of(conn: AsyncConnection, rows: Sequence[Any]) -> list[Claim]:
    ids = [r.claim_id for r in rows]
    history: dict[str, list[ClaimTransition]] = {i: [] for i in ids}
    if ids:
        trows = (
            await conn.execute(
                select(claim_transitions)
                .where(claim_transitions.c.claim_id.in_(ids))
                .order_by(claim_transitions.c.claim_id, claim_transitions.c.seq)
            )
        ).all()
        for t in trows:
            history[t.claim_id].append(
                ClaimTransition(
                    t.action,
                    ClaimState(t.from_state) if t.from_state else None,
                    ClaimState(t.to_state),
                    t.at,
                    t.actor,
                    t.note,
                )
            )
    return [
        Claim(
            claim_id=r.claim_id,
            dealer_id=r.dealer_id,
            serial=r.serial,
            record=codec.record_of(r.record),
            parts=codec.parts_of(r.parts),
            currency=r.currency,
            model_code=r.model_code,
            customer_signature_ref=r.customer_signature_ref,
            photo_refs=tuple(r.photo_refs),
            state=ClaimState(r.state),
            history=history[r.claim_id],
            appraisals=[codec.appraisal_of(a) for a in r.appraisals],
            removed_lines=dict(r.removed_lines),
            approved_amount=None
            if r.approved_amount is None
            else Money(Decimal(r.approved_amount), r.currency),
            decided_at=r.decided_at,
            statement_id=r.statement_id,
            review_due_at=r.review_due_at,
            escalated_at=r.escalated_at,
        )
        for r in rows
    ]


async def list_claims(
    conn: AsyncConnection,
    *,
    dealer_id: str | None,
    state: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
    escalated: bool | None = None,
) -> list[tuple[Claim, str, datetime, str, int]]:
    """Claims with their number, creation time, origin and version, oldest first.

    ``escalated`` keeps only the claims in the reviewer queue that were (True) or were not (False)
    escalated for waiting past their review deadline.
    """
    query = select(claims).order_by(claims.c.created_at, claims.c.claim_id).limit(limit)
    if dealer_id is not None:
        query = query.where(claims.c.dealer_id == dealer_id)
    if state is not None:
        query = query.where(claims.c.state == state)
    if escalated is not None:
        query = query.where(
            claims.c.state == ClaimState.UNDER_REVIEW.value,
            claims.c.escalated_at.is_not(None) if escalated else claims.c.escalated_at.is_(None),
        )
    if after is not None:
        query = query.where(
            or_(
                claims.c.created_at > after[0],
                and_(claims.c.created_at == after[0], claims.c.claim_id > after[1]),
            )
        )
    rows = (await conn.execute(query)).all()
    loaded = await _claims_of(conn, rows)
    return [(c, r.claim_number, r.created_at, r.origin, r.version) for c, r in zip(loaded, rows, strict=True)]


async def claims_for_serial(conn: AsyncConnection, serial: str) -> list[Claim]:
    rows = (await conn.execute(select(claims).where(claims.c.serial == serial))).all()
    return await _claims_of(conn, rows)


async def claims_decided_between(conn: AsyncConnection, *, since: datetime, until: datetime) -> list[Claim]:
    rows = (
        await conn.execute(select(claims).where(claims.c.decided_at >= since, claims.c.decided_at <= until))
    ).all()
    return await _claims_of(conn, rows)


async def claim_number_of(conn: AsyncConnection, claim_id: str) -> str:
    return str(
        (await conn.execute(select(claims.c.claim_number).where(claims.c.claim_id == claim_id))).scalar_one()
    )
