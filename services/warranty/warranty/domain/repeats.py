"""Repeat failures: the same unit repaired for the same fault again and again earns a replacement.

Default rule (``RepeatFailureRule``): the 3rd repair of the same fault code within 30 days of the
first of them earns a free replacement of the same grade. Days follow :mod:`warranty.domain.dates`:
the first repair is day 0, so a third repair on day 30 counts and one on day 31 does not.

A replacement gives the customer a new unit with its own serial number, so the old serial's
history needs no "already replaced" flag here; the store emits the eligibility once per unit and
fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from warranty.domain.policy import RepeatFailureRule


@dataclass(frozen=True)
class RepairEvent:
    """One completed repair of a unit (from a completed work order or an approved claim)."""

    repaired_on: date
    fault_code: str
    work_order_id: str | None = None


@dataclass(frozen=True)
class ReplacementEligibility:
    """A unit earned a like-for-like replacement: which fault, when, and the repairs counted."""

    fault_code: str
    earned_on: date
    repairs: tuple[RepairEvent, ...]

    @property
    def repairs_counted(self) -> int:
        return len(self.repairs)

    @property
    def first_repair_on(self) -> date:
        return self.repairs[0].repaired_on


class _ReportedRepair(Protocol):
    @property
    def work_order_id(self) -> str | None: ...


RepairT = TypeVar("RepairT", bound=_ReportedRepair)


def once_per_work_order(repairs: Iterable[RepairT]) -> list[RepairT]:
    """``repairs`` in their order, a work order reported twice (a redelivered event) counted once."""
    seen: set[str] = set()
    distinct: list[RepairT] = []
    for repair in repairs:
        if repair.work_order_id is not None:
            if repair.work_order_id in seen:
                continue
            seen.add(repair.work_order_id)
        distinct.append(repair)
    return distinct


def repairs_in_window(
    history: Iterable[RepairEvent], *, fault_code: str, ending_on: date, rule: RepeatFailureRule
) -> tuple[RepairEvent, ...]:
    """Repairs of ``fault_code`` from ``rule.within_days`` days before ``ending_on`` up to it."""
    first_day = ending_on - timedelta(days=rule.within_days)
    return tuple(
        r
        for r in once_per_work_order(sorted(history, key=lambda r: r.repaired_on))
        if r.fault_code == fault_code and first_day <= r.repaired_on <= ending_on
    )


def replacement_earned_by(
    history: Sequence[RepairEvent], repair: RepairEvent, rule: RepeatFailureRule
) -> ReplacementEligibility | None:
    """Whether ``repair``, added after ``history``, is the Nth repair of its fault within the window.

    Repairs already in ``history`` on the same day count as earlier ones. A repair that is the
    (N+1)th or later in the window also qualifies, so a missed eligibility is never lost.
    """
    earlier = [
        r
        for r in history
        if r.repaired_on <= repair.repaired_on
        and not (repair.work_order_id is not None and r.work_order_id == repair.work_order_id)
    ]
    counted = repairs_in_window(
        [*earlier, repair], fault_code=repair.fault_code, ending_on=repair.repaired_on, rule=rule
    )
    if len(counted) < rule.repairs:
        return None
    return ReplacementEligibility(repair.fault_code, repair.repaired_on, counted)


def first_replacement_eligibility(
    history: Iterable[RepairEvent], rule: RepeatFailureRule, *, fault_code: str | None = None
) -> ReplacementEligibility | None:
    """The first repair in ``history`` that earned a replacement (for ``fault_code``, or any fault)."""
    ordered = once_per_work_order(sorted(history, key=lambda r: r.repaired_on))
    for index, repair in enumerate(ordered):
        if fault_code is not None and repair.fault_code != fault_code:
            continue
        earned = replacement_earned_by(ordered[:index], repair, rule)
        if earned is not None:
            return earned
    return None
