"""Domain objects to and from the JSON kept in the warranty tables (nested policy config, claim records)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kit.domain import Money
from warranty.domain import (
    Exclusion,
    FaultCause,
    MaintenancePlan,
    OutOfWarrantyPricing,
    Ownership,
    PartCost,
    RepeatFailureRule,
    StandardRepair,
    StartBasis,
    WarrantyPolicy,
)
from warranty.domain.claims import (
    Appraisal,
    AppraisalOutcome,
    Finding,
    FindingCode,
    RepairRecord,
    ReplacedPart,
    Severity,
)

Json = dict[str, Any]


def money_json(money: Money) -> Json:
    return {"amount": str(money.amount), "currency": money.currency}


def money_of(data: Mapping[str, Any]) -> Money:
    return Money(Decimal(str(data["amount"])), str(data["currency"]))


# --- catalogue and policies ---------------------------------------------------------------------


def standard_repairs_json(repairs: Iterable[StandardRepair]) -> list[Json]:
    return [
        {
            "fault_code": r.fault_code,
            "standard_minutes": r.standard_minutes,
            "typical_parts": [
                {"part_number": p.part_number, "unit_cost": money_json(p.unit_cost), "quantity": p.quantity}
                for p in r.typical_parts
            ],
        }
        for r in repairs
    ]


def standard_repairs_of(data: Sequence[Mapping[str, Any]]) -> dict[str, StandardRepair]:
    repairs = (
        StandardRepair(
            fault_code=r["fault_code"],
            standard_minutes=int(r["standard_minutes"]),
            typical_parts=tuple(
                PartCost(p["part_number"], money_of(p["unit_cost"]), int(p.get("quantity", 1)))
                for p in r.get("typical_parts", [])
            ),
        )
        for r in data
    )
    return {r.fault_code: r for r in repairs}


def policy_json(policy: WarrantyPolicy) -> Json:
    """The nested configuration of a policy version (identity columns are stored beside it)."""
    pricing = policy.pricing
    return {
        "return_days": policy.return_days,
        "exchange_days": policy.exchange_days,
        "repair_months": policy.repair_months,
        "start_basis": policy.start_basis.value,
        "covers_parts": policy.covers_parts,
        "covers_labour": policy.covers_labour,
        "covers_travel": policy.covers_travel,
        "exclusions": sorted(e.value for e in policy.exclusions),
        "pricing": {
            "currency": pricing.currency,
            "labour_rate_per_hour": str(pricing.labour_rate_per_hour.amount),
            "parts_markup": str(pricing.parts_markup),
            "travel_flat": str(pricing.travel_flat.amount),
            "travel_per_km": str(pricing.travel_per_km.amount),
        },
        "maintenance_plan": (
            None
            if policy.maintenance_plan is None
            else {
                "every_months": policy.maintenance_plan.every_months,
                "while_under_warranty": policy.maintenance_plan.while_under_warranty,
            }
        ),
        "repeat_failure": {
            "repairs": policy.repeat_failure.repairs,
            "within_days": policy.repeat_failure.within_days,
        },
        "registration_days": policy.registration_days,
    }


def policy_of(
    *,
    policy_id: str,
    version: int,
    effective_from: date,
    line_code: str,
    model_code: str | None,
    config: Json,
) -> WarrantyPolicy:
    pricing = config["pricing"]
    currency = pricing["currency"]
    plan = config.get("maintenance_plan")
    repeat = config["repeat_failure"]
    return WarrantyPolicy(
        policy_id=policy_id,
        version=version,
        effective_from=effective_from,
        line_code=line_code,
        model_code=model_code,
        return_days=int(config["return_days"]),
        exchange_days=int(config["exchange_days"]),
        repair_months=int(config["repair_months"]),
        start_basis=StartBasis(config["start_basis"]),
        covers_parts=bool(config["covers_parts"]),
        covers_labour=bool(config["covers_labour"]),
        covers_travel=bool(config["covers_travel"]),
        exclusions=frozenset(Exclusion(e) for e in config["exclusions"]),
        pricing=OutOfWarrantyPricing(
            currency=currency,
            labour_rate_per_hour=Money(Decimal(pricing["labour_rate_per_hour"]), currency),
            parts_markup=Decimal(pricing["parts_markup"]),
            travel_flat=Money(Decimal(pricing["travel_flat"]), currency),
            travel_per_km=Money(Decimal(pricing["travel_per_km"]), currency),
        ),
        maintenance_plan=(
            None
            if plan is None
            else MaintenancePlan(int(plan["every_months"]), bool(plan["while_under_warranty"]))
        ),
        repeat_failure=RepeatFailureRule(int(repeat["repairs"]), int(repeat["within_days"])),
        registration_days=int(config["registration_days"]),
    )


# --- units --------------------------------------------------------------------------------------


def owners_json(owners: Iterable[Ownership]) -> list[Json]:
    return [
        {
            "customer_id": o.customer_id,
            "from_date": o.from_date.isoformat(),
            "recorded_at": o.recorded_at.isoformat(),
            "recorded_by": o.recorded_by,
            "reason": o.reason,
        }
        for o in owners
    ]


def owners_of(data: Sequence[Mapping[str, Any]]) -> list[Ownership]:
    return [
        Ownership(
            o["customer_id"],
            date.fromisoformat(o["from_date"]),
            datetime.fromisoformat(o["recorded_at"]),
            o["recorded_by"],
            o.get("reason", ""),
        )
        for o in data
    ]


# --- claims -------------------------------------------------------------------------------------


def record_json(record: RepairRecord) -> Json:
    return {
        "fault_code": record.fault_code,
        "cause": record.cause.value,
        "failed_on": record.failed_on.isoformat(),
        "repaired_on": record.repaired_on.isoformat(),
        "labour_minutes": record.labour_minutes,
        "labour_amount": money_json(record.labour_amount),
        "actions": list(record.actions),
        "travel_km": str(record.travel_km),
        "travel_amount": None if record.travel_amount is None else money_json(record.travel_amount),
        "work_order_id": record.work_order_id,
    }


def record_of(data: Mapping[str, Any]) -> RepairRecord:
    travel = data.get("travel_amount")
    return RepairRecord(
        fault_code=data["fault_code"],
        cause=FaultCause(data["cause"]),
        failed_on=date.fromisoformat(data["failed_on"]),
        repaired_on=date.fromisoformat(data["repaired_on"]),
        labour_minutes=int(data["labour_minutes"]),
        labour_amount=money_of(data["labour_amount"]),
        actions=tuple(data.get("actions", [])),
        travel_km=Decimal(str(data.get("travel_km", "0"))),
        travel_amount=None if travel is None else money_of(travel),
        work_order_id=data.get("work_order_id"),
    )


def parts_json(parts: Iterable[ReplacedPart]) -> list[Json]:
    return [
        {
            "part_number": p.part_number,
            "amount": money_json(p.amount),
            "old_part_serial": p.old_part_serial,
            "new_part_serial": p.new_part_serial,
            "quantity": p.quantity,
        }
        for p in parts
    ]


def parts_of(data: Sequence[Mapping[str, Any]]) -> tuple[ReplacedPart, ...]:
    return tuple(
        ReplacedPart(
            part_number=p["part_number"],
            amount=money_of(p["amount"]),
            old_part_serial=p.get("old_part_serial"),
            new_part_serial=p.get("new_part_serial"),
            quantity=int(p.get("quantity", 1)),
        )
        for p in data
    )


def appraisal_json(appraisal: Appraisal) -> Json:
    return {
        "claim_id": appraisal.claim_id,
        "appraised_on": appraisal.appraised_on.isoformat(),
        "outcome": appraisal.outcome.value,
        "findings": [
            {"code": f.code.value, "severity": f.severity.value, "reason": f.reason, "line_id": f.line_id}
            for f in appraisal.findings
        ],
        "claimed": money_json(appraisal.claimed),
        "approvable": money_json(appraisal.approvable),
        "removed_lines": dict(appraisal.removed_lines),
    }


def appraisal_of(data: Mapping[str, Any]) -> Appraisal:
    return Appraisal(
        claim_id=data["claim_id"],
        appraised_on=date.fromisoformat(data["appraised_on"]),
        outcome=AppraisalOutcome(data["outcome"]),
        findings=tuple(
            Finding(FindingCode(f["code"]), Severity(f["severity"]), f["reason"], f.get("line_id"))
            for f in data["findings"]
        ),
        claimed=money_of(data["claimed"]),
        approvable=money_of(data["approvable"]),
        removed_lines=dict(data.get("removed_lines", {})),
    )


__all__ = [
    "appraisal_json",
    "appraisal_of",
    "money_json",
    "money_of",
    "owners_json",
    "owners_of",
    "parts_json",
    "parts_of",
    "policy_json",
    "policy_of",
    "record_json",
    "record_of",
    "standard_repairs_json",
    "standard_repairs_of",
]
