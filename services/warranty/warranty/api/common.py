"""What every warranty router shares: role sets, dealer scoping, money DTOs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, Field

from contracts.common import Actor
from kit.auth import Principal, Role, require
from kit.dealers import acting_dealer as kit_acting_dealer
from kit.domain import Forbidden, Money
from warranty import events

AnyStaff = Annotated[
    Principal,
    Depends(
        require(
            Role.AGENT,
            Role.SUPERVISOR,
            Role.DISPATCHER,
            Role.TECHNICIAN,
            Role.WAREHOUSE,
            Role.WARRANTY_REVIEWER,
            Role.FINANCE,
            Role.DEALER,
            Role.PARTNER,
        )
    ),
]
CatalogueAdmin = Annotated[Principal, Depends(require(Role.WARRANTY_REVIEWER))]
UnitWriter = Annotated[Principal, Depends(require(Role.AGENT, Role.SUPERVISOR, Role.DEALER, Role.PARTNER))]
ClaimWriter = Annotated[Principal, Depends(require(Role.AGENT, Role.DEALER, Role.PARTNER))]
Reviewer = Annotated[Principal, Depends(require(Role.WARRANTY_REVIEWER))]
Finance = Annotated[Principal, Depends(require(Role.FINANCE))]
Analyst = Annotated[Principal, Depends(require(Role.WARRANTY_REVIEWER, Role.FINANCE, Role.SUPERVISOR))]


class MoneyDto(BaseModel):
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"

    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @classmethod
    def of(cls, money: Money) -> MoneyDto:
        return cls(amount=money.amount, currency=money.currency)


def acting_dealer(principal: Principal, requested: str | None) -> str:
    """The dealer a write is for: a partner's own, or the one staff name (staff must name one)."""
    dealer_id = kit_acting_dealer(principal, requested)
    if dealer_id is None:
        raise Forbidden("name the dealer this is for", code="dealer-required")
    return dealer_id


def actor(principal: Principal) -> Actor:
    return events.actor_of(principal.subject, partner=principal.is_partner)
