"""Settlement statements, and the claims and dealers a statement settles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    and_,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.domain import Conflict
from warranty.domain.claims import Claim, ClaimState
from warranty.domain.settlement import SettlementPeriod, StatementStatus
from warranty.store.claims import _claims_of
from warranty.tables import (
    claims,
    settlement_statements,
)


async def claims_for_dealer(conn: AsyncConnection, dealer_id: str, *, decided_until: datetime) -> list[Claim]:
    """The dealer's approved claims decided by ``decided_until`` and not yet on a statement."""
    rows = (
        await conn.execute(
            select(claims).where(
                claims.c.dealer_id == dealer_id,
                claims.c.state.in_([ClaimState.APPROVED.value, ClaimState.PARTIALLY_APPROVED.value]),
                claims.c.decided_at <= decided_until,
            )
        )
    ).all()
    on_hold = set(await _claims_awaiting_approval(conn, dealer_id))
    return await _claims_of(conn, [r for r in rows if r.claim_id not in on_hold])


async def settled_claims_for_dealer(
    conn: AsyncConnection, dealer_id: str, *, repaired_since: date
) -> list[Claim]:
    """The dealer's settled claims of repairs on or after ``repaired_since`` (their old parts may
    still be due, and deducted, in a later statement)."""
    rows = (
        await conn.execute(
            select(claims).where(
                claims.c.dealer_id == dealer_id,
                claims.c.state == ClaimState.SETTLED.value,
                claims.c.decided_at >= _start_of(repaired_since),  # decided after the repair
            )
        )
    ).all()
    kept = [r for r in rows if date.fromisoformat(r.record["repaired_on"]) >= repaired_since]
    return await _claims_of(conn, kept)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def claims_by_id(conn: AsyncConnection, claim_ids: Sequence[str]) -> list[tuple[Claim, int, str, str]]:
    """The claims with their version, claim number and origin."""
    if not claim_ids:
        return []
    rows = (await conn.execute(select(claims).where(claims.c.claim_id.in_(list(claim_ids))))).all()
    loaded = await _claims_of(conn, rows)
    return [(c, r.version, r.claim_number, r.origin) for c, r in zip(loaded, rows, strict=True)]


async def dealers_to_settle(conn: AsyncConnection, *, until: datetime, repaired_since: date) -> list[str]:
    """Dealers with approved claims decided by ``until`` or settled claims of repairs since
    ``repaired_since`` (whose old parts may fall due in the period)."""
    payable = select(claims.c.dealer_id).where(
        claims.c.state.in_([ClaimState.APPROVED.value, ClaimState.PARTIALLY_APPROVED.value]),
        claims.c.decided_at <= until,
    )
    settled = select(claims.c.dealer_id, claims.c.record).where(
        claims.c.state == ClaimState.SETTLED.value, claims.c.decided_at >= _start_of(repaired_since)
    )
    dealers = set((await conn.execute(payable.distinct())).scalars())
    for row in (await conn.execute(settled)).all():
        if date.fromisoformat(row.record["repaired_on"]) >= repaired_since:
            dealers.add(row.dealer_id)
    return sorted(dealers)


@dataclass(frozen=True)
class StoredStatement:
    statement_id: str
    dealer_id: str
    period: SettlementPeriod
    status: StatementStatus
    claim_ids: list[str]
    prepared_by: str | None
    approved_by: str | None
    issued_at: datetime
    document: dict[str, Any]


def _statement(row: Any) -> StoredStatement:
    return StoredStatement(
        statement_id=row.statement_id,
        dealer_id=row.dealer_id,
        period=SettlementPeriod(row.period_start, row.period_end),
        status=StatementStatus(row.status),
        claim_ids=list(row.claim_ids),
        prepared_by=row.prepared_by,
        approved_by=row.approved_by,
        issued_at=row.issued_at,
        document=row.document,
    )


async def save_statement(
    conn: AsyncConnection,
    *,
    statement_id: str,
    dealer_id: str,
    period: SettlementPeriod,
    issued_on: date,
    status: StatementStatus,
    claim_ids: Sequence[str],
    prepared_by: str,
    document: dict[str, Any],
    at: datetime,
) -> None:
    """Keep a statement; at most one per dealer and period (409 for a second)."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                settlement_statements.insert().values(
                    statement_id=statement_id,
                    dealer_id=dealer_id,
                    period_start=period.start,
                    period_end=period.end,
                    issued_on=issued_on,
                    document=document,
                    issued_at=at,
                    status=status.value,
                    claim_ids=list(claim_ids),
                    prepared_by=prepared_by,
                )
            )
    except IntegrityError:
        raise Conflict(
            f"dealer {dealer_id} already has a statement for {period}", code="statement-exists"
        ) from None


async def statement_for(
    conn: AsyncConnection, dealer_id: str, period: SettlementPeriod
) -> StoredStatement | None:
    row = (
        await conn.execute(
            select(settlement_statements).where(
                settlement_statements.c.dealer_id == dealer_id,
                settlement_statements.c.period_start == period.start,
                settlement_statements.c.period_end == period.end,
            )
        )
    ).first()
    return None if row is None else _statement(row)


async def mark_statement_issued(
    conn: AsyncConnection, statement_id: str, *, approved_by: str, document: dict[str, Any], at: datetime
) -> None:
    """Issue a statement that waited for approval (only once: a second approval is a conflict)."""
    done = await conn.execute(
        settlement_statements.update()
        .where(
            settlement_statements.c.statement_id == statement_id,
            settlement_statements.c.status == StatementStatus.AWAITING_APPROVAL.value,
        )
        .values(
            status=StatementStatus.ISSUED.value,
            approved_by=approved_by,
            approved_at=at,
            issued_at=at,
            issued_on=at.date(),
            document=document,
        )
    )
    if done.rowcount != 1:
        raise Conflict(
            f"statement {statement_id} is not awaiting approval", code="statement-not-awaiting-approval"
        )


async def _claims_awaiting_approval(conn: AsyncConnection, dealer_id: str) -> list[str]:
    rows = (
        await conn.execute(
            select(settlement_statements.c.claim_ids).where(
                settlement_statements.c.dealer_id == dealer_id,
                settlement_statements.c.status == StatementStatus.AWAITING_APPROVAL.value,
            )
        )
    ).all()
    return [claim_id for row in rows for claim_id in row.claim_ids]


async def get_statement(conn: AsyncConnection, statement_id: str) -> StoredStatement | None:
    row = (
        await conn.execute(
            select(settlement_statements).where(settlement_statements.c.statement_id == statement_id)
        )
    ).first()
    return None if row is None else _statement(row)


async def list_statements(
    conn: AsyncConnection,
    *,
    dealer_id: str | None,
    status: StatementStatus | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[StoredStatement]:
    """Statements, newest first."""
    t = settlement_statements
    query = select(t).order_by(t.c.issued_at.desc(), t.c.statement_id.desc()).limit(limit)
    if dealer_id is not None:
        query = query.where(t.c.dealer_id == dealer_id)
    if status is not None:
        query = query.where(t.c.status == status.value)
    if after is not None:
        query = query.where(
            or_(t.c.issued_at < after[0], and_(t.c.issued_at == after[0], t.c.statement_id < after[1]))
        )
    return [_statement(row) for row in (await conn.execute(query)).all()]
