"""Events produced by the inventory service: reservations, consumption, stock levels, returns, loaners."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from contracts.common import (
    Actor,
    Code,
    ContractModel,
    Id,
    LocationKind,
    MoneyAmount,
    PartLine,
    PartNumber,
    SerialNumber,
    ShortText,
    UtcDateTime,
)
from contracts.envelope import EventPayload
from contracts.registry import event


class StockLocation(ContractModel):
    """A place that holds stock: the central warehouse, a regional one, a service point, a van."""

    location_id: Id
    kind: LocationKind
    name: ShortText | None = None


class ReservedLine(ContractModel):
    """A quantity of a part held for a job at one location."""

    part_number: PartNumber
    quantity: int = Field(ge=1, le=10_000)
    location: StockLocation
    serial_numbers: list[SerialNumber] = Field(default_factory=list, max_length=1000)
    available_at: UtcDateTime | None = Field(
        default=None, description="When it will be at the van, if a transfer is under way"
    )


class Shortage(ContractModel):
    """A part that could not be reserved in full."""

    part_number: PartNumber
    requested: int = Field(ge=1)
    available: int = Field(ge=0)
    next_available_at: UtcDateTime | None = None
    alternative_location_id: Id | None = None


@event("inventory.reservation.confirmed.v1", subject="reservation_id")
class ReservationConfirmed(EventPayload):
    """Parts for a work order are held for it.

    Emitted by inventory after ``dispatch.work_order.assigned.v1`` (or an explicit request) when
    every line could be reserved at the technician's van or the nearest warehouse. Dispatch marks
    the job parts-ready; the technician app shows where to pick them up.
    """

    reservation_id: Id
    work_order_id: Id
    technician_id: Id | None = None
    lines: list[ReservedLine] = Field(min_length=1, max_length=50)
    location: StockLocation = Field(description="The main location (where most lines are held)")
    transfer_id: Id | None = Field(default=None, description="A transfer bringing lines to the van, if any")
    expires_at: UtcDateTime | None = None
    dealer_id: Id | None = None
    confirmed_at: UtcDateTime


@event("inventory.reservation.failed.v1", subject="work_order_id")
class ReservationFailed(EventPayload):
    """Parts for a work order could not be reserved (not enough stock in reach).

    Emitted by inventory instead of a confirmation. Dispatch waits for the transfer or the
    restock date, or moves the appointment.
    """

    reservation_id: Id | None = None
    work_order_id: Id
    requested: list[PartLine] = Field(min_length=1, max_length=50)
    shortages: list[Shortage] = Field(min_length=1, max_length=50)
    reason: Literal["out_of_stock", "no_location_in_reach", "part_unknown", "part_discontinued"]
    earliest_available_at: UtcDateTime | None = None
    dealer_id: Id | None = None
    failed_at: UtcDateTime


@event("inventory.reservation.released.v1", subject="reservation_id")
class ReservationReleased(EventPayload):
    """A reservation's held parts went back to free stock.

    Emitted by inventory when the work order is cancelled, completed with parts unused, the
    reservation expired, or someone released it. Dispatch no longer counts the job parts-ready.
    """

    reservation_id: Id
    work_order_id: Id
    lines: list[ReservedLine] = Field(min_length=1, max_length=50)
    reason: Literal["work_order_cancelled", "work_order_completed", "expired", "reassigned", "manual"]
    dealer_id: Id | None = None
    released_at: UtcDateTime
    released_by: Actor


@event("inventory.part.consumed.v1", subject="work_order_id")
class PartConsumed(EventPayload):
    """A part left stock because it was fitted on a job.

    Emitted by inventory for each part line of ``dispatch.work_order.completed.v1`` /
    ``.incomplete.v1``. Warranty uses cost and serials for claims and fault statistics.
    """

    consumption_id: Id
    work_order_id: Id
    part_number: PartNumber
    quantity: int = Field(ge=1, le=10_000)
    serial_numbers: list[SerialNumber] = Field(default_factory=list, max_length=1000)
    location: StockLocation
    reservation_id: Id | None = None
    unit_cost: MoneyAmount | None = None
    dealer_id: Id | None = None
    consumed_at: UtcDateTime


@event("inventory.stock.low.v1", subject="part_number")
class StockLow(EventPayload):
    """A part's stock at a location fell to or below its reorder level.

    Emitted by inventory after a movement crosses the level. Purchasing / the regional
    warehouse restocks; dealers see it for their stocking plans.
    """

    part_number: PartNumber
    location: StockLocation
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    available: int
    reorder_level: int = Field(ge=0)
    reorder_quantity: int | None = Field(default=None, ge=0)
    dealer_id: Id | None = None
    detected_at: UtcDateTime


StockMovement = Literal[
    "receipt",
    "issue",
    "transfer_in",
    "transfer_out",
    "reservation",
    "release",
    "consumption",
    "return",
    "count_adjustment",
]


@event("inventory.stock.changed.v1", subject="part_number")
class StockChanged(EventPayload):
    """A part's stock level at a location changed.

    Emitted by inventory after every movement booked at a location (receipt, issue, transfer,
    reservation, release, consumption, return, count). It carries the absolute levels after the
    movement, not a delta, and a ``sequence`` that grows by at least one with each movement of the
    part at the location: a consumer keeps the copy with the highest sequence it has seen and
    ignores older or repeated ones. Dispatch keeps what each van holds, to prefer technicians
    whose van carries the parts a job needs.
    """

    part_number: PartNumber
    location: StockLocation
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    available: int = Field(description="What can still be reserved: on hand less reserved")
    sequence: int = Field(
        ge=1, le=2**63 - 1, description="Grows with each movement of this part at this location"
    )
    movement: StockMovement | None = Field(default=None, description="The movement that changed it")
    dealer_id: Id | None = Field(default=None, description="The dealer / service point owning the location")
    changed_at: UtcDateTime


@event("inventory.transfer.completed.v1", subject="transfer_id")
class TransferCompleted(EventPayload):
    """Stock moved between two locations arrived.

    Emitted by inventory when the receiving location books the transfer in. Dispatch resumes a
    job that waited for the parts.
    """

    transfer_id: Id
    work_order_id: Id | None = None
    lines: list[PartLine] = Field(min_length=1, max_length=100)
    from_location: StockLocation
    to_location: StockLocation
    dealer_id: Id | None = None
    completed_at: UtcDateTime


# --- returns of old parts ----------------------------------------------------------------------

ReturnOutcome = Literal["reusable", "scrap", "to_supplier"]


class _ReturnEvent(EventPayload):
    return_id: Id
    work_order_id: Id | None = None
    claim_id: Id | None = None
    part_number: PartNumber
    part_serial: SerialNumber | None = None
    quantity: int = Field(default=1, ge=1, le=1000)
    dealer_id: Id | None = Field(default=None, description="The dealer / service point that must return it")


@event("inventory.return.expected.v1", subject="return_id")
class ReturnExpected(_ReturnEvent):
    """A defective part collected on a job must come back to a warehouse by a deadline.

    Emitted by inventory for each returnable old part of a completed work order. Warranty
    checks the deadline during claim appraisal; the technician's app lists what to hand in.
    """

    from_location: StockLocation
    to_location: StockLocation
    reason: Literal["warranty_evidence", "exchange_core", "supplier_return", "inspection"]
    due_on: date
    opened_at: UtcDateTime


@event("inventory.return.received.v1", subject="return_id")
class ReturnReceived(_ReturnEvent):
    """An expected old part arrived at the warehouse.

    Emitted by inventory when the warehouse books it in. Warranty marks the claim's part
    returned (on time or late); inspection follows.
    """

    received_at_location: StockLocation
    due_on: date | None = None
    on_time: bool
    condition_on_arrival: Literal["as_described", "damaged_in_transit", "wrong_part", "missing_serial"] = (
        "as_described"
    )
    received_at: UtcDateTime
    received_by: Actor


@event("inventory.return.inspected.v1", subject="return_id")
class ReturnInspected(_ReturnEvent):
    """A returned part was inspected and its fate decided.

    Emitted by inventory after inspection. Warranty uses ``fault_confirmed`` in appraisal and
    fault statistics; reusable parts go back to stock; supplier returns are claimed upstream.
    """

    outcome: ReturnOutcome
    fault_confirmed: bool | None = None
    findings: ShortText | None = None
    supplier_id: Id | None = None
    inspected_at: UtcDateTime
    inspected_by: Actor


@event("inventory.return.overdue.v1", subject="return_id")
class ReturnOverdue(_ReturnEvent):
    """An expected old part was not received by its deadline.

    Emitted by inventory's scheduler on the day after ``due_on``. Warranty deducts it from the
    dealer's settlement; the dealer is reminded through webhooks.
    """

    due_on: date
    detected_at: UtcDateTime


# --- loaners -----------------------------------------------------------------------------------


@event("inventory.loaner.assigned.v1", subject="loaner_request_id")
class LoanerAssigned(EventPayload):
    """A loaner unit was found and issued for a loaner request.

    Emitted by inventory in answer to ``dispatch.loaner.requested.v1``. Dispatch plans its
    delivery with the job; intake tells the customer.
    """

    loaner_request_id: Id
    loaner_id: Id
    work_order_id: Id
    serial_number: SerialNumber
    model_code: Code
    model_grade: Code
    from_location: StockLocation
    due_back_on: date | None = None
    dealer_id: Id | None = None
    assigned_at: UtcDateTime


@event("inventory.loaner.unavailable.v1", subject="loaner_request_id")
class LoanerUnavailable(EventPayload):
    """No loaner of the requested grade is in reach.

    Emitted by inventory in answer to ``dispatch.loaner.requested.v1``. Dispatch escalates to
    the supervisor, who may offer another remedy.
    """

    loaner_request_id: Id
    work_order_id: Id
    model_grade: Code
    reason: Literal["none_in_stock", "none_of_grade", "none_in_region"]
    earliest_available_at: UtcDateTime | None = None
    dealer_id: Id | None = None
    detected_at: UtcDateTime
