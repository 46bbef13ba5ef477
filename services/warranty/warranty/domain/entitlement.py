"""What the warranty covers for a unit on a day, which remedies are open until when, and why.

Dates follow :mod:`warranty.domain.dates`: the warranty start is day 0, "within 15 days" is open
up to and including day 15, 24 months end on the same day of the month 24 months later (clamped
to a shorter month's end), and every until-date is the last day the remedy is open.

Order of the decision: no registration (or no provable start) gives ``unregistered``; a day
outside the warranty and every contract gives ``not_covered``; an excluded cause inside it gives
``excluded``; everything else is ``covered``. Whatever the outcome, a paid repair stays possible,
priced from the policy so the customer hears the price before any work starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from kit.domain import DomainError
from warranty.domain.coverage import CoverageSpan, WarrantyPeriod, coverage_on, warranty_period
from warranty.domain.dates import day_number, spoken_date
from warranty.domain.policy import (
    SPOKEN_EXCLUSION,
    FaultCause,
    PartCost,
    PriceEstimate,
    StandardRepair,
    StartEvent,
    WarrantyPolicy,
)
from warranty.domain.repeats import RepairEvent, first_replacement_eligibility, repairs_in_window
from warranty.domain.units import RegisteredUnit, ServiceContract
from warranty.domain.wording import spoken_list, spoken_number

PROOF_OF_PURCHASE = "proof of purchase showing the sale date (a receipt or an invoice)"
INSTALLATION_RECORD = "the installation (completion) record of the unit"


class Coverage(StrEnum):
    COVERED = "covered"
    NOT_COVERED = "not_covered"
    UNREGISTERED = "unregistered"
    EXCLUDED = "excluded"


class RemedyKind(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    #: a like-for-like replacement earned by repeated failures of the same fault
    REPLACEMENT = "replacement"
    #: a repair under warranty or contract; free unless the cover leaves a share to the customer
    REPAIR = "repair"
    PAID_REPAIR = "paid_repair"


@dataclass(frozen=True)
class ReportedFault:
    """The fault a customer reports, with what repairing it typically takes (for price estimates)."""

    fault_code: str | None = None
    description: str = ""
    cause: FaultCause = FaultCause.UNKNOWN
    typical_parts: tuple[PartCost, ...] = ()
    typical_labour_minutes: int = 0
    travel_km: Decimal = Decimal(0)

    @classmethod
    def typical_of(
        cls,
        standard: StandardRepair,
        *,
        description: str = "",
        cause: FaultCause = FaultCause.UNKNOWN,
        travel_km: Decimal = Decimal(0),
    ) -> ReportedFault:
        """A fault priced from the standard repair of its fault code."""
        return cls(
            standard.fault_code,
            description,
            cause,
            standard.typical_parts,
            standard.standard_minutes,
            travel_km,
        )


@dataclass(frozen=True)
class Remedy:
    """One remedy open to the customer. ``until`` is inclusive; ``customer_pays`` is None when free."""

    kind: RemedyKind
    until: date | None = None
    customer_pays: PriceEstimate | None = None
    #: a condition the remedy depends on, said out loud (empty when unconditional)
    condition: str = ""

    @property
    def is_free(self) -> bool:
        return self.customer_pays is None


@dataclass(frozen=True)
class EntitlementBasis:
    """What a decision rested on: the start date, the policy version, the contracts."""

    policy_id: str
    policy_version: int
    start_event: StartEvent | None = None
    starts_on: date | None = None
    #: day of the warranty the decision is for (0 on the start date); None without a start
    day: int | None = None
    warranty_ends_on: date | None = None
    contract_ids: tuple[str, ...] = ()
    card_shown: bool = True


@dataclass(frozen=True)
class Entitlement:
    """The decision an agent reads to the customer: coverage, open remedies, basis, reasons."""

    serial: str | None
    model_code: str | None
    decided_on: date
    fault_code: str | None
    coverage: Coverage
    remedies: tuple[Remedy, ...]
    basis: EntitlementBasis
    reasons: tuple[str, ...]
    #: the last day of free cover (warranty and contracts), when there is cover
    expires_on: date | None = None
    #: evidence that would establish coverage (for unregistered units)
    requires: tuple[str, ...] = ()
    #: the remedies that would open once ``requires`` is shown, from the date the customer states
    provisional_remedies: tuple[Remedy, ...] = ()

    def remedy(self, kind: RemedyKind) -> Remedy | None:
        return next((r for r in self.remedies if r.kind is kind), None)

    def offers(self, kind: RemedyKind) -> bool:
        return self.remedy(kind) is not None


def decide_entitlement(
    unit: RegisteredUnit | None,
    policy: WarrantyPolicy,
    at: date,
    fault: ReportedFault,
    contracts: Sequence[ServiceContract] = (),
    *,
    serial: str | None = None,
    model_code: str | None = None,
    stated_purchase_on: date | None = None,
    card_shown: bool = True,
    repairs: Sequence[RepairEvent] = (),
) -> Entitlement:
    """Decide what the warranty gives for ``fault`` on day ``at``.

    ``unit`` is None for an unknown serial (give ``serial``) or a model + purchase date without
    registration (give ``model_code`` and ``stated_purchase_on``): the outcome is ``unregistered``
    with what would establish coverage. ``policy`` is the version in force at the sale (see
    ``policy_in_force``). ``contracts`` are the unit's service contracts; ``repairs`` its repair
    history, which can open a replacement under the repeat-failure rule.
    """
    estimate = policy.pricing.estimate(fault.typical_parts, fault.typical_labour_minutes, fault.travel_km)
    paid = Remedy(RemedyKind.PAID_REPAIR, customer_pays=estimate, condition=_AGREE_PRICE)
    if unit is None:
        return _unregistered(serial, model_code, policy, at, fault, estimate, stated_purchase_on)
    if at < unit.sold_on:
        raise DomainError(
            f"unit {unit.serial} was sold on {unit.sold_on.isoformat()}, after {at.isoformat()}",
            code="decision-before-sale",
        )
    period = warranty_period(unit, policy, card_shown=card_shown)
    if period is None:
        return Entitlement(
            serial=unit.serial,
            model_code=unit.model_code,
            decided_on=at,
            fault_code=fault.fault_code,
            coverage=Coverage.UNREGISTERED,
            remedies=(paid,),
            basis=EntitlementBasis(policy.policy_id, policy.version, card_shown=False),
            reasons=(
                f"The customer cannot show the warranty card, and neither an installation date nor the "
                f"dealer's registration card is on record for serial {unit.serial}, so the warranty "
                f"start cannot be established.",
                f"The {PROOF_OF_PURCHASE} or {INSTALLATION_RECORD} would establish coverage.",
                _paid_sentence(policy, estimate),
            ),
            requires=(PROOF_OF_PURCHASE, INSTALLATION_RECORD),
        )
    span = coverage_on(unit, policy, at, contracts, period=period)
    day = max(0, day_number(period.starts_on, at))
    basis = EntitlementBasis(
        policy_id=policy.policy_id,
        policy_version=policy.version,
        start_event=period.start_event,
        starts_on=period.starts_on,
        day=day,
        warranty_ends_on=period.repair_until,
        contract_ids=tuple(c.contract_id for c in span.contracts) if span else (),
        card_shown=card_shown,
    )
    reasons = [_start_sentence(unit, policy, period, card_shown), *_day_sentence(period, at, day)]
    excluded = policy.excludes(fault.cause)
    remedies: tuple[Remedy, ...]
    if span is None:
        reasons.append(f"Free repair under the warranty ended on {spoken_date(period.repair_until)}.")
        if excluded is not None:
            reasons.append(
                f"The reported cause, {fault.cause.spoken}, is also excluded as {SPOKEN_EXCLUSION[excluded]}."
            )
        reasons.append(_paid_sentence(policy, estimate))
        coverage, remedies = Coverage.NOT_COVERED, (paid,)
    elif excluded is not None:
        reasons.append(
            f"The reported cause, {fault.cause.spoken}, is {SPOKEN_EXCLUSION[excluded]}, which the warranty "
            f"does not cover."
        )
        reasons.append(_paid_sentence(policy, estimate))
        coverage, remedies = Coverage.EXCLUDED, (paid,)
    else:
        coverage = Coverage.COVERED
        remedies = _covered_remedies(policy, period, span, at, fault, estimate, repairs, reasons)
    return Entitlement(
        serial=unit.serial,
        model_code=unit.model_code,
        decided_on=at,
        fault_code=fault.fault_code,
        coverage=coverage,
        remedies=remedies,
        basis=basis,
        reasons=tuple(reasons),
        expires_on=span.until if span else None,
    )


_AGREE_PRICE = "the customer is told the price and agrees before work starts"


def _covered_remedies(
    policy: WarrantyPolicy,
    period: WarrantyPeriod,
    span: CoverageSpan,
    at: date,
    fault: ReportedFault,
    estimate: PriceEstimate,
    repairs: Sequence[RepairEvent],
    reasons: list[str],
) -> tuple[Remedy, ...]:
    remedies: list[Remedy] = []
    if span.by_warranty:
        remedies.extend(_refund_and_exchange(policy, period, at, fault.cause, reasons))
    else:
        contract = span.contracts[0]
        reasons.append(
            f"The manufacturer's warranty ended on {spoken_date(period.repair_until)}; service contract "
            f"{contract.contract_id} ({contract.tier.value}) covers the repair."
        )
    remedies.extend(_replacement(policy, span, at, fault, repairs, reasons))
    customer_share = estimate.only(
        parts=not span.covers_parts, labour=not span.covers_labour, travel=not span.covers_travel
    )
    pays = None if customer_share.total.amount == 0 else customer_share
    remedies.append(Remedy(RemedyKind.REPAIR, until=span.until, customer_pays=pays))
    extending = [c for c in span.contracts if c.ends_on > period.repair_until] if span.by_warranty else []
    reasons.append(_repair_sentence(span, pays, period.repair_until if extending else span.until))
    if extending:
        last = extending[-1]
        reasons.append(
            f"Service contract {last.contract_id} ({last.tier.value}) extends the repair cover until "
            f"{spoken_date(span.until)}, covering {spoken_list(_covered_items(last))}."
        )
    return tuple(remedies)


def _refund_and_exchange(
    policy: WarrantyPolicy, period: WarrantyPeriod, at: date, cause: FaultCause, reasons: list[str]
) -> list[Remedy]:
    windows = (
        (RemedyKind.REFUND, "refund", policy.return_days, period.refund_until),
        (RemedyKind.EXCHANGE, "exchange", policy.exchange_days, period.exchange_until),
    )
    open_windows = [(kind, name, days, until) for kind, name, days, until in windows if at <= until]
    for _, name, days, until in windows:
        if at > until:
            reasons.append(f"The {days}-day {name} window closed on {spoken_date(until)}.")
    if not open_windows:
        return []
    if cause is not FaultCause.UNKNOWN and not cause.is_quality_fault:
        names = spoken_list([name for _, name, _, _ in open_windows])
        reasons.append(
            f"The cause is {cause.spoken}, not a quality fault of the product, so {names} do not apply."
        )
        return []
    condition = "" if cause.is_quality_fault else "once the technician confirms a quality fault"
    remedies = []
    for kind, name, days, until in open_windows:
        remedies.append(Remedy(kind, until=until, condition=condition))
        reasons.append(
            f"{name.capitalize()} for a quality fault is open until {spoken_date(until)} "
            f"({days} days from the start){', ' + condition if condition else ''}."
        )
    return remedies


def _replacement(
    policy: WarrantyPolicy,
    span: CoverageSpan,
    at: date,
    fault: ReportedFault,
    repairs: Sequence[RepairEvent],
    reasons: list[str],
) -> list[Remedy]:
    rule = policy.repeat_failure
    earned = first_replacement_eligibility(
        [r for r in repairs if r.repaired_on <= at], rule, fault_code=fault.fault_code
    )
    if earned is not None:
        reasons.append(
            f"Fault {earned.fault_code} was repaired {earned.repairs_counted} times between "
            f"{spoken_date(earned.first_repair_on)} and {spoken_date(earned.earned_on)}, so the unit has "
            f"earned a free replacement with a unit of the same grade."
        )
        return [Remedy(RemedyKind.REPLACEMENT, until=span.until)]
    if fault.fault_code is not None:
        recent = repairs_in_window(repairs, fault_code=fault.fault_code, ending_on=at, rule=rule)
        if len(recent) == rule.repairs - 1:
            deadline = recent[0].repaired_on + timedelta(days=rule.within_days)
            reasons.append(
                f"Fault {fault.fault_code} was repaired {len(recent)} times since "
                f"{spoken_date(recent[0].repaired_on)}: repair number {rule.repairs} of the same fault by "
                f"{spoken_date(deadline)} earns a free replacement with a unit of the same grade."
            )
    return []


def _unregistered(
    serial: str | None,
    model_code: str | None,
    policy: WarrantyPolicy,
    at: date,
    fault: ReportedFault,
    estimate: PriceEstimate,
    stated_purchase_on: date | None,
) -> Entitlement:
    reasons = [
        f"No registered unit was found for serial {serial}."
        if serial
        else "The unit is not registered with the warranty.",
        f"A {PROOF_OF_PURCHASE} would establish coverage.",
    ]
    provisional: tuple[Remedy, ...] = ()
    if stated_purchase_on is not None:
        if stated_purchase_on > at:
            raise DomainError(
                "a stated purchase date cannot be after the decision date", code="purchase-after-decision"
            )
        period = WarrantyPeriod.starting(stated_purchase_on, StartEvent.STATED_PURCHASE, policy)
        provisional = _provisional(policy, period, at)
        if provisional:
            opened = "; ".join(
                f"{r.kind.value.replace('_', ' ')} until {spoken_date(r.until)}"
                for r in provisional
                if r.until
            )
            reasons.append(
                f"If the purchase on {spoken_date(stated_purchase_on)} is proven, "
                f"the customer gets: {opened}."
            )
        else:
            reasons.append(
                f"Even with the purchase on {spoken_date(stated_purchase_on)} proven, free repair would have "
                f"ended on {spoken_date(period.repair_until)}."
            )
    reasons.append(_paid_sentence(policy, estimate))
    return Entitlement(
        serial=serial,
        model_code=model_code,
        decided_on=at,
        fault_code=fault.fault_code,
        coverage=Coverage.UNREGISTERED,
        remedies=(Remedy(RemedyKind.PAID_REPAIR, customer_pays=estimate, condition=_AGREE_PRICE),),
        basis=EntitlementBasis(
            policy.policy_id,
            policy.version,
            start_event=StartEvent.STATED_PURCHASE if stated_purchase_on else None,
            starts_on=stated_purchase_on,
            day=day_number(stated_purchase_on, at) if stated_purchase_on else None,
        ),
        reasons=tuple(reasons),
        requires=(PROOF_OF_PURCHASE,),
        provisional_remedies=provisional,
    )


def _provisional(policy: WarrantyPolicy, period: WarrantyPeriod, at: date) -> tuple[Remedy, ...]:
    proven = "once the proof of purchase is shown"
    candidates = (
        (RemedyKind.REFUND, period.refund_until),
        (RemedyKind.EXCHANGE, period.exchange_until),
        (RemedyKind.REPAIR, period.repair_until),
    )
    return tuple(Remedy(kind, until=until, condition=proven) for kind, until in candidates if at <= until)


def _start_sentence(
    unit: RegisteredUnit, policy: WarrantyPolicy, period: WarrantyPeriod, card_shown: bool
) -> str:
    event = {
        StartEvent.ACCEPTANCE: "the date the installation was accepted",
        StartEvent.INSTALLATION: "the installation date",
        StartEvent.SALE: "the sale date",
        StartEvent.STATED_PURCHASE: "the stated purchase date",
    }[period.start_event]
    prefix = "The" if card_shown else "The customer cannot show the warranty card, so the"
    return (
        f"{prefix} warranty counts from {event}, {spoken_date(period.starts_on)}, under policy "
        f"{policy.label}, in force when the unit was sold on {spoken_date(unit.sold_on)}."
    )


def _day_sentence(period: WarrantyPeriod, at: date, day: int) -> list[str]:
    if at < period.starts_on:
        start = spoken_date(period.starts_on)
        return [f"The unit failed before the warranty start on {start}, so it counts as day 0."]
    if at > period.repair_until:
        return []
    return [f"On {spoken_date(at)} the warranty is on day {day}."]


def _covered_items(cover: CoverageSpan | ServiceContract) -> list[str]:
    items = (("parts", cover.covers_parts), ("labour", cover.covers_labour), ("travel", cover.covers_travel))
    return [name for name, covered in items if covered]


def _repair_sentence(span: CoverageSpan, pays: PriceEstimate | None, until: date) -> str:
    if pays is None:
        return f"Repair is free (parts, labour and travel) until {spoken_date(until)}."
    charged = [name for name in ("parts", "labour", "travel") if name not in _covered_items(span)]
    return (
        f"Repair is covered until {spoken_date(until)}, but the cover leaves "
        f"{spoken_list(charged)} to the customer: an estimated {pays.total}."
    )


def _paid_sentence(policy: WarrantyPolicy, estimate: PriceEstimate) -> str:
    pricing = policy.pricing
    parts = (
        "at cost"
        if pricing.parts_markup == 0
        else f"at cost plus {spoken_number(pricing.parts_markup * 100)}%"
    )
    return (
        f"A repair is charged: parts {parts}, labour at {pricing.labour_rate_per_hour} per hour and travel, "
        f"an estimated {estimate.total}; the customer is told the price and agrees before work starts."
    )
