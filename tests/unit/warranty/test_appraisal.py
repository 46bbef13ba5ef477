from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kit.domain import Money
from warranty.domain.claims import (
    Appraisal,
    AppraisalContext,
    AppraisalOutcome,
    Claim,
    ClaimRules,
    ClaimState,
    FindingCode,
    PartReturn,
    ReplacedPart,
    ReturnOutcome,
    Severity,
    appraise,
)
from warranty.domain.policy import FaultCause, ProductLine, ProductModel, WarrantyPolicy
from warranty.domain.units import ContractTier, RegisteredUnit, ServiceContract

ON = date(2026, 2, 10)  # appraisal day; old parts of a repair on 2 February are due by 4 March
AT = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def context(make_unit, policy: WarrantyPolicy, model: ProductModel, line: ProductLine) -> AppraisalContext:
    return AppraisalContext(on=ON, unit=make_unit(), policy=policy, model=model, line=line)


def _severity(appraisal: Appraisal, code: FindingCode) -> list[Severity]:
    return [f.severity for f in appraisal.of(code)]


def test_a_clean_claim_within_the_limit_is_approved_automatically(make_claim, context) -> None:
    appraisal = appraise(make_claim(), context)
    assert appraisal.outcome is AppraisalOutcome.AUTO_APPROVE
    assert appraisal.approvable == eur("272.50")
    assert {f.severity for f in appraisal.findings} == {Severity.PASS}
    assert {f.code for f in appraisal.findings} == set(FindingCode)
    for finding in appraisal.findings:
        assert finding.reason.endswith(".")


# --- registration -----------------------------------------------------------------------------


def test_a_claim_for_an_unregistered_unit_is_not_accepted_automatically(make_claim, context) -> None:
    appraisal = appraise(make_claim(), replace(context, unit=None))
    assert appraisal.outcome is AppraisalOutcome.REVIEW
    assert _severity(appraisal, FindingCode.UNIT_REGISTERED) == [Severity.WARN]
    assert "Serial SN-1 is not registered, so the claim is not accepted automatically." in appraisal.reasons


def test_a_registration_card_on_day_20_keeps_the_claim_automatic(make_claim, make_unit, context) -> None:
    on_day_20 = replace(context, unit=make_unit(card_received_on=date(2026, 1, 30)))
    appraisal = appraise(make_claim(), on_day_20)
    assert _severity(appraisal, FindingCode.REGISTERED_ON_TIME) == [Severity.PASS]
    assert appraisal.outcome is AppraisalOutcome.AUTO_APPROVE


def test_a_registration_card_on_day_21_sends_the_claim_to_review(make_claim, make_unit, context) -> None:
    on_day_21 = replace(context, unit=make_unit(card_received_on=date(2026, 1, 31)))
    appraisal = appraise(make_claim(), on_day_21)
    assert _severity(appraisal, FindingCode.REGISTERED_ON_TIME) == [Severity.WARN]
    assert appraisal.outcome is AppraisalOutcome.REVIEW


def test_a_missing_registration_card_sends_the_claim_to_review(make_claim, make_unit, context) -> None:
    appraisal = appraise(make_claim(), replace(context, unit=make_unit(card_received_on=None)))
    assert _severity(appraisal, FindingCode.REGISTERED_ON_TIME) == [Severity.WARN]
    assert appraisal.outcome is AppraisalOutcome.REVIEW


# --- coverage and exclusions ------------------------------------------------------------------


def test_a_failure_after_the_warranty_rejects_the_claim(make_claim, context) -> None:
    claim = make_claim(failed_on=date(2028, 1, 11), repaired_on=date(2028, 1, 12))
    appraisal = appraise(claim, replace(context, on=date(2028, 1, 20)))
    assert appraisal.outcome is AppraisalOutcome.REJECT
    assert (
        "The failure on 11 January 2028 is outside the warranty, which ended on 10 January 2028."
        in appraisal.reasons
    )


def test_a_failure_on_the_last_day_of_the_warranty_is_covered(make_claim, context) -> None:
    claim = make_claim(failed_on=date(2028, 1, 10), repaired_on=date(2028, 1, 12))
    appraisal = appraise(claim, replace(context, on=date(2028, 1, 20)))
    assert _severity(appraisal, FindingCode.FAILURE_IN_COVERAGE) == [Severity.PASS]


def test_a_failure_under_a_service_contract_is_covered(make_claim, context) -> None:
    contract = ServiceContract("SC-1", "SN-1", ContractTier.STANDARD, date(2028, 1, 11), date(2029, 1, 10))
    claim = make_claim(failed_on=date(2028, 6, 1), repaired_on=date(2028, 6, 2))
    appraisal = appraise(claim, replace(context, on=date(2028, 6, 5), contracts=[contract]))
    (finding,) = appraisal.of(FindingCode.FAILURE_IN_COVERAGE)
    assert finding.severity is Severity.PASS
    assert "service contract SC-1" in finding.reason


def test_an_excluded_cause_rejects_the_claim(make_claim, context) -> None:
    appraisal = appraise(make_claim(cause=FaultCause.FLOOD), context)
    assert appraisal.outcome is AppraisalOutcome.REJECT
    assert _severity(appraisal, FindingCode.EXCLUSION) == [Severity.FAIL]
    assert any("force majeure" in reason for reason in appraisal.reasons)


# --- duplicates -------------------------------------------------------------------------------


def test_a_second_claim_for_the_same_work_order_is_rejected(make_claim, context) -> None:
    first = make_claim(claim_id="CL-1")
    second = make_claim(claim_id="CL-2", parts=())
    appraisal = appraise(second, replace(context, other_claims=[first, second]))
    assert appraisal.outcome is AppraisalOutcome.REJECT
    assert "Claim CL-1 already claims work order WO-1." in appraisal.reasons


def test_the_same_repair_claimed_without_work_orders_is_a_duplicate(make_claim, context) -> None:
    first = make_claim(claim_id="CL-1", work_order_id=None)
    second = make_claim(claim_id="CL-2", work_order_id=None, parts=())
    appraisal = appraise(second, replace(context, other_claims=[first]))
    assert _severity(appraisal, FindingCode.DUPLICATE_WORK) == [Severity.FAIL]


def test_an_unsubmitted_draft_is_not_a_duplicate(make_claim, context) -> None:
    draft = make_claim(claim_id="CL-1", submit=False)
    appraisal = appraise(make_claim(claim_id="CL-2"), replace(context, other_claims=[draft]))
    assert appraisal.outcome is AppraisalOutcome.AUTO_APPROVE


def test_an_old_part_claimed_in_another_claim_removes_that_line(make_claim, context) -> None:
    first = make_claim(claim_id="CL-1", work_order_id="WO-1")
    second = make_claim(claim_id="CL-2", work_order_id="WO-2", repaired_on=date(2026, 2, 5))
    appraisal = appraise(second, replace(context, other_claims=[first]))
    assert appraisal.outcome is AppraisalOutcome.PARTIAL_APPROVE
    assert list(appraisal.removed_lines) == ["part-1"]
    assert appraisal.approvable == eur("92.50")
    assert "already claimed in claim CL-1" in appraisal.removed_lines["part-1"]


def test_an_old_part_listed_twice_in_one_claim_removes_the_second_line(make_claim, context) -> None:
    part = ReplacedPart("CMP-100", eur("50.00"), old_part_serial="OLD-1")
    appraisal = appraise(make_claim(parts=(part, part)), context)
    assert list(appraisal.removed_lines) == ["part-2"]
    assert appraisal.outcome is AppraisalOutcome.PARTIAL_APPROVE


# --- labour time ------------------------------------------------------------------------------


def test_labour_at_the_standard_plus_tolerance_passes(make_claim, context) -> None:
    appraisal = appraise(make_claim(labour_minutes=108), context)
    assert _severity(appraisal, FindingCode.LABOUR_TIME) == [Severity.PASS]


def test_labour_beyond_the_tolerance_goes_to_review(make_claim, context) -> None:
    appraisal = appraise(make_claim(labour_minutes=109), context)
    assert appraisal.outcome is AppraisalOutcome.REVIEW
    (finding,) = appraisal.of(FindingCode.LABOUR_TIME)
    assert finding.reason == (
        "109 minutes claimed for fault E4, against a standard of 90 minutes (108 with the 20% tolerance): "
        "above the tolerance, a reviewer checks it."
    )


def test_the_labour_tolerance_is_configuration(make_claim, context) -> None:
    strict = replace(context, rules=ClaimRules(labour_tolerance=Decimal(0)))
    assert _severity(appraise(make_claim(labour_minutes=91), strict), FindingCode.LABOUR_TIME) == [
        Severity.WARN
    ]


def test_a_fault_code_without_a_standard_time_goes_to_review(make_claim, context) -> None:
    appraisal = appraise(make_claim(fault_code="E99"), context)
    assert _severity(appraisal, FindingCode.LABOUR_TIME) == [Severity.WARN]
    assert appraisal.outcome is AppraisalOutcome.REVIEW


# --- parts plausible for the model ------------------------------------------------------------


def test_a_part_outside_the_bill_of_materials_is_removed_and_the_rest_approved(make_claim, context) -> None:
    parts = (
        ReplacedPart("CMP-100", eur("100.00"), old_part_serial="OLD-1"),
        ReplacedPart("WHEEL-9", eur("40.00"), old_part_serial="OLD-2"),
    )
    claim = make_claim(parts=parts)
    appraisal = appraise(claim, context)
    assert appraisal.outcome is AppraisalOutcome.PARTIAL_APPROVE
    assert appraisal.claimed == eur("232.50")
    assert appraisal.approvable == eur("192.50")
    assert appraisal.removed_lines == {
        "part-2": "Part WHEEL-9 (part-2) is not in the bill of materials of model AC-3500; "
        "the line is removed."
    }
    claim.apply_appraisal(appraisal, at=AT, actor="appraisal")
    assert claim.state is ClaimState.PARTIALLY_APPROVED
    assert claim.approved_amount == eur("192.50")


def test_without_a_bill_of_materials_parts_go_to_review(make_claim, context, model) -> None:
    appraisal = appraise(make_claim(), replace(context, model=replace(model, bill_of_materials=frozenset())))
    assert _severity(appraisal, FindingCode.PART_PLAUSIBLE) == [Severity.WARN]
    assert appraisal.outcome is AppraisalOutcome.REVIEW


def test_a_claim_whose_every_line_fails_is_rejected(make_claim, context) -> None:
    claim = make_claim(
        labour="0.00", travel=None, parts=(ReplacedPart("WHEEL-9", eur("40"), old_part_serial="O"),)
    )
    assert appraise(claim, context).outcome is AppraisalOutcome.REJECT


# --- old parts returned by the deadline -------------------------------------------------------


def test_an_old_part_not_yet_due_does_not_hold_the_claim_back(make_claim, context) -> None:
    appraisal = appraise(make_claim(), replace(context, on=date(2026, 3, 4)))
    (finding,) = appraisal.of(FindingCode.OLD_PART_RETURNED)
    assert finding.severity is Severity.PASS
    assert "due back by 4 March 2026" in finding.reason


def test_an_old_part_not_returned_by_the_deadline_removes_its_line(make_claim, context) -> None:
    appraisal = appraise(make_claim(), replace(context, on=date(2026, 3, 5)))
    assert appraisal.removed_lines.keys() == {"part-1"}
    assert appraisal.outcome is AppraisalOutcome.PARTIAL_APPROVE


def test_an_old_part_returned_on_the_deadline_passes(make_claim, context) -> None:
    returns = {"OLD-1": PartReturn("OLD-1", received_on=date(2026, 3, 4))}
    appraisal = appraise(make_claim(), replace(context, on=date(2026, 3, 10), returns=returns))
    assert _severity(appraisal, FindingCode.OLD_PART_RETURNED) == [Severity.PASS]
    assert appraisal.outcome is AppraisalOutcome.AUTO_APPROVE


def test_an_old_part_returned_the_day_after_the_deadline_removes_its_line(make_claim, context) -> None:
    returns = {"OLD-1": PartReturn("OLD-1", received_on=date(2026, 3, 5))}
    appraisal = appraise(make_claim(), replace(context, on=date(2026, 3, 10), returns=returns))
    assert _severity(appraisal, FindingCode.OLD_PART_RETURNED) == [Severity.FAIL]


def test_an_old_part_inspected_as_reusable_goes_to_review(make_claim, context) -> None:
    returns = {"OLD-1": PartReturn("OLD-1", date(2026, 2, 8), date(2026, 2, 9), ReturnOutcome.REUSABLE)}
    appraisal = appraise(make_claim(), replace(context, returns=returns))
    assert _severity(appraisal, FindingCode.OLD_PART_RETURNED) == [Severity.WARN]
    assert appraisal.outcome is AppraisalOutcome.REVIEW


def test_a_part_without_an_old_part_serial_goes_to_review(make_claim, context) -> None:
    appraisal = appraise(make_claim(parts=(ReplacedPart("CMP-100", eur("180.00")),)), context)
    assert _severity(appraisal, FindingCode.OLD_PART_RETURNED) == [Severity.WARN]
    assert appraisal.outcome is AppraisalOutcome.REVIEW


# --- signature and the automatic approval limit -----------------------------------------------


def test_an_unsigned_repair_record_goes_to_review(make_claim, context) -> None:
    appraisal = appraise(make_claim(signed=False), context)
    assert appraisal.outcome is AppraisalOutcome.REVIEW
    assert "The repair record is not signed by the customer." in appraisal.reasons


def test_the_signature_requirement_is_configuration(make_claim, context) -> None:
    lenient = replace(context, rules=ClaimRules(require_customer_signature=False))
    assert appraise(make_claim(signed=False), lenient).outcome is AppraisalOutcome.AUTO_APPROVE


def test_a_clean_claim_above_the_limit_goes_to_review(make_claim, context) -> None:
    appraisal = appraise(make_claim(labour="100.00"), context)
    assert appraisal.claimed == eur("305.00")
    assert appraisal.outcome is AppraisalOutcome.REVIEW
    assert (
        "The amount to approve, 305.00 EUR, is above the automatic approval limit of 300.00 EUR."
        in appraisal.reasons
    )


def test_the_limit_applies_to_the_amount_left_after_removed_lines(make_claim, context) -> None:
    parts = (
        ReplacedPart("CMP-100", eur("100.00"), old_part_serial="OLD-1"),
        ReplacedPart("WHEEL-9", eur("400.00"), old_part_serial="OLD-2"),
    )
    appraisal = appraise(make_claim(parts=parts), context)
    assert appraisal.outcome is AppraisalOutcome.PARTIAL_APPROVE
    assert appraisal.approvable == eur("192.50")


def test_a_currency_without_a_limit_goes_to_review(make_claim, context) -> None:
    no_limits = replace(context, rules=ClaimRules(auto_approve_limits={}))
    assert appraise(make_claim(), no_limits).outcome is AppraisalOutcome.REVIEW


def test_a_rejecting_appraisal_rejects_the_claim_with_its_reasons(make_claim, context) -> None:
    claim: Claim = make_claim(cause=FaultCause.MISUSE)
    appraisal = appraise(claim, context)
    claim.apply_appraisal(appraisal, at=AT, actor="appraisal")
    assert claim.state is ClaimState.REJECTED
    assert (
        claim.history[-1].note
        == "The recorded cause, misuse, is damage by misuse, which the warranty excludes."
    )


def test_appraisal_does_not_change_the_claim(make_claim, context) -> None:
    claim = make_claim()
    appraise(claim, context)
    assert claim.state is ClaimState.SUBMITTED
    assert claim.appraisals == []


def test_appraisal_reads_the_registration_limit_from_the_policy(
    make_claim, make_unit, context, policy
) -> None:
    unit: RegisteredUnit = make_unit(card_received_on=date(2026, 2, 2))
    lenient = replace(context, unit=unit, policy=replace(policy, registration_days=25))
    assert _severity(appraise(make_claim(), lenient), FindingCode.REGISTERED_ON_TIME) == [Severity.PASS]
