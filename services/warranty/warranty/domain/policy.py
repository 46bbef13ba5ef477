"""Product catalogue and warranty policies: the configuration every warranty decision reads.

A policy belongs to a product line, or to one model of it when that model needs its own terms.
Policies are versioned by ``effective_from``: a unit keeps the version in force on its sale date
(:func:`policy_in_force`), so a later change of terms never takes anything away from units
already sold. Every number below is a dataclass field with the business default, so a line or a
model can be configured differently without code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kit.domain import DomainError, Money, NotFound
from warranty.domain.dates import add_months


class StartBasis(StrEnum):
    """Which recorded date starts a unit's warranty."""

    #: acceptance of the installation when recorded, else the installation date, else the sale date
    INSTALLATION_ELSE_SALE = "installation_else_sale"
    #: always the sale date (products sold without installation)
    SALE = "sale"


class StartEvent(StrEnum):
    """The date a decision actually counted from."""

    ACCEPTANCE = "acceptance"
    INSTALLATION = "installation"
    SALE = "sale"
    #: a purchase date the customer states but has not yet proven (unregistered units)
    STATED_PURCHASE = "stated_purchase"


class Exclusion(StrEnum):
    """Damage the warranty never covers."""

    MISUSE = "misuse"
    UNAUTHORISED_REPAIR_OR_MODIFICATION = "unauthorised_repair_or_modification"
    FORCE_MAJEURE = "force_majeure"


class FaultCause(StrEnum):
    """The cause of a fault as reported by the customer or found by the technician."""

    UNKNOWN = "unknown"
    PRODUCT_DEFECT = "product_defect"
    SUPPLIER_PART = "supplier_part"
    INSTALLATION = "installation"
    ENVIRONMENT = "environment"
    MISUSE = "misuse"
    UNAUTHORISED_REPAIR = "unauthorised_repair"
    MODIFICATION = "modification"
    FIRE = "fire"
    LIGHTNING = "lightning"
    FLOOD = "flood"

    @property
    def exclusion(self) -> Exclusion | None:
        """The exclusion this cause falls under, if any."""
        return _EXCLUSION_BY_CAUSE.get(self)

    @property
    def is_quality_fault(self) -> bool:
        """A fault of the product itself: the only kind that opens refund and exchange."""
        return self in (FaultCause.PRODUCT_DEFECT, FaultCause.SUPPLIER_PART)

    @property
    def spoken(self) -> str:
        return _SPOKEN_CAUSE[self]


_EXCLUSION_BY_CAUSE: Mapping[FaultCause, Exclusion] = {
    FaultCause.MISUSE: Exclusion.MISUSE,
    FaultCause.UNAUTHORISED_REPAIR: Exclusion.UNAUTHORISED_REPAIR_OR_MODIFICATION,
    FaultCause.MODIFICATION: Exclusion.UNAUTHORISED_REPAIR_OR_MODIFICATION,
    FaultCause.FIRE: Exclusion.FORCE_MAJEURE,
    FaultCause.LIGHTNING: Exclusion.FORCE_MAJEURE,
    FaultCause.FLOOD: Exclusion.FORCE_MAJEURE,
}

_SPOKEN_CAUSE: Mapping[FaultCause, str] = {
    FaultCause.UNKNOWN: "not yet known",
    FaultCause.PRODUCT_DEFECT: "a product defect",
    FaultCause.SUPPLIER_PART: "a defective supplier part",
    FaultCause.INSTALLATION: "an installation fault",
    FaultCause.ENVIRONMENT: "the site environment",
    FaultCause.MISUSE: "misuse",
    FaultCause.UNAUTHORISED_REPAIR: "an unauthorised repair",
    FaultCause.MODIFICATION: "an unauthorised modification",
    FaultCause.FIRE: "fire",
    FaultCause.LIGHTNING: "lightning",
    FaultCause.FLOOD: "flood",
}

SPOKEN_EXCLUSION: Mapping[Exclusion, str] = {
    Exclusion.MISUSE: "damage by misuse",
    Exclusion.UNAUTHORISED_REPAIR_OR_MODIFICATION: "unauthorised repair or modification",
    Exclusion.FORCE_MAJEURE: "force majeure (fire, lightning, flood)",
}


@dataclass(frozen=True)
class PartCost:
    """A part at its cost price, as used in estimates and in a fault's typical repair."""

    part_number: str
    unit_cost: Money
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise DomainError("a part quantity is at least 1", code="bad-quantity")

    @property
    def total(self) -> Money:
        return self.unit_cost.times(self.quantity)


@dataclass(frozen=True)
class StandardRepair:
    """What repairing one fault code normally takes: standard labour minutes and typical parts."""

    fault_code: str
    standard_minutes: int
    typical_parts: tuple[PartCost, ...] = ()

    def __post_init__(self) -> None:
        if self.standard_minutes < 0:
            raise DomainError("standard minutes cannot be negative", code="bad-standard-time")


@dataclass(frozen=True)
class ProductLine:
    """A family of models sharing warranty terms (e.g. split air conditioners)."""

    code: str
    name: str
    standard_repairs: Mapping[str, StandardRepair] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductModel:
    """One model. ``grade`` groups models that are like-for-like replacements of each other."""

    code: str
    name: str
    line_code: str
    grade: str
    #: part numbers that belong in this model; a claimed part outside it is implausible
    bill_of_materials: frozenset[str] = frozenset()
    #: standard repairs specific to this model; they override the line's
    standard_repairs: Mapping[str, StandardRepair] = field(default_factory=dict)

    def standard_repair(self, fault_code: str, line: ProductLine | None = None) -> StandardRepair | None:
        """The model's standard repair for ``fault_code``, else the line's, else None."""
        if fault_code in self.standard_repairs:
            return self.standard_repairs[fault_code]
        if line is not None and line.code == self.line_code:
            return line.standard_repairs.get(fault_code)
        return None

    def is_like_for_like(self, other: ProductModel) -> bool:
        """Whether ``other`` may replace this model: same line and same grade."""
        return other.line_code == self.line_code and other.grade == self.grade


def like_for_like_replacements(model: ProductModel, catalogue: Iterable[ProductModel]) -> list[ProductModel]:
    """Models of the same line and grade as ``model`` (itself included), by code."""
    return sorted((m for m in catalogue if model.is_like_for_like(m)), key=lambda m: m.code)


@dataclass(frozen=True)
class PriceEstimate:
    """What a repair will cost the customer, before the final quote is agreed."""

    parts: Money
    labour: Money
    travel: Money
    labour_minutes: int = 0

    @property
    def total(self) -> Money:
        return self.parts + self.labour + self.travel

    @property
    def currency(self) -> str:
        return self.parts.currency

    def only(self, *, parts: bool, labour: bool, travel: bool) -> PriceEstimate:
        """This estimate keeping only the chosen components (the others become zero)."""
        zero = Money.zero(self.currency)
        return PriceEstimate(
            parts=self.parts if parts else zero,
            labour=self.labour if labour else zero,
            travel=self.travel if travel else zero,
            labour_minutes=self.labour_minutes if labour else 0,
        )


def _eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@dataclass(frozen=True)
class OutOfWarrantyPricing:
    """How paid repairs are priced: parts at cost (plus an optional mark-up), labour, travel."""

    currency: str = "EUR"
    labour_rate_per_hour: Money = field(default_factory=lambda: _eur("45.00"))
    #: a fraction added to the cost of parts; 0 means "parts at cost"
    parts_markup: Decimal = Decimal(0)
    travel_flat: Money = field(default_factory=lambda: _eur("25.00"))
    travel_per_km: Money = field(default_factory=lambda: _eur("0.00"))

    def __post_init__(self) -> None:
        for amount in (self.labour_rate_per_hour, self.travel_flat, self.travel_per_km):
            if amount.currency != self.currency:
                raise DomainError(
                    f"pricing in {self.currency} cannot hold an amount in {amount.currency}",
                    code="currency-mismatch",
                )
        if self.parts_markup < 0:
            raise DomainError("a parts mark-up cannot be negative", code="bad-markup")

    def estimate(
        self, parts: Sequence[PartCost], labour_minutes: int, travel_km: Decimal = Decimal(0)
    ) -> PriceEstimate:
        """Parts at cost x (1 + mark-up) + labour rate x hours + travel (flat + per km)."""
        if labour_minutes < 0 or travel_km < 0:
            raise DomainError("labour minutes and travel distance cannot be negative", code="bad-estimate")
        parts_cost = Money.zero(self.currency)
        for part in parts:
            parts_cost = parts_cost + part.total
        return PriceEstimate(
            parts=parts_cost.times(1 + self.parts_markup),
            labour=self.labour_rate_per_hour.times(Decimal(labour_minutes) / 60),
            travel=self.travel_flat + self.travel_per_km.times(travel_km),
            labour_minutes=labour_minutes,
        )


@dataclass(frozen=True)
class MaintenancePlan:
    """Preventive maintenance visits, e.g. every 3 months while the unit is under warranty."""

    every_months: int = 3
    while_under_warranty: bool = True

    def __post_init__(self) -> None:
        if self.every_months < 1:
            raise DomainError("a maintenance interval is at least one month", code="bad-interval")

    def visit_dates(self, starts_on: date, until: date) -> list[date]:
        """Visit dates after ``starts_on`` up to ``until`` inclusive, counted from the start so
        month-end dates do not drift (31 Jan, 30 Apr, 31 Jul ...)."""
        visits: list[date] = []
        number = 1
        while (visit := add_months(starts_on, number * self.every_months)) <= until:
            visits.append(visit)
            number += 1
        return visits


@dataclass(frozen=True)
class RepeatFailureRule:
    """The Nth repair of the same fault within a number of days earns a like-for-like replacement."""

    repairs: int = 3
    within_days: int = 30

    def __post_init__(self) -> None:
        if self.repairs < 2 or self.within_days < 0:
            raise DomainError("a repeat-failure rule counts at least 2 repairs", code="bad-repeat-rule")


@dataclass(frozen=True)
class WarrantyPolicy:
    """One version of the warranty terms of a product line (or of one model when ``model_code``)."""

    policy_id: str
    version: int
    effective_from: date
    line_code: str
    model_code: str | None = None
    return_days: int = 15
    exchange_days: int = 30
    repair_months: int = 24
    start_basis: StartBasis = StartBasis.INSTALLATION_ELSE_SALE
    covers_parts: bool = True
    covers_labour: bool = True
    covers_travel: bool = True
    exclusions: frozenset[Exclusion] = frozenset(Exclusion)
    pricing: OutOfWarrantyPricing = field(default_factory=OutOfWarrantyPricing)
    maintenance_plan: MaintenancePlan | None = None
    repeat_failure: RepeatFailureRule = field(default_factory=RepeatFailureRule)
    #: a dealer returns the registration card within this many days of the sale
    registration_days: int = 20

    def __post_init__(self) -> None:
        if self.version < 1:
            raise DomainError("a policy version starts at 1", code="bad-policy")
        if min(self.return_days, self.exchange_days, self.repair_months, self.registration_days) < 0:
            raise DomainError("policy periods cannot be negative", code="bad-policy")

    @property
    def label(self) -> str:
        return f"{self.policy_id} version {self.version}"

    def applies_to(self, model: ProductModel) -> bool:
        return model.line_code == self.line_code and self.model_code in (None, model.code)

    def excludes(self, cause: FaultCause) -> Exclusion | None:
        """The exclusion of this policy that ``cause`` falls under, if any."""
        exclusion = cause.exclusion
        return exclusion if exclusion in self.exclusions else None


def policy_in_force(
    policies: Iterable[WarrantyPolicy], sold_on: date, *, model: ProductModel | None = None
) -> WarrantyPolicy:
    """The policy version a unit sold on ``sold_on`` keeps for its whole life.

    Of the versions effective on or before the sale date, the latest wins (a higher version
    breaks a tie). With ``model`` given, only policies for its line apply, and a version written
    for the model itself overrides the line's versions.
    """
    candidates = [
        p for p in policies if p.effective_from <= sold_on and (model is None or p.applies_to(model))
    ]
    model_specific = [p for p in candidates if p.model_code is not None]
    if model is not None and model_specific:
        candidates = model_specific
    if not candidates:
        subject = f"model {model.code}" if model is not None else "this product"
        raise NotFound(f"no warranty policy was in force for {subject} on {sold_on.isoformat()}")
    return max(candidates, key=lambda p: (p.effective_from, p.version))


@dataclass(frozen=True)
class Catalogue:
    """Every product line, model and policy version, as of one catalogue revision."""

    revision: str
    lines: Mapping[str, ProductLine]
    models: Mapping[str, ProductModel]
    #: line code -> every policy version written for the line or one of its models
    policies: Mapping[str, Sequence[WarrantyPolicy]]

    def model(self, code: str | None) -> ProductModel | None:
        return self.models.get(code) if code is not None else None

    def line_of(self, model: ProductModel) -> ProductLine | None:
        return self.lines.get(model.line_code)

    def policy_for(self, model: ProductModel, sold_on: date) -> WarrantyPolicy:
        """The policy version in force for ``model`` when a unit was sold on ``sold_on``."""
        return policy_in_force(self.policies.get(model.line_code, ()), sold_on, model=model)
