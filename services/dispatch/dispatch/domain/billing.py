"""Who pays for a work order, from the warranty service's entitlement decision."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from dispatch.domain.values import ensure_utc
from kit.domain import DomainError, Money


class BillingBasis(StrEnum):
    WARRANTY = "warranty"
    CONTRACT = "contract"
    PAID = "paid"


@dataclass(frozen=True)
class Billing:
    """Warranty and contract work is free to the customer; paid work carries an estimate the customer
    accepts before the work is done."""

    basis: BillingBasis
    entitlement_id: str | None = None
    contract_id: str | None = None
    premium_contract: bool = False
    covered_until: date | None = None
    estimate: Money | None = None
    estimate_accepted_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.basis is BillingBasis.PAID and self.estimate is None:
            raise DomainError("paid work needs a price estimate for the customer", code="estimate-required")
        if self.basis is BillingBasis.CONTRACT and not self.contract_id:
            raise DomainError("contract work names its service contract", code="contract-required")
        if self.premium_contract and self.basis is not BillingBasis.CONTRACT:
            raise DomainError("only a service contract can be premium", code="premium-without-contract")

    @classmethod
    def warranty(cls, entitlement_id: str, covered_until: date | None = None) -> Billing:
        return cls(BillingBasis.WARRANTY, entitlement_id=entitlement_id, covered_until=covered_until)

    @classmethod
    def contract(
        cls, contract_id: str, *, premium: bool = False, entitlement_id: str | None = None
    ) -> Billing:
        return cls(
            BillingBasis.CONTRACT,
            entitlement_id=entitlement_id,
            contract_id=contract_id,
            premium_contract=premium,
        )

    @classmethod
    def paid(cls, estimate: Money, entitlement_id: str | None = None) -> Billing:
        return cls(BillingBasis.PAID, entitlement_id=entitlement_id, estimate=estimate)

    @property
    def chargeable(self) -> bool:
        return self.basis is BillingBasis.PAID

    @property
    def ready_for_work(self) -> bool:
        """Free work may always start; paid work once the customer accepted the estimate."""
        return not self.chargeable or self.estimate_accepted_at is not None

    def accepted(self, at: datetime) -> Billing:
        if not self.chargeable:
            raise DomainError("only paid work has an estimate to accept", code="no-estimate")
        return replace(self, estimate_accepted_at=ensure_utc(at))
