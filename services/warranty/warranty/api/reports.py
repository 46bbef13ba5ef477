"""Monthly fault statistics (JSON and CSV), the analysis fed back to engineering and production."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from kit.deps import Db
from warranty import store
from warranty.api.common import Analyst, MoneyDto
from warranty.domain.statistics import ClaimCostFact, Month, monthly_fault_statistics, statistics_to_csv

router = APIRouter(tags=["reports"])


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


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


@router.get("/statistics/faults.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def fault_statistics_csv(db: Db, principal: Analyst, month: MonthParam) -> Response:
    stats = await _statistics(db, month)
    return Response(
        statistics_to_csv(stats),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="fault-statistics-{month}.csv"'},
    )
