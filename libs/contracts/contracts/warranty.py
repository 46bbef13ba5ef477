"""Events produced by the warranty service: registered units, entitlements, repeat failures, claims."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from contracts.common import (
    Actor,
    AttachmentRef,
    Code,
    ContractModel,
    FaultCause,
    Id,
    LongText,
    ModelCode,
    MoneyAmount,
    PartNumber,
    Reason,
    SerialNumber,
    ShortText,
    UtcDateTime,
)
from contracts.envelope import EventPayload
from contracts.registry import event

ClaimNumber = Annotated[str, Field(min_length=1, max_length=32)]

Remedy = Literal["refund", "exchange", "free_repair", "paid_repair"]
"""The "three guarantees" (refund, exchange, repair) plus a repair the customer pays for."""

Coverage = Literal["covered", "partially_covered", "not_covered", "unregistered"]

WarrantyBasis = Literal["installation_date", "acceptance_date", "sale_date", "service_contract", "none"]


class UnitFacts(ContractModel):
    """A registered unit as warranty knows it."""

    serial_number: SerialNumber
    model_code: ModelCode
    product_line: Code
    model_grade: Code | None = Field(default=None, description="Grade for same-grade exchange and loaners")
    customer_id: Id | None = None
    dealer_id: Id | None = None
    sale_date: date | None = None
    installation_date: date | None = None
    installer_id: Id | None = Field(default=None, description="The technician who installed it")
    registration_card_received_on: date | None = None
    registered_late: bool = Field(default=False, description="Card received more than 20 days after sale")
    policy_id: Code
    policy_version: int = Field(ge=1)
    warranty_starts_on: date | None = None
    repair_coverage_ends_on: date | None = None


@event("warranty.unit.registered.v1", subject="serial_number")
class UnitRegistered(EventPayload):
    """A sold unit was registered for warranty (the registration card).

    Emitted by warranty when a dealer registers a unit (partner API or bulk), or on an
    installation. Dispatch keeps the installer to prefer for repairs; intake shows the unit on
    the customer's screen.
    """

    serial_number: SerialNumber
    version: int = Field(ge=1)
    unit: UnitFacts
    dealer_id: Id | None = None
    channel: Literal["dealer_api", "bulk_import", "agent", "installation", "event"]
    registered_at: UtcDateTime
    registered_by: Actor


@event("warranty.unit.updated.v1", subject="serial_number")
class UnitUpdated(EventPayload):
    """A registered unit's facts changed (installation date set, contract added, data corrected).

    Emitted by warranty. Consumers replace their local copy when ``version`` is newer.
    """

    serial_number: SerialNumber
    version: int = Field(ge=1)
    unit: UnitFacts
    changed_fields: list[Code] = Field(default_factory=list, max_length=30)
    dealer_id: Id | None = None
    updated_at: UtcDateTime
    updated_by: Actor


@event("warranty.unit.transferred.v1", subject="serial_number")
class UnitTransferred(EventPayload):
    """A registered unit changed owner; the warranty stays with the unit.

    Emitted by warranty. Intake and dispatch re-link the unit to the new customer.
    """

    serial_number: SerialNumber
    version: int = Field(ge=1)
    from_customer_id: Id | None = None
    to_customer_id: Id
    transferred_on: date
    dealer_id: Id | None = None
    recorded_at: UtcDateTime
    recorded_by: Actor


# --- entitlement -------------------------------------------------------------------------------


class RemedyOption(ContractModel):
    """One remedy open to the customer, until when, and at what price if not free."""

    remedy: Remedy
    available_until: date | None = Field(default=None, description="Last day, inclusive; None = no limit")
    price_estimate: MoneyAmount | None = Field(
        default=None, description="For a paid repair: quoted before work"
    )


@event("warranty.entitlement.determined.v1", subject="entitlement_id")
class EntitlementDetermined(EventPayload):
    """What the warranty covers for a ticket's unit, and which remedies apply.

    Emitted by warranty after ``intake.ticket.created.v1`` (or an API request, or a changed unit)
    with the rules of the unit's policy applied at ``as_of``. Dispatch sets the work order's
    billing; intake shows the reasons to the agent to read out.
    """

    entitlement_id: Id
    ticket_id: Id | None = Field(default=None, description="None for a decision asked for outside a ticket")
    serial_number: SerialNumber | None = None
    model_code: ModelCode | None = None
    customer_id: Id | None = None
    dealer_id: Id | None = None
    as_of: date = Field(description="The failure/report date the decision is made for")
    coverage: Coverage
    billing: Literal["warranty", "contract", "customer"]
    remedies: list[RemedyOption] = Field(default_factory=list, max_length=4)
    expires_on: date | None = Field(default=None, description="Last day of free repair coverage")
    basis: WarrantyBasis
    basis_date: date | None = None
    policy_id: Code | None = None
    policy_version: int | None = Field(default=None, ge=1)
    contract_id: Id | None = None
    parts_covered: bool
    labour_covered: bool
    travel_covered: bool
    exclusions: list[Code] = Field(
        default_factory=list, max_length=10, description="Exclusions that apply, e.g. misuse, force_majeure"
    )
    reasons: list[Reason] = Field(min_length=1, max_length=20)
    missing_evidence: list[ShortText] = Field(
        default_factory=list, max_length=10, description="What would establish coverage (proof of purchase)"
    )
    determined_at: UtcDateTime


@event("warranty.replacement.eligible.v1", subject="serial_number")
class ReplacementEligible(EventPayload):
    """A unit failed with the same fault often enough to earn a free same-grade replacement.

    Emitted by warranty when completed repairs of one unit and fault reach the policy's count
    within its window (default: the third within 30 days). Intake offers the exchange; dispatch
    plans the swap; inventory finds a unit of ``model_grade``.
    """

    serial_number: SerialNumber
    model_code: ModelCode
    model_grade: Code | None = None
    customer_id: Id | None = None
    dealer_id: Id | None = None
    ticket_id: Id | None = Field(default=None, description="The ticket of the repair that tipped it")
    fault_code: Code
    repairs_counted: int = Field(ge=2)
    window_days: int = Field(ge=1)
    work_order_ids: list[Id] = Field(min_length=1, max_length=20)
    first_repair_at: UtcDateTime
    latest_repair_at: UtcDateTime
    determined_at: UtcDateTime


# --- claims ------------------------------------------------------------------------------------


class ClaimPartLine(ContractModel):
    """A part replaced under the claim, with the serials of the new and the old part."""

    part_number: PartNumber
    quantity: int = Field(ge=1, le=1000)
    new_part_serial: SerialNumber | None = None
    old_part_serial: SerialNumber | None = None
    unit_price: MoneyAmount | None = None
    old_part_return_required: bool = True


class ClaimAmounts(ContractModel):
    """The money in a claim, by component."""

    labour: MoneyAmount
    parts: MoneyAmount
    travel: MoneyAmount
    total: MoneyAmount


class AppraisalFinding(ContractModel):
    """One result of the automatic appraisal, with the reason in words."""

    code: Code = Field(
        description="e.g. unit_unregistered, late_registration, duplicate_claim, labour_over_standard"
    )
    severity: Literal["info", "warning", "blocking"]
    message: ShortText


class Adjustment(ContractModel):
    """A change to the claimed amount by the reviewer or the settlement, with why."""

    code: Code
    message: ShortText
    amount: MoneyAmount = Field(description="Negative reduces the claim")


class _ClaimEvent(EventPayload):
    claim_id: Id
    claim_number: ClaimNumber
    version: int = Field(ge=1)
    dealer_id: Id = Field(description="The dealer / service point that claims")
    work_order_id: Id | None = None
    serial_number: SerialNumber


@event("warranty.claim.submitted.v1", subject="claim_id")
class ClaimSubmitted(_ClaimEvent):
    """A warranty claim for covered work was submitted.

    Emitted by warranty when a dealer submits through the partner API, or when a completed covered
    work order done by a service point opens one. The automatic appraisal runs next; inventory
    expects the listed old parts back by ``old_parts_due_on``.
    """

    ticket_id: Id | None = None
    model_code: ModelCode
    origin: Literal["partner_api", "work_order", "agent"]
    fault_code: Code
    cause: FaultCause
    actions: list[ShortText] = Field(default_factory=list, max_length=30)
    repair_date: date
    labour_minutes: int = Field(ge=0, le=10_000)
    travel_km: int | None = Field(default=None, ge=0, le=10_000)
    parts: list[ClaimPartLine] = Field(default_factory=list, max_length=100)
    amounts: ClaimAmounts
    customer_signature: AttachmentRef | None = None
    photos: list[AttachmentRef] = Field(default_factory=list, max_length=30)
    old_parts_due_on: date | None = None
    submitted_at: UtcDateTime
    submitted_by: Actor


@event("warranty.claim.under_review.v1", subject="claim_id")
class ClaimUnderReview(_ClaimEvent):
    """A claim's automatic appraisal found something a reviewer must decide.

    Emitted by warranty after appraisal when the claim cannot be auto-approved. The claim joins the
    reviewer queue; the dealer sees the findings.
    """

    findings: list[AppraisalFinding] = Field(min_length=1, max_length=50)
    claimed: MoneyAmount
    review_due_at: UtcDateTime | None = None
    queued_at: UtcDateTime


@event("warranty.claim.approved.v1", subject="claim_id")
class ClaimApproved(_ClaimEvent):
    """A claim was approved, in full or in part, and awaits settlement.

    Emitted by warranty on automatic approval (clean, under the limit) or a reviewer's decision.
    The amount joins the dealer's next settlement statement; webhooks tells the dealer.
    """

    partial: bool = Field(description="True when less than the claimed amount was approved")
    claimed: MoneyAmount
    approved: MoneyAmount
    adjustments: list[Adjustment] = Field(default_factory=list, max_length=30)
    findings: list[AppraisalFinding] = Field(default_factory=list, max_length=50)
    automatic: bool
    decided_at: UtcDateTime
    decided_by: Actor


@event("warranty.claim.rejected.v1", subject="claim_id")
class ClaimRejected(_ClaimEvent):
    """A claim was rejected, with the reasons.

    Emitted by warranty on a reviewer's decision (or a blocking finding the policy rejects
    automatically). Webhooks tells the dealer; fault statistics exclude it from paid cost.
    """

    claimed: MoneyAmount
    reasons: list[Reason] = Field(min_length=1, max_length=20)
    findings: list[AppraisalFinding] = Field(default_factory=list, max_length=50)
    automatic: bool = False
    decided_at: UtcDateTime
    decided_by: Actor


@event("warranty.claim.returned.v1", subject="claim_id")
class ClaimReturned(_ClaimEvent):
    """A claim was sent back to the dealer for more information.

    Emitted by warranty on a reviewer's request. The dealer answers by resubmitting before
    ``reply_due_on``; webhooks delivers the request.
    """

    requested_information: list[ShortText] = Field(min_length=1, max_length=20)
    note: LongText | None = None
    reply_due_on: date | None = None
    returned_at: UtcDateTime
    returned_by: Actor


@event("warranty.claim.settled.v1", subject="claim_id")
class ClaimSettled(_ClaimEvent):
    """An approved claim was paid out in a dealer settlement statement.

    Emitted by warranty when the statement is issued. Finance systems book ``settled``; the
    dealer sees the claim closed.
    """

    statement_id: Id
    approved: MoneyAmount
    deductions: list[Adjustment] = Field(
        default_factory=list, max_length=30, description="e.g. old part not returned by the deadline"
    )
    settled: MoneyAmount
    settled_at: UtcDateTime


@event("warranty.settlement.issued.v1", subject="statement_id")
class SettlementIssued(EventPayload):
    """A dealer's periodic settlement statement was issued.

    Emitted by warranty at the end of a settlement period. Finance/ERP books the net amount
    against the dealer's account; webhooks delivers it to the dealer.
    """

    statement_id: Id
    dealer_id: Id
    period_start: date
    period_end: date
    claim_ids: list[Id] = Field(max_length=5000)
    claim_count: int = Field(ge=0)
    gross: MoneyAmount
    deductions: MoneyAmount
    net: MoneyAmount
    issued_at: UtcDateTime
    issued_by: Actor
