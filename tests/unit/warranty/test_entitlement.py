from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kit.domain import DomainError, Money
from warranty.domain.coverage import maintenance_visits
from warranty.domain.entitlement import (
    PROOF_OF_PURCHASE,
    Coverage,
    Entitlement,
    RemedyKind,
    ReportedFault,
    decide_entitlement,
)
from warranty.domain.policy import (
    FaultCause,
    MaintenancePlan,
    PartCost,
    StandardRepair,
    StartBasis,
    StartEvent,
    WarrantyPolicy,
    policy_in_force,
)
from warranty.domain.repeats import RepairEvent
from warranty.domain.units import ContractTier, ServiceContract

SOLD = date(2026, 3, 1)
E4 = StandardRepair("E4", 90, (PartCost("CMP-100", Money(Decimal("180.00"))),))
DEFECT = ReportedFault.typical_of(E4, description="no cooling", cause=FaultCause.PRODUCT_DEFECT)


def _kinds(entitlement: Entitlement) -> list[RemedyKind]:
    return [r.kind for r in entitlement.remedies]


def _decide(
    make_unit, policy: WarrantyPolicy, at: date, fault: ReportedFault = DEFECT, decide=None, **unit_kw
) -> Entitlement:
    """Register a unit sold on SOLD (card back the same day unless ``card``) and decide for it."""
    unit = make_unit(
        sold_on=unit_kw.pop("sold_on", SOLD), card_received_on=unit_kw.pop("card", SOLD), **unit_kw
    )
    return decide_entitlement(unit, policy, at, fault, **(decide or {}))


# --- refund: 15 days --------------------------------------------------------------------------


def test_refund_is_open_on_day_15(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=15))
    assert decision.coverage is Coverage.COVERED
    refund = decision.remedy(RemedyKind.REFUND)
    assert refund is not None
    assert refund.until == date(2026, 3, 16)
    assert refund.is_free
    assert decision.basis.day == 15
    assert (
        "Refund for a quality fault is open until 16 March 2026 (15 days from the start)." in decision.reasons
    )


def test_refund_is_closed_on_day_16_but_exchange_stays_open(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=16))
    assert not decision.offers(RemedyKind.REFUND)
    assert _kinds(decision) == [RemedyKind.EXCHANGE, RemedyKind.REPAIR]
    assert "The 15-day refund window closed on 16 March 2026." in decision.reasons


# --- exchange: 30 days ------------------------------------------------------------------------


def test_exchange_is_open_on_day_30(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=30))
    exchange = decision.remedy(RemedyKind.EXCHANGE)
    assert exchange is not None
    assert exchange.until == date(2026, 3, 31)


def test_exchange_is_closed_on_day_31_and_free_repair_remains(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=31))
    assert _kinds(decision) == [RemedyKind.REPAIR]
    repair = decision.remedy(RemedyKind.REPAIR)
    assert repair is not None
    assert repair.is_free
    assert repair.until == date(2028, 3, 1)
    assert "The 30-day exchange window closed on 31 March 2026." in decision.reasons


# --- free repair: 24 calendar months ----------------------------------------------------------


def test_free_repair_is_open_on_the_last_day_of_month_24(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, date(2028, 3, 1))
    assert decision.coverage is Coverage.COVERED
    assert decision.expires_on == date(2028, 3, 1)
    assert "Repair is free (parts, labour and travel) until 1 March 2028." in decision.reasons


def test_the_day_after_month_24_repair_is_paid_at_the_quoted_price(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, date(2028, 3, 2))
    assert decision.coverage is Coverage.NOT_COVERED
    assert _kinds(decision) == [RemedyKind.PAID_REPAIR]
    price = decision.remedies[0].customer_pays
    assert price is not None
    assert (price.parts, price.labour, price.travel) == (
        Money(Decimal("180.00")),
        Money(Decimal("67.50")),
        Money(Decimal("25.00")),
    )
    assert price.total == Money(Decimal("272.50"))
    assert decision.expires_on is None
    assert "Free repair under the warranty ended on 1 March 2028." in decision.reasons
    assert any("estimated 272.50 EUR" in r and "agrees before work starts" in r for r in decision.reasons)


def test_a_warranty_starting_on_29_february_ends_on_28_february_two_years_later(make_unit, policy) -> None:
    start = date(2024, 2, 29)
    assert (
        _decide(make_unit, policy, date(2026, 2, 28), sold_on=start, card=start).coverage is Coverage.COVERED
    )
    assert (
        _decide(make_unit, policy, date(2026, 3, 1), sold_on=start, card=start).coverage
        is Coverage.NOT_COVERED
    )


def test_a_warranty_starting_on_a_month_end_counts_days_across_short_months(make_unit, policy) -> None:
    start = date(2026, 1, 31)
    decision = _decide(make_unit, policy, start, sold_on=start, card=start)
    assert [(r.kind, r.until) for r in decision.remedies] == [
        (RemedyKind.REFUND, date(2026, 2, 15)),
        (RemedyKind.EXCHANGE, date(2026, 3, 2)),
        (RemedyKind.REPAIR, date(2028, 1, 31)),
    ]


# --- what starts the warranty -----------------------------------------------------------------


def test_the_warranty_counts_from_installation_when_known(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, date(2026, 4, 5), installed_on=date(2026, 3, 20))
    assert decision.basis.start_event is StartEvent.INSTALLATION
    assert decision.basis.starts_on == date(2026, 3, 20)
    assert decision.basis.day == 16
    assert decision.offers(RemedyKind.EXCHANGE)
    assert not decision.offers(RemedyKind.REFUND)
    assert decision.reasons[0] == (
        "The warranty counts from the installation date, 20 March 2026, under policy AC-STD version 1, "
        "in force when the unit was sold on 1 March 2026."
    )


def test_acceptance_of_the_installation_starts_the_warranty_when_recorded(make_unit, policy) -> None:
    decision = _decide(
        make_unit, policy, date(2026, 4, 5), installed_on=date(2026, 3, 20), accepted_on=date(2026, 3, 22)
    )
    assert decision.basis.start_event is StartEvent.ACCEPTANCE
    assert decision.remedy(RemedyKind.REFUND) is not None


def test_a_sale_basis_policy_ignores_the_installation_date(make_unit, policy) -> None:
    sale_basis = replace(policy, start_basis=StartBasis.SALE)
    decision = _decide(make_unit, sale_basis, date(2026, 3, 25), installed_on=date(2026, 3, 20))
    assert decision.basis.start_event is StartEvent.SALE
    assert not decision.offers(RemedyKind.REFUND)


def test_without_the_warranty_card_the_installation_date_is_used(make_unit, policy) -> None:
    sale_basis = replace(policy, start_basis=StartBasis.SALE)
    decision = _decide(
        make_unit, sale_basis, date(2026, 3, 25), installed_on=date(2026, 3, 20), decide={"card_shown": False}
    )
    assert decision.basis.start_event is StartEvent.INSTALLATION
    assert decision.basis.card_shown is False
    assert decision.offers(RemedyKind.REFUND)
    assert decision.reasons[0].startswith(
        "The customer cannot show the warranty card, so the warranty counts from"
    )


def test_without_card_or_installation_the_registered_sale_date_stands(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, date(2026, 3, 25), decide={"card_shown": False})
    assert decision.coverage is Coverage.COVERED
    assert decision.basis.start_event is StartEvent.SALE


def test_without_card_installation_or_registration_card_coverage_cannot_be_established(
    make_unit, policy
) -> None:
    decision = _decide(make_unit, policy, date(2026, 3, 25), card=None, decide={"card_shown": False})
    assert decision.coverage is Coverage.UNREGISTERED
    assert PROOF_OF_PURCHASE in decision.requires
    assert _kinds(decision) == [RemedyKind.PAID_REPAIR]


def test_a_unit_failing_before_its_installation_counts_as_day_0(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, date(2026, 3, 5), installed_on=date(2026, 3, 20))
    assert decision.basis.day == 0
    assert decision.offers(RemedyKind.REFUND)


def test_a_decision_before_the_sale_is_refused(make_unit, policy) -> None:
    with pytest.raises(DomainError):
        _decide(make_unit, policy, SOLD - timedelta(days=1))


def test_a_unit_keeps_the_policy_version_of_its_sale(make_unit) -> None:
    versions = [
        WarrantyPolicy("AC-STD", 1, date(2020, 1, 1), "AC", repair_months=24),
        WarrantyPolicy("AC-STD", 2, date(2027, 1, 1), "AC", repair_months=36),
    ]
    policy = policy_in_force(versions, SOLD)
    decision = _decide(make_unit, policy, date(2028, 6, 1))
    assert decision.coverage is Coverage.NOT_COVERED
    assert (decision.basis.policy_id, decision.basis.policy_version) == ("AC-STD", 1)


# --- causes and exclusions --------------------------------------------------------------------


@pytest.mark.parametrize(
    "cause", [FaultCause.MISUSE, FaultCause.MODIFICATION, FaultCause.LIGHTNING, FaultCause.FLOOD]
)
def test_excluded_causes_inside_the_period_get_a_paid_repair_only(
    make_unit, policy, cause: FaultCause
) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=3), replace(DEFECT, cause=cause))
    assert decision.coverage is Coverage.EXCLUDED
    assert _kinds(decision) == [RemedyKind.PAID_REPAIR]
    assert decision.expires_on == date(2028, 3, 1)
    assert any("which the warranty does not cover" in r for r in decision.reasons)


def test_lightning_is_explained_as_force_majeure(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD, replace(DEFECT, cause=FaultCause.LIGHTNING))
    assert (
        "The reported cause, lightning, is force majeure (fire, lightning, flood), which the warranty "
        "does not cover." in decision.reasons
    )


def test_an_excluded_cause_after_the_period_is_simply_not_covered(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, date(2029, 1, 1), replace(DEFECT, cause=FaultCause.MISUSE))
    assert decision.coverage is Coverage.NOT_COVERED


def test_an_installation_fault_is_repaired_free_but_opens_no_refund_or_exchange(make_unit, policy) -> None:
    decision = _decide(
        make_unit, policy, SOLD + timedelta(days=2), replace(DEFECT, cause=FaultCause.INSTALLATION)
    )
    assert _kinds(decision) == [RemedyKind.REPAIR]
    assert any("not a quality fault" in r for r in decision.reasons)


def test_an_unknown_cause_opens_refund_on_condition_of_a_confirmed_quality_fault(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=2), replace(DEFECT, cause=FaultCause.UNKNOWN))
    refund = decision.remedy(RemedyKind.REFUND)
    assert refund is not None
    assert refund.condition == "once the technician confirms a quality fault"


# --- cover of parts, labour, travel and service contracts -------------------------------------


def test_a_policy_covering_parts_only_leaves_labour_and_travel_to_the_customer(make_unit, policy) -> None:
    parts_only = replace(policy, covers_labour=False, covers_travel=False)
    decision = _decide(make_unit, parts_only, date(2027, 1, 1))
    repair = decision.remedy(RemedyKind.REPAIR)
    assert repair is not None
    assert repair.customer_pays is not None
    assert repair.customer_pays.parts == Money.zero()
    assert repair.customer_pays.total == Money(Decimal("92.50"))
    assert any("leaves labour and travel to the customer" in r for r in decision.reasons)


def test_a_service_contract_after_the_warranty_extends_free_repair(make_unit, policy) -> None:
    contract = ServiceContract.for_months(
        contract_id="SC-1", serial="SN-1", tier=ContractTier.PREMIUM, starts_on=date(2028, 3, 2), months=12
    )
    inside = _decide(make_unit, policy, date(2027, 6, 1), decide={"contracts": [contract]})
    assert inside.expires_on == date(2029, 3, 1)
    assert inside.basis.contract_ids == ("SC-1",)
    assert "Repair is free (parts, labour and travel) until 1 March 2028." in inside.reasons
    assert (
        "Service contract SC-1 (premium) extends the repair cover until 1 March 2029, covering parts, labour "
        "and travel." in inside.reasons
    )
    under_contract = _decide(make_unit, policy, date(2028, 6, 1), decide={"contracts": [contract]})
    assert under_contract.coverage is Coverage.COVERED
    assert _kinds(under_contract) == [RemedyKind.REPAIR]
    assert under_contract.basis.contract_ids == ("SC-1",)
    after = _decide(make_unit, policy, date(2029, 3, 2), decide={"contracts": [contract]})
    assert after.coverage is Coverage.NOT_COVERED


def test_a_gap_between_warranty_and_contract_is_not_covered(make_unit, policy) -> None:
    contract = ServiceContract("SC-1", "SN-1", ContractTier.BASIC, date(2028, 6, 1), date(2029, 5, 31))
    assert _decide(make_unit, policy, date(2028, 4, 1), decide={"contracts": [contract]}).coverage is (
        Coverage.NOT_COVERED
    )
    inside = _decide(make_unit, policy, date(2027, 4, 1), decide={"contracts": [contract]})
    assert inside.expires_on == date(2028, 3, 1)


def test_a_labour_only_contract_leaves_parts_to_the_customer(make_unit, policy) -> None:
    contract = ServiceContract(
        "SC-2", "SN-1", ContractTier.BASIC, date(2028, 3, 2), date(2029, 3, 1), covers_parts=False
    )
    decision = _decide(make_unit, policy, date(2028, 4, 1), decide={"contracts": [contract]})
    repair = decision.remedy(RemedyKind.REPAIR)
    assert repair is not None
    assert repair.customer_pays is not None
    assert repair.customer_pays.total == Money(Decimal("180.00"))


# --- repeat failures --------------------------------------------------------------------------


def test_a_unit_that_earned_a_replacement_is_offered_one(make_unit, policy) -> None:
    repairs = [RepairEvent(date(2026, 6, d), "E4", f"WO-{d}") for d in (1, 10, 20)]
    decision = _decide(make_unit, policy, date(2026, 6, 25), decide={"repairs": repairs})
    assert _kinds(decision) == [RemedyKind.REPLACEMENT, RemedyKind.REPAIR]
    assert any("earned a free replacement with a unit of the same grade" in r for r in decision.reasons)


def test_after_two_repairs_the_agent_hears_that_a_third_earns_replacement(make_unit, policy) -> None:
    repairs = [RepairEvent(date(2026, 6, d), "E4", f"WO-{d}") for d in (1, 10)]
    decision = _decide(make_unit, policy, date(2026, 6, 25), decide={"repairs": repairs})
    assert not decision.offers(RemedyKind.REPLACEMENT)
    assert (
        "Fault E4 was repaired 2 times since 1 June 2026: repair number 3 of the same fault by 1 July 2026 "
        "earns a free replacement with a unit of the same grade." in decision.reasons
    )


# --- unregistered units -----------------------------------------------------------------------


def test_an_unknown_serial_is_unregistered_and_needs_proof_of_purchase(policy) -> None:
    decision = decide_entitlement(None, policy, date(2026, 5, 1), DEFECT, serial="SN-404")
    assert decision.coverage is Coverage.UNREGISTERED
    assert decision.requires == (PROOF_OF_PURCHASE,)
    assert _kinds(decision) == [RemedyKind.PAID_REPAIR]
    assert decision.reasons[0] == "No registered unit was found for serial SN-404."
    assert decision.provisional_remedies == ()


def test_a_stated_purchase_date_shows_what_proof_of_purchase_would_open(policy) -> None:
    decision = decide_entitlement(
        None, policy, date(2026, 5, 10), DEFECT, model_code="AC-3500", stated_purchase_on=date(2026, 5, 1)
    )
    assert decision.coverage is Coverage.UNREGISTERED
    assert decision.model_code == "AC-3500"
    assert [(r.kind, r.until) for r in decision.provisional_remedies] == [
        (RemedyKind.REFUND, date(2026, 5, 16)),
        (RemedyKind.EXCHANGE, date(2026, 5, 31)),
        (RemedyKind.REPAIR, date(2028, 5, 1)),
    ]
    assert any(r.startswith("If the purchase on 1 May 2026 is proven") for r in decision.reasons)


def test_reasons_are_whole_sentences(make_unit, policy) -> None:
    decision = _decide(make_unit, policy, SOLD + timedelta(days=20))
    assert decision.reasons
    for reason in decision.reasons:
        assert reason[0].isupper()
        assert reason.endswith(".")


# --- preventive maintenance -------------------------------------------------------------------


def test_a_quarterly_plan_visits_every_three_months_while_under_warranty(make_unit, policy) -> None:
    unit = make_unit(sold_on=SOLD, card_received_on=SOLD, installed_on=date(2026, 3, 15))
    quarterly = replace(policy, maintenance_plan=MaintenancePlan(every_months=3))
    visits = maintenance_visits(unit, quarterly)
    assert len(visits) == 8
    assert visits[0] == date(2026, 6, 15)
    assert visits[-1] == date(2028, 3, 15)


def test_a_plan_beyond_the_warranty_follows_the_service_contract(make_unit, policy) -> None:
    unit = make_unit(sold_on=SOLD, card_received_on=SOLD)
    contract = ServiceContract("SC-1", "SN-1", ContractTier.PREMIUM, date(2028, 3, 2), date(2029, 3, 1))
    other_unit = ServiceContract("SC-2", "SN-2", ContractTier.PREMIUM, date(2029, 3, 2), date(2030, 3, 1))
    plan = replace(policy, maintenance_plan=MaintenancePlan(every_months=6, while_under_warranty=False))
    assert maintenance_visits(unit, plan, [contract, other_unit])[-1] == date(2029, 3, 1)


def test_no_plan_means_no_visits(make_unit, policy) -> None:
    assert maintenance_visits(make_unit(), policy) == []
