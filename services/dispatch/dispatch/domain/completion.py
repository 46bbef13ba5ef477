"""What the technician reports when the visit ends."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kit.domain import DomainError


class FaultCause(StrEnum):
    PRODUCT_DEFECT = "product_defect"
    INSTALLATION = "installation"
    MISUSE = "misuse"
    SUPPLIER_PART = "supplier_part"
    ENVIRONMENT = "environment"


class IncompleteReason(StrEnum):
    PARTS_NEEDED = "parts_needed"
    CUSTOMER_ABSENT = "customer_absent"
    SECOND_TECHNICIAN_NEEDED = "second_technician_needed"
    SITE_NOT_READY = "site_not_ready"
    OTHER = "other"


@dataclass(frozen=True)
class UsedPart:
    """A part fitted, with the serial of each serialised piece."""

    part_number: str
    quantity: int = 1
    serials: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise DomainError("a used part has a quantity of at least 1", code="bad-quantity")
        if self.serials and len(self.serials) != self.quantity:
            raise DomainError(
                f"part {self.part_number}: {self.quantity} used but {len(self.serials)} serials given",
                code="serial-count-mismatch",
            )


@dataclass(frozen=True)
class CollectedPart:
    """An old (defective) part taken back from the site, to be returned to the warehouse."""

    part_number: str
    serial: str | None = None
    defective: bool = True


@dataclass(frozen=True)
class CompletionReport:
    """What the technician reports. A repair names the fault code and its cause; an installation or a
    preventive maintenance visit may have neither."""

    fault_code: str | None
    cause: FaultCause | None
    actions: tuple[str, ...]
    labour_minutes: int
    first_time_fix: bool
    parts_used: tuple[UsedPart, ...] = ()
    old_parts_collected: tuple[CollectedPart, ...] = ()
    signature_ref: str | None = None
    photo_refs: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        if self.fault_code is not None and not self.fault_code.strip():
            raise DomainError("a fault code is not blank", code="fault-code-required")
        if not self.actions:
            raise DomainError("a completion report lists the actions taken", code="actions-required")
        if self.labour_minutes < 0:
            raise DomainError("labour minutes cannot be negative", code="bad-labour")

    @property
    def diagnosed(self) -> bool:
        return self.fault_code is not None and self.cause is not None
