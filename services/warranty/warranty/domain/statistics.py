"""Monthly fault statistics, the analysis the business feeds back to engineering and production.

From repair facts (completed work orders and claims) and approved claim costs, for one month:
failures by model, by fault code and by part; the repeat-repair (rework) rate; claim cost per
model. A repair is *rework* when the same unit was repaired for the same fault within the rework
window before it (default 30 days, day 30 counting), so facts from the previous month are needed
to judge the first days of a month.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from kit.domain import DomainError, Money
from warranty.domain.claims import Claim
from warranty.domain.dates import add_months
from warranty.domain.repeats import once_per_work_order


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise DomainError(f"a month is 1 to 12, got {self.month}", code="bad-month")

    @classmethod
    def of(cls, on: date) -> Month:
        return cls(on.year, on.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return add_months(self.first_day, 1) - timedelta(days=1)

    def contains(self, on: date) -> bool:
        return (on.year, on.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class RepairFact:
    """One repair of a unit: when, which model, which fault, which parts were replaced."""

    serial: str
    model_code: str
    fault_code: str
    repaired_on: date
    part_numbers: tuple[str, ...] = ()
    work_order_id: str | None = None

    @classmethod
    def from_claim(cls, claim: Claim, model_code: str | None = None) -> RepairFact:
        """The repair a claim records (``model_code`` when the claim does not carry one)."""
        model = model_code or claim.model_code
        if model is None:
            raise DomainError(f"claim {claim.claim_id} names no model", code="model-required")
        return cls(
            serial=claim.serial,
            model_code=model,
            fault_code=claim.record.fault_code,
            repaired_on=claim.record.repaired_on,
            part_numbers=tuple(line.part.part_number for line in claim.lines if line.part is not None),
            work_order_id=claim.record.work_order_id,
        )


@dataclass(frozen=True)
class ClaimCostFact:
    """What an approved claim cost, attributed to the model repaired."""

    claim_id: str
    model_code: str
    approved_on: date
    amount: Money

    @classmethod
    def from_claim(cls, claim: Claim, model_code: str | None = None) -> ClaimCostFact | None:
        """The cost of a claim that was approved (None for a claim that was not)."""
        model = model_code or claim.model_code
        if (
            claim.decided_on is None
            or claim.approved_amount is None
            or not claim.approved_lines
            or model is None
        ):
            return None
        return cls(claim.claim_id, model, claim.decided_on, claim.approved_amount)


@dataclass(frozen=True)
class FailureCount:
    model_code: str
    fault_code: str
    failures: int
    rework: int


@dataclass(frozen=True)
class PartFailureCount:
    model_code: str
    part_number: str
    replaced: int


@dataclass(frozen=True)
class ModelClaimCost:
    model_code: str
    claims: int
    total: Money

    @property
    def average(self) -> Money:
        return Money(self.total.amount / self.claims, self.total.currency) if self.claims else self.total


@dataclass(frozen=True)
class MonthlyFaultStatistics:
    month: Month
    repairs: int
    rework: int
    #: (model, fault code) rows, most failures first
    by_model_and_fault: tuple[FailureCount, ...]
    #: (model, part) rows, most replaced first
    by_part: tuple[PartFailureCount, ...]
    claim_costs: tuple[ModelClaimCost, ...]

    @property
    def rework_rate(self) -> Decimal:
        """Share of the month's repairs that were rework, as a fraction (0.0150 = 1.5%)."""
        if self.repairs == 0:
            return Decimal(0)
        return (Decimal(self.rework) / Decimal(self.repairs)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    @property
    def failures_by_model(self) -> Mapping[str, int]:
        counts: Counter[str] = Counter()
        for row in self.by_model_and_fault:
            counts[row.model_code] += row.failures
        return dict(counts)

    @property
    def failures_by_fault_code(self) -> Mapping[str, int]:
        counts: Counter[str] = Counter()
        for row in self.by_model_and_fault:
            counts[row.fault_code] += row.failures
        return dict(counts)

    @property
    def parts_replaced(self) -> Mapping[str, int]:
        counts: Counter[str] = Counter()
        for row in self.by_part:
            counts[row.part_number] += row.replaced
        return dict(counts)


def monthly_fault_statistics(
    month: Month,
    repairs: Iterable[RepairFact],
    claim_costs: Iterable[ClaimCostFact] = (),
    *,
    rework_window_days: int = 30,
) -> MonthlyFaultStatistics:
    """The month's fault statistics. ``repairs`` may include earlier months (used for rework only)."""
    history = once_per_work_order(sorted(repairs, key=lambda r: (r.repaired_on, r.serial)))
    last_repair: dict[tuple[str, str], date] = {}
    failures: Counter[tuple[str, str]] = Counter()
    rework: Counter[tuple[str, str]] = Counter()
    parts: Counter[tuple[str, str]] = Counter()
    for repair in history:
        if repair.repaired_on > month.last_day:
            break
        key = (repair.serial, repair.fault_code)
        previous = last_repair.get(key)
        last_repair[key] = repair.repaired_on
        if not month.contains(repair.repaired_on):
            continue
        row = (repair.model_code, repair.fault_code)
        failures[row] += 1
        if previous is not None and (repair.repaired_on - previous).days <= rework_window_days:
            rework[row] += 1
        for part_number in repair.part_numbers:
            parts[(repair.model_code, part_number)] += 1

    costs: dict[tuple[str, str], tuple[int, Money]] = {}
    for cost in claim_costs:
        if not month.contains(cost.approved_on):
            continue
        key = (cost.model_code, cost.amount.currency)
        count, total = costs.get(key, (0, Money.zero(cost.amount.currency)))
        costs[key] = (count + 1, total + cost.amount)

    return MonthlyFaultStatistics(
        month=month,
        repairs=sum(failures.values()),
        rework=sum(rework.values()),
        by_model_and_fault=tuple(
            FailureCount(model, fault, count, rework[(model, fault)])
            for (model, fault), count in sorted(failures.items(), key=lambda item: (-item[1], item[0]))
        ),
        by_part=tuple(
            PartFailureCount(model, part, count)
            for (model, part), count in sorted(parts.items(), key=lambda item: (-item[1], item[0]))
        ),
        claim_costs=tuple(
            ModelClaimCost(model, count, total) for (model, _), (count, total) in sorted(costs.items())
        ),
    )


CSV_COLUMNS = ("month", "measure", "model_code", "fault_code", "part_number", "value", "currency")


def statistics_to_csv(statistics: MonthlyFaultStatistics) -> str:
    """The statistics as one long CSV table (one measure per row), easy to pivot in a spreadsheet.

    Measures: ``failures`` and ``rework`` per model and fault code, ``parts_replaced`` per model and
    part, ``claim_cost`` and ``claims`` per model (with currency), and the month's ``repairs``,
    ``rework_total`` and ``rework_rate``.
    """
    month = str(statistics.month)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in statistics.by_model_and_fault:
        writer.writerow([month, "failures", row.model_code, row.fault_code, "", row.failures, ""])
        writer.writerow([month, "rework", row.model_code, row.fault_code, "", row.rework, ""])
    for part in statistics.by_part:
        writer.writerow([month, "parts_replaced", part.model_code, "", part.part_number, part.replaced, ""])
    for cost in statistics.claim_costs:
        writer.writerow([month, "claims", cost.model_code, "", "", cost.claims, cost.total.currency])
        writer.writerow(
            [month, "claim_cost", cost.model_code, "", "", cost.total.amount, cost.total.currency]
        )
    writer.writerow([month, "repairs", "", "", "", statistics.repairs, ""])
    writer.writerow([month, "rework_total", "", "", "", statistics.rework, ""])
    writer.writerow([month, "rework_rate", "", "", "", statistics.rework_rate, ""])
    return buffer.getvalue()
