"""The wiring around the rules: stored JSON keeps every policy and claim fact, decisions become events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from contracts import warranty as contracts
from kit.domain import Money
from warranty import codec, events
from warranty.domain import (
    Exclusion,
    FaultCause,
    MaintenancePlan,
    OutOfWarrantyPricing,
    ProductLine,
    ProductModel,
    RepeatFailureRule,
    ReportedFault,
    StartBasis,
    WarrantyPolicy,
    decide_entitlement,
)
from warranty.domain.claims import Appraisal, AppraisalContext, AppraisalOutcome, Claim, ClaimState, appraise
from warranty.domain.settlement import build_statement, deductions_of, settle_claims
from warranty.domain.units import RegisteredUnit

MakeClaim = Callable[..., Claim]
MakeUnit = Callable[..., RegisteredUnit]

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_a_stored_policy_version_reads_back_with_every_rule() -> None:
    policy = WarrantyPolicy(
        policy_id="AC-PRO",
        version=3,
        effective_from=date(2025, 6, 1),
        line_code="AC",
        model_code="AC-3500",
        return_days=7,
        exchange_days=20,
        repair_months=36,
        start_basis=StartBasis.SALE,
        covers_travel=False,
        exclusions=frozenset({Exclusion.MISUSE}),
        pricing=OutOfWarrantyPricing(labour_rate_per_hour=eur("52.00"), parts_markup=Decimal("0.10")),
        maintenance_plan=MaintenancePlan(6, False),
        repeat_failure=RepeatFailureRule(4, 45),
        registration_days=10,
    )
    stored = codec.policy_json(policy)
    assert (
        codec.policy_of(
            policy_id="AC-PRO",
            version=3,
            effective_from=date(2025, 6, 1),
            line_code="AC",
            model_code="AC-3500",
            config=stored,
        )
        == policy
    )


def test_a_stored_claim_keeps_its_repair_parts_and_appraisal(
    make_claim: MakeClaim, make_unit: MakeUnit, policy: WarrantyPolicy
) -> None:
    claim = make_claim()
    appraisal = appraise(claim, AppraisalContext(on=date(2026, 2, 3), unit=make_unit(), policy=policy))
    assert codec.record_of(codec.record_json(claim.record)) == claim.record
    assert codec.parts_of(codec.parts_json(claim.parts)) == claim.parts
    assert codec.appraisal_of(codec.appraisal_json(appraisal)) == appraisal


def test_a_covered_decision_on_day_10_offers_refund_exchange_and_free_repair_billed_to_warranty(
    make_unit: MakeUnit, policy: WarrantyPolicy
) -> None:
    unit = make_unit(sold_on=date(2026, 1, 10))
    entitlement = decide_entitlement(unit, policy, date(2026, 1, 19), ReportedFault("E4"))
    event = events.entitlement_determined(
        entitlement,
        entitlement_id="E-1",
        policy=policy,
        cause=FaultCause.UNKNOWN,
        ticket_id="T-1",
        customer_id=unit.customer_id,
        dealer_id=unit.dealer_id,
        at=NOW,
    )
    assert event.coverage == "covered"
    assert event.billing == "warranty"
    assert {r.remedy for r in event.remedies} >= {"refund", "exchange", "free_repair"}
    assert event.parts_covered
    assert event.labour_covered
    assert event.reasons


def test_an_excluded_cause_is_not_covered_names_the_exclusion_and_bills_the_customer(
    make_unit: MakeUnit, policy: WarrantyPolicy
) -> None:
    unit = make_unit()
    entitlement = decide_entitlement(
        unit, policy, date(2026, 2, 1), ReportedFault("E4", cause=FaultCause.FLOOD)
    )
    event = events.entitlement_determined(
        entitlement,
        entitlement_id="E-2",
        policy=policy,
        cause=FaultCause.FLOOD,
        ticket_id=None,
        customer_id=None,
        dealer_id=None,
        at=NOW,
    )
    assert event.coverage == "not_covered"
    assert event.billing == "customer"
    assert event.exclusions == ["force_majeure"]
    assert [r.remedy for r in event.remedies] == ["paid_repair"]


def test_an_unknown_serial_is_unregistered_and_asks_for_proof_of_purchase(policy: WarrantyPolicy) -> None:
    entitlement = decide_entitlement(None, policy, date(2026, 2, 1), ReportedFault(), serial="NOPE")
    event = events.entitlement_determined(
        entitlement,
        entitlement_id="E-3",
        policy=policy,
        cause=FaultCause.UNKNOWN,
        ticket_id=None,
        customer_id=None,
        dealer_id=None,
        at=NOW,
    )
    assert event.coverage == "unregistered"
    assert any("proof of purchase" in item for item in event.missing_evidence)


def test_an_automatic_approval_is_announced_as_automatic_by_the_system(
    make_claim: MakeClaim, make_unit: MakeUnit, policy: WarrantyPolicy, model: ProductModel, line: ProductLine
) -> None:
    claim = make_claim(parts=(), travel=None, labour="60.00")
    context = AppraisalContext(on=date(2026, 2, 3), unit=make_unit(), policy=policy, model=model, line=line)
    appraisal = appraise(claim, context)
    claim.apply_appraisal(appraisal, at=NOW, actor=events.AUTOMATIC)
    dealer = events.actor_of("dealer-user", partner=True)
    payloads = events.claim_events(
        claim, claim_number="WC-1", version=2, origin="partner_api", by=dealer, model_code="AC-3500"
    )
    assert claim.state is ClaimState.APPROVED
    submitted, approved = payloads
    assert isinstance(submitted, contracts.ClaimSubmitted)
    assert submitted.submitted_by == dealer
    assert isinstance(approved, contracts.ClaimApproved)
    assert approved.automatic is True
    assert approved.decided_by == events.SYSTEM


def test_a_settled_claim_announces_what_its_statement_deducted(make_claim: MakeClaim) -> None:
    claim = make_claim(repaired_on=date(2026, 2, 2))
    claim.start_review(at=NOW, actor="reviewer:R")
    claim.approve(at=NOW, actor="reviewer:R")
    claim.pull_events()
    statement = build_statement(
        statement_id="ST-1",
        dealer_id="D-1",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        issued_on=date(2026, 4, 1),
        claims=[claim],
        returns={},  # the old part, due back by 4 March, never came
    )
    settle_claims(statement, [claim], at=NOW, actor="finance")
    (settled,) = events.claim_events(
        claim,
        claim_number="WC-1",
        version=4,
        origin="partner_api",
        by=events.SYSTEM,
        model_code="AC-3500",
        deductions=deductions_of(statement, claim.claim_id),
    )
    assert isinstance(settled, contracts.ClaimSettled)
    assert settled.approved.amount == Decimal("272.50")
    assert [d.amount.amount for d in settled.deductions] == [Decimal("-180.00")]
    assert settled.settled.amount == Decimal("92.50")


def test_a_claim_left_to_a_reviewer_announces_its_review_deadline(make_claim: MakeClaim) -> None:
    claim = make_claim()
    finding = appraise(claim, AppraisalContext(on=date(2026, 2, 3), unit=None, policy=None)).findings[0]
    appraisal = Appraisal(
        claim.claim_id, date(2026, 2, 3), AppraisalOutcome.REVIEW, (finding,), claim.total, claim.total, {}
    )
    claim.apply_appraisal(appraisal, at=NOW, actor=events.AUTOMATIC, review_within=timedelta(days=3))
    payloads = events.claim_events(
        claim, claim_number="WC-1", version=2, origin="partner_api", by=events.SYSTEM, model_code="AC-3500"
    )
    queued = next(p for p in payloads if isinstance(p, contracts.ClaimUnderReview))
    assert queued.review_due_at == NOW + timedelta(days=3)


def test_every_warranty_setting_is_documented_in_the_operations_runbook() -> None:
    from pathlib import Path

    from warranty.settings import WarrantySettings

    runbook = (Path(__file__).resolve().parents[3] / "docs" / "runbooks" / "operations.md").read_text()
    names = [f"WARRANTY_{name.upper()}" for name in WarrantySettings.model_fields]
    assert [name for name in names if f"| `{name}` |" not in runbook] == []


def test_warranty_settings_come_from_warranty_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from warranty.settings import WarrantySettings

    monkeypatch.setenv("WARRANTY_SETTLEMENT_PERIOD_MONTHS", "3")
    monkeypatch.setenv("WARRANTY_SETTLEMENT_APPROVAL_ABOVE", "5000")
    configured = WarrantySettings()
    assert configured.schedule.period_months == 3
    assert configured.settlement_approval_above == Decimal("5000")
    monkeypatch.setenv("WARRANTY_SETTLEMENT_PERIOD_MONTHS", "5")
    with pytest.raises(ValueError, match="settlement_period_months"):
        WarrantySettings()
