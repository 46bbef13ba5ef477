"""A unit's warranty period and the cover around a day: warranty, then service contracts.

Dates follow :mod:`warranty.domain.dates` (day 0 is the start; until-dates are inclusive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from warranty.domain.dates import last_day_within_days, last_day_within_months
from warranty.domain.policy import StartBasis, StartEvent, WarrantyPolicy
from warranty.domain.units import RegisteredUnit, ServiceContract


@dataclass(frozen=True)
class WarrantyPeriod:
    """The manufacturer's warranty of one unit: its start and the last day of each remedy."""

    starts_on: date
    start_event: StartEvent
    refund_until: date
    exchange_until: date
    repair_until: date

    @classmethod
    def starting(cls, starts_on: date, start_event: StartEvent, policy: WarrantyPolicy) -> WarrantyPeriod:
        return cls(
            starts_on,
            start_event,
            last_day_within_days(starts_on, policy.return_days),
            last_day_within_days(starts_on, policy.exchange_days),
            last_day_within_months(starts_on, policy.repair_months),
        )


def warranty_period(
    unit: RegisteredUnit, policy: WarrantyPolicy, *, card_shown: bool = True
) -> WarrantyPeriod | None:
    """The unit's warranty period, or None when its start cannot be established.

    With the warranty card: acceptance, else installation, else sale date (or always the sale
    date under ``StartBasis.SALE``). Without it: the installation (completion) date; failing
    that, the sale date only if the dealer's registration card reached us, else nothing.
    """
    if not card_shown:
        if unit.installed_on is not None:
            return WarrantyPeriod.starting(unit.installed_on, StartEvent.INSTALLATION, policy)
        if unit.card_received_on is not None:
            return WarrantyPeriod.starting(unit.sold_on, StartEvent.SALE, policy)
        return None
    if policy.start_basis is StartBasis.INSTALLATION_ELSE_SALE:
        if unit.accepted_on is not None:
            return WarrantyPeriod.starting(unit.accepted_on, StartEvent.ACCEPTANCE, policy)
        if unit.installed_on is not None:
            return WarrantyPeriod.starting(unit.installed_on, StartEvent.INSTALLATION, policy)
    return WarrantyPeriod.starting(unit.sold_on, StartEvent.SALE, policy)


@dataclass(frozen=True)
class CoverageSpan:
    """The unbroken cover (warranty and contracts) around one day, and what it pays for that day."""

    until: date
    by_warranty: bool
    contracts: tuple[ServiceContract, ...]
    covers_parts: bool
    covers_labour: bool
    covers_travel: bool


def coverage_on(
    unit: RegisteredUnit,
    policy: WarrantyPolicy,
    on: date,
    contracts: Sequence[ServiceContract] = (),
    *,
    period: WarrantyPeriod | None = None,
) -> CoverageSpan | None:
    """The cover of ``unit`` in force on ``on``, extended through back-to-back contracts, or None.

    The warranty covers from the sale even when it counts from a later installation, so a unit
    that fails before it is installed is treated as on day 0. ``period`` defaults to the unit's
    warranty period with the card shown; contracts of other units are ignored.
    """
    if on < unit.sold_on:
        return None
    period = period or warranty_period(unit, policy)
    spans: list[tuple[date, date, ServiceContract | None]] = []
    if period is not None:
        spans.append((min(unit.sold_on, period.starts_on), period.repair_until, None))
    spans.extend((c.starts_on, c.ends_on, c) for c in contracts if c.serial == unit.serial)
    active = [s for s in spans if s[0] <= on <= s[1]]
    if not active:
        return None
    until = max(s[1] for s in active)
    used = list(active)
    extended = True
    while extended:
        extended = False
        for span in spans:
            if span not in used and span[0] <= until + timedelta(days=1) and span[1] > until:
                until = span[1]
                used.append(span)
                extended = True
    by_warranty = any(s[2] is None for s in active)
    active_contracts = [s[2] for s in active if s[2] is not None]
    return CoverageSpan(
        until=until,
        by_warranty=by_warranty,
        contracts=tuple(s[2] for s in used if s[2] is not None),
        covers_parts=(by_warranty and policy.covers_parts) or any(c.covers_parts for c in active_contracts),
        covers_labour=(by_warranty and policy.covers_labour)
        or any(c.covers_labour for c in active_contracts),
        covers_travel=(by_warranty and policy.covers_travel)
        or any(c.covers_travel for c in active_contracts),
    )


def maintenance_visits(
    unit: RegisteredUnit, policy: WarrantyPolicy, contracts: Sequence[ServiceContract] = ()
) -> list[date]:
    """The preventive maintenance visits the policy's plan gives the unit (none without a plan).

    Visits are counted from the warranty start; a plan "while under warranty" stops at the end
    of the warranty, any other plan at the end of the unbroken cover including contracts.
    """
    plan = policy.maintenance_plan
    period = warranty_period(unit, policy)
    if plan is None or period is None:
        return []
    until = period.repair_until
    if not plan.while_under_warranty:
        span = coverage_on(unit, policy, period.repair_until, contracts, period=period)
        until = span.until if span is not None else until
    return plan.visit_dates(period.starts_on, until)
