from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kit.domain import DomainError, Money
from warranty.domain.statistics import (
    ClaimCostFact,
    Month,
    RepairFact,
    monthly_fault_statistics,
    statistics_to_csv,
)

MARCH = Month(2026, 3)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _repair(
    serial: str, model: str, fault: str, on: date, *parts: str, work_order: str | None = None
) -> RepairFact:
    return RepairFact(serial, model, fault, on, tuple(parts), work_order or f"WO-{serial}-{on.isoformat()}")


def test_a_month_runs_from_its_first_to_its_last_day() -> None:
    assert Month(2024, 2).last_day == date(2024, 2, 29)
    assert Month.of(date(2026, 12, 31)).first_day == date(2026, 12, 1)
    assert str(MARCH) == "2026-03"
    with pytest.raises(DomainError):
        Month(2026, 13)


def test_failures_are_counted_by_model_fault_code_and_part() -> None:
    repairs = [
        _repair("A1", "AC-3500", "E4", date(2026, 3, 2), "CMP-100"),
        _repair("A2", "AC-3500", "E4", date(2026, 3, 9), "CMP-100", "PCB-7"),
        _repair("A3", "AC-3500", "E7", date(2026, 3, 15), "FAN-20"),
        _repair("B1", "AC-5000", "E4", date(2026, 3, 31), "CMP-200"),
        _repair("B2", "AC-5000", "E4", date(2026, 4, 1), "CMP-200"),
        _repair("B3", "AC-5000", "E4", date(2026, 2, 28), "CMP-200"),
    ]
    stats = monthly_fault_statistics(MARCH, repairs)
    assert stats.repairs == 4
    assert stats.failures_by_model == {"AC-3500": 3, "AC-5000": 1}
    assert stats.failures_by_fault_code == {"E4": 3, "E7": 1}
    assert stats.parts_replaced == {"CMP-100": 2, "PCB-7": 1, "FAN-20": 1, "CMP-200": 1}
    assert [(r.model_code, r.fault_code, r.failures) for r in stats.by_model_and_fault] == [
        ("AC-3500", "E4", 2),
        ("AC-3500", "E7", 1),
        ("AC-5000", "E4", 1),
    ]


def test_a_work_order_reported_twice_is_one_failure() -> None:
    repair = _repair("A1", "AC-3500", "E4", date(2026, 3, 2), work_order="WO-1")
    assert monthly_fault_statistics(MARCH, [repair, repair]).repairs == 1


def test_a_repeat_repair_of_the_same_fault_within_30_days_is_rework_even_across_months() -> None:
    repairs = [
        _repair("A1", "AC-3500", "E4", date(2026, 2, 10)),
        _repair("A1", "AC-3500", "E4", date(2026, 3, 12)),  # day 30 after 10 February: rework
        _repair("A2", "AC-3500", "E4", date(2026, 2, 10)),
        _repair("A2", "AC-3500", "E4", date(2026, 3, 13)),  # day 31: a new failure, not rework
        _repair("A3", "AC-3500", "E4", date(2026, 3, 1)),
        _repair("A3", "AC-3500", "E7", date(2026, 3, 2)),  # another fault: not rework
    ]
    stats = monthly_fault_statistics(MARCH, repairs)
    assert stats.repairs == 4
    assert stats.rework == 1
    assert stats.rework_rate == Decimal("0.2500")
    assert stats.by_model_and_fault[0].rework == 1


def test_a_month_without_repairs_has_a_zero_rework_rate() -> None:
    assert monthly_fault_statistics(MARCH, []).rework_rate == Decimal(0)


def test_claim_cost_is_summed_per_model_for_claims_approved_in_the_month() -> None:
    costs = [
        ClaimCostFact("CL-1", "AC-3500", date(2026, 3, 3), eur("100.00")),
        ClaimCostFact("CL-2", "AC-3500", date(2026, 3, 20), eur("50.00")),
        ClaimCostFact("CL-3", "AC-5000", date(2026, 3, 31), eur("300.00")),
        ClaimCostFact("CL-4", "AC-5000", date(2026, 4, 1), eur("999.00")),
    ]
    stats = monthly_fault_statistics(MARCH, [], costs)
    assert [(c.model_code, c.claims, c.total, c.average) for c in stats.claim_costs] == [
        ("AC-3500", 2, eur("150.00"), eur("75.00")),
        ("AC-5000", 1, eur("300.00"), eur("300.00")),
    ]


def test_facts_come_from_approved_claims(make_claim) -> None:
    at = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    claim = make_claim(repaired_on=date(2026, 3, 2), failed_on=date(2026, 3, 1))
    assert ClaimCostFact.from_claim(claim) is None
    claim.start_review(at=at, actor="reviewer:R")
    claim.approve(at=at, actor="reviewer:R")
    cost = ClaimCostFact.from_claim(claim)
    assert cost == ClaimCostFact("CL-1", "AC-3500", date(2026, 3, 5), eur("272.50"))
    repair = RepairFact.from_claim(claim)
    assert repair == RepairFact("SN-1", "AC-3500", "E4", date(2026, 3, 2), ("CMP-100",), "WO-1")


def test_the_csv_export_has_one_measure_per_row() -> None:
    repairs = [
        _repair("A1", "AC-3500", "E4", date(2026, 3, 2), "CMP-100"),
        _repair("A1", "AC-3500", "E4", date(2026, 3, 20), "CMP-100"),
    ]
    costs = [ClaimCostFact("CL-1", "AC-3500", date(2026, 3, 3), eur("100.00"))]
    rows = list(
        csv.DictReader(io.StringIO(statistics_to_csv(monthly_fault_statistics(MARCH, repairs, costs))))
    )
    measures = {(r["measure"], r["model_code"], r["fault_code"], r["part_number"]): r["value"] for r in rows}
    assert measures == {
        ("failures", "AC-3500", "E4", ""): "2",
        ("rework", "AC-3500", "E4", ""): "1",
        ("parts_replaced", "AC-3500", "", "CMP-100"): "2",
        ("claims", "AC-3500", "", ""): "1",
        ("claim_cost", "AC-3500", "", ""): "100.00",
        ("repairs", "", "", ""): "2",
        ("rework_total", "", "", ""): "1",
        ("rework_rate", "", "", ""): "0.5000",
    }
    assert {r["month"] for r in rows} == {"2026-03"}
