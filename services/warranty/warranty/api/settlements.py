"""Dealer settlement statements: issue one for a period, list, read (JSON) and export (CSV) them,
and approve those held for finance. Statements are also issued by the settlement schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from kit.auth import Principal, Role
from kit.dealers import dealer_scope
from kit.deps import Db
from kit.domain import Forbidden, NotFound
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of
from warranty import operations, store
from warranty.api.common import AnyStaff, Finance, actor
from warranty.domain.settlement import SettlementPeriod, StatementStatus

router = APIRouter(tags=["settlements"])


class StatementIn(BaseModel):
    dealer_id: Annotated[str, Field(min_length=1, max_length=64)]
    period_start: date
    period_end: date


class AmountOut(BaseModel):
    amount: str
    currency: str


class StatementClaimOut(BaseModel):
    claim_id: str
    serial: str
    work_order_id: str | None
    approved_on: date
    claimed: AmountOut
    approved: AmountOut


class DeductionOut(BaseModel):
    claim_id: str
    line_id: str
    part_number: str
    old_part_serial: str | None
    due_on: date
    amount: AmountOut
    reason: str


class TotalOut(BaseModel):
    currency: str
    approved: str
    deducted: str
    net: str


class StatementOut(BaseModel):
    """A dealer's settlement statement, as finance exports it (JSON; the same rows as CSV)."""

    statement_id: str
    dealer_id: str
    period_start: date
    period_end: date
    issued_on: date
    status: StatementStatus
    claims: list[StatementClaimOut]
    deductions: list[DeductionOut]
    totals: list[TotalOut]


class StatementSummary(BaseModel):
    statement_id: str
    dealer_id: str
    period_start: date
    period_end: date
    status: StatementStatus
    issued_at: datetime = Field(description="When it was issued, or prepared while it awaits approval")
    claim_count: int
    totals: list[TotalOut]


def _may_read_statements(principal: Principal) -> None:
    if not principal.is_partner and not principal.has_any([Role.FINANCE, Role.WARRANTY_REVIEWER]):
        raise Forbidden("settlement statements are for finance, reviewers and the dealer")


@router.post("/settlements", status_code=201, response_model=StatementOut)
async def issue_settlement(body: StatementIn, db: Db, principal: Finance) -> JSONResponse:
    """Issue the dealer's statement for a period: pay its approved claims, less old parts not
    returned on time. One statement per dealer and period (409 for a second). A statement above
    the approval limit is held (``status: awaiting_approval``) until another finance user approves it."""
    async with db.transaction() as uow:
        document = await operations.issue_statement(
            uow,
            dealer_id=body.dealer_id,
            period=SettlementPeriod(body.period_start, body.period_end),
            prepared_by=principal.actor,
            by=actor(principal),
        )
    assert document is not None
    return JSONResponse(document, status_code=201)


@router.get("/settlements")
async def list_settlements(
    db: Db,
    principal: AnyStaff,
    status: StatementStatus | None = None,
    dealer_id: Annotated[
        str | None, Query(max_length=64, description="Staff only; a dealer sees its own")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StatementSummary]:
    """Statements, newest first; finance's approval queue is ``?status=awaiting_approval``."""
    _may_read_statements(principal)
    after_values = decode_cursor(cursor)
    after = (datetime.fromisoformat(after_values[0]), str(after_values[1])) if after_values else None
    async with db.engine.connect() as conn:
        rows = await store.list_statements(
            conn,
            dealer_id=dealer_scope(principal) or dealer_id,
            status=status,
            after=after,
            limit=limit + 1,
        )
    items = [
        StatementSummary(
            statement_id=s.statement_id,
            dealer_id=s.dealer_id,
            period_start=s.period.start,
            period_end=s.period.end,
            status=s.status,
            issued_at=s.issued_at,
            claim_count=len(s.claim_ids),
            totals=[TotalOut.model_validate(t) for t in s.document["json"]["totals"]],
        )
        for s in rows
    ]
    return page_of(items, limit, lambda s: (s.issued_at, s.statement_id))


async def _statement(db: Db, statement_id: str, principal: Principal) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        found = await store.get_statement(conn, statement_id)
    if found is None or not principal.may_see_dealer(found.dealer_id):
        raise NotFound(f"settlement statement {statement_id} not found")
    _may_read_statements(principal)
    return found.document


@router.get("/settlements/{statement_id}", response_model=StatementOut)
async def get_settlement(statement_id: str, db: Db, principal: AnyStaff) -> JSONResponse:
    return JSONResponse((await _statement(db, statement_id, principal))["json"])


@router.get(
    "/settlements/{statement_id}/csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}}
)
async def export_settlement_csv(statement_id: str, db: Db, principal: AnyStaff) -> Response:
    document = await _statement(db, statement_id, principal)
    return Response(
        document["csv"],
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="settlement-{statement_id}.csv"'},
    )


@router.post("/settlements/{statement_id}/approve", response_model=StatementOut)
async def approve_settlement(statement_id: str, db: Db, principal: Finance) -> JSONResponse:
    """Approve a held statement (by someone other than who prepared it): it is issued now, its claims
    settled (``warranty.claim.settled.v1``) and ``warranty.settlement.issued.v1`` sent."""
    async with db.transaction() as uow:
        document = await operations.approve_statement(
            uow, statement_id, approver=principal.actor, by=actor(principal)
        )
    return JSONResponse(document)
