"""Settlement statements per dealer and period (JSON and CSV), and monthly fault statistics."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from contracts import warranty as c
from contracts.common import MoneyAmount
from kit.auth import Principal, Role
from kit.deps import Db
from kit.domain import Forbidden, Money, NotFound
from warranty import events, store
from warranty.api.common import Analyst, AnyStaff, Finance, MoneyDto, actor
from warranty.domain.settlement import build_statement, settle_claims, statement_to_csv, statement_to_json
from warranty.domain.statistics import ClaimCostFact, Month, monthly_fault_statistics, statistics_to_csv

router = APIRouter(tags=["reports"])


class StatementIn(BaseModel):
    dealer_id: Annotated[str, Field(min_length=1, max_length=64)]
    period_start: date
    period_end: date


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


@router.post("/settlements", status_code=201)
async def issue_settlement(body: StatementIn, db: Db, principal: Finance) -> JSONResponse:
    """Issue the dealer's statement: pay its approved claims, less parts not returned on time."""
    async with db.transaction() as uow:
        conn = uow.conn
        claims = await store.claims_for_dealer(conn, body.dealer_id, decided_until=_end_of(body.period_end))
        serials = [p.old_part_serial for cl in claims for p in cl.parts if p.old_part_serial]
        statement = build_statement(
            statement_id=str(uuid.uuid4()),
            dealer_id=body.dealer_id,
            period_start=body.period_start,
            period_end=body.period_end,
            issued_on=uow.now().date(),
            claims=claims,
            returns=await store.part_returns_for(conn, serials),
        )
        settle_claims(statement, claims, at=uow.now(), actor=principal.actor)
        by = actor(principal)
        for claim in claims:
            if claim.claim_id not in statement.claim_ids:
                continue
            found = await store.get_claim(conn, claim.claim_id)
            assert found is not None
            _, version, number, origin = found
            version = await store.update_claim(conn, claim, version=version, at=uow.now())
            for payload in events.claim_events(
                claim,
                claim_number=number,
                version=version,
                origin=origin,
                by=by,
                model_code=claim.model_code or "unknown",
            ):
                uow.emit(payload)
        document = statement_to_json(statement)
        await store.save_statement(
            conn,
            statement_id=statement.statement_id,
            dealer_id=body.dealer_id,
            period_start=body.period_start,
            period_end=body.period_end,
            issued_on=statement.issued_on,
            document={"json": document, "csv": statement_to_csv(statement)},
            at=uow.now(),
        )
        currency = statement.totals[0].currency if statement.totals else "EUR"
        total = statement.total(currency) if statement.totals else None
        zero = Money.zero(currency)
        uow.emit(
            c.SettlementIssued(
                statement_id=statement.statement_id,
                dealer_id=body.dealer_id,
                period_start=body.period_start,
                period_end=body.period_end,
                claim_ids=list(statement.claim_ids),
                claim_count=len(statement.claim_ids),
                gross=MoneyAmount.of(total.approved if total else zero),
                deductions=MoneyAmount.of(total.deducted if total else zero),
                net=MoneyAmount.of(total.net if total else zero),
                issued_at=uow.now(),
                issued_by=by,
            )
        )
        uow.audit(
            actor=principal.actor,
            action="settlement.issued",
            entity_type="settlement",
            entity_id=statement.statement_id,
            dealer_id=body.dealer_id,
        )
    return JSONResponse(document, status_code=201)


async def _statement(db: Db, statement_id: str, principal: Principal) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        found = await store.get_statement(conn, statement_id)
    if found is None or not principal.may_see_dealer(found[0]):
        raise NotFound(f"settlement statement {statement_id} not found")
    if not principal.is_partner and not principal.has_any([Role.FINANCE, Role.WARRANTY_REVIEWER]):
        raise Forbidden("settlement statements are for finance, reviewers and the dealer")
    return found[1]


@router.get("/settlements/{statement_id}")
async def get_settlement(statement_id: str, db: Db, principal: AnyStaff) -> JSONResponse:
    return JSONResponse((await _statement(db, statement_id, principal))["json"])


@router.get("/settlements/{statement_id}/csv")
async def export_settlement_csv(statement_id: str, db: Db, principal: AnyStaff) -> Response:
    document = await _statement(db, statement_id, principal)
    return Response(
        document["csv"],
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="settlement-{statement_id}.csv"'},
    )


class FailureRow(BaseModel):
    model_code: str
    fault_code: str
    failures: int
    rework: int


class PartRow(BaseModel):
    model_code: str
    part_number: str
    replaced: int


class CostRow(BaseModel):
    model_code: str
    claims: int
    total: MoneyDto
    average: MoneyDto


class FaultStatisticsOut(BaseModel):
    month: str
    repairs: int
    rework: int
    rework_rate: str
    by_model_and_fault: list[FailureRow]
    by_part: list[PartRow]
    claim_costs: list[CostRow]


MonthParam = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


async def _statistics(db: Db, month_text: str) -> Any:
    year, month_number = (int(x) for x in month_text.split("-"))
    month = Month(year, month_number)
    async with db.engine.connect() as conn:
        # a month's rework looks back one window into the previous month
        since = date.fromordinal(month.first_day.toordinal() - 31)
        repairs = await store.repair_facts(conn, since=since, until=month.last_day)
        decided = await store.claims_decided_between(
            conn, since=datetime.combine(month.first_day, time.min, tzinfo=UTC), until=_end_of(month.last_day)
        )
    costs = [fact for fact in (ClaimCostFact.from_claim(cl) for cl in decided) if fact is not None]
    return monthly_fault_statistics(month, repairs, costs)


@router.get("/statistics/faults")
async def fault_statistics(db: Db, principal: Analyst, month: MonthParam) -> FaultStatisticsOut:
    """The month's failures by model, fault code and part, rework rate and claim cost per model."""
    stats = await _statistics(db, month)
    return FaultStatisticsOut(
        month=str(stats.month),
        repairs=stats.repairs,
        rework=stats.rework,
        rework_rate=str(stats.rework_rate),
        by_model_and_fault=[
            FailureRow(model_code=r.model_code, fault_code=r.fault_code, failures=r.failures, rework=r.rework)
            for r in stats.by_model_and_fault
        ],
        by_part=[
            PartRow(model_code=p.model_code, part_number=p.part_number, replaced=p.replaced)
            for p in stats.by_part
        ],
        claim_costs=[
            CostRow(
                model_code=x.model_code,
                claims=x.claims,
                total=MoneyDto.of(x.total),
                average=MoneyDto.of(x.average),
            )
            for x in stats.claim_costs
        ],
    )


@router.get("/statistics/faults.csv")
async def fault_statistics_csv(db: Db, principal: Analyst, month: MonthParam) -> Response:
    stats = await _statistics(db, month)
    return Response(
        statistics_to_csv(stats),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="fault-statistics-{month}.csv"'},
    )
