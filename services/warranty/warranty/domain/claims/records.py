"""What a dealer or service point claims for: the repair record and the parts it replaced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kit.domain import DomainError, Money
from warranty.domain.policy import FaultCause


@dataclass(frozen=True)
class RepairRecord:
    """The repair as the technician recorded it (and the customer signed)."""

    fault_code: str
    cause: FaultCause
    failed_on: date
    repaired_on: date
    labour_minutes: int
    labour_amount: Money
    actions: tuple[str, ...] = ()
    travel_km: Decimal = Decimal(0)
    travel_amount: Money | None = None
    work_order_id: str | None = None

    def __post_init__(self) -> None:
        if self.repaired_on < self.failed_on:
            raise DomainError("a repair cannot precede the failure", code="repair-before-failure")
        if self.labour_minutes < 0 or self.travel_km < 0:
            raise DomainError(
                "labour minutes and travel distance cannot be negative", code="bad-repair-record"
            )
        if self.labour_amount.amount < 0 or (
            self.travel_amount is not None and self.travel_amount.amount < 0
        ):
            raise DomainError("claimed amounts cannot be negative", code="bad-repair-record")


@dataclass(frozen=True)
class ReplacedPart:
    """A part fitted in the repair; ``old_part_serial`` identifies the defective part to return."""

    part_number: str
    amount: Money
    old_part_serial: str | None = None
    new_part_serial: str | None = None
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise DomainError("a part quantity is at least 1", code="bad-quantity")
        if self.amount.amount < 0:
            raise DomainError("claimed amounts cannot be negative", code="bad-part-amount")


class LineKind(StrEnum):
    LABOUR = "labour"
    TRAVEL = "travel"
    PART = "part"


@dataclass(frozen=True)
class ClaimLine:
    """One payable line of a claim: ``labour``, ``travel`` or ``part-<n>`` (1-based, in claim order)."""

    line_id: str
    kind: LineKind
    amount: Money
    part: ReplacedPart | None = None
