"""Dealer scoping for routers: a dealer/partner caller sees and acts for its own dealer only."""

from __future__ import annotations

from kit.auth import Principal
from kit.domain import Forbidden, NotFound


def dealer_scope(principal: Principal) -> str | None:
    """The dealer a partner caller is confined to; None for staff, who see every dealer."""
    return principal.dealer_id if principal.is_partner else None


def ensure_visible(principal: Principal, dealer_id: str | None, what: str) -> None:
    """Another dealer's record does not exist as far as a partner caller can tell."""
    if not principal.may_see_dealer(dealer_id):
        raise NotFound(f"{what} not found")


def acting_dealer(principal: Principal, requested: str | None) -> str | None:
    """The dealer a write is for: a partner's own (naming another is refused), or the one staff name
    (if any)."""
    if principal.is_partner:
        if requested is not None and requested != principal.dealer_id:
            raise Forbidden("a dealer acts only for itself", code="other-dealer")
        return principal.dealer_id
    return requested
