"""Automatic appraisal of a submitted claim: one finding per check, each with a reason.

Checks: the unit is registered, and registered on time (the dealer's 20-day rule); the failure
date is inside coverage; the cause is not excluded; no other claim covers the same work or the
same old part; labour time against the standard for the fault code; each part is plausible for
the model (its bill of materials); each old part came back by the deadline; the customer signed;
the amount is within the automatic approval limit.

Outcome: a hard failure (outside coverage, excluded, duplicate work) rejects; any warning sends
the claim to the reviewer queue; failures of single lines (an implausible part, a duplicate or
unreturned old part) remove those lines and approve the rest; a clean claim within the limit is
approved automatically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kit.domain import Money
from warranty.domain.claims.claim import Claim, ClaimState
from warranty.domain.claims.findings import Appraisal, AppraisalOutcome, Finding, FindingCode, Severity
from warranty.domain.claims.records import ClaimLine, LineKind
from warranty.domain.coverage import coverage_on, warranty_period
from warranty.domain.dates import last_day_within_days, spoken_date
from warranty.domain.policy import SPOKEN_EXCLUSION, ProductLine, ProductModel, WarrantyPolicy
from warranty.domain.units import (
    REGISTRATION_DAYS,
    RegisteredUnit,
    RegistrationStatus,
    ServiceContract,
    registration_deadline,
    registration_status,
)
from warranty.domain.wording import spoken_number


class ReturnOutcome(StrEnum):
    """What inventory's inspection made of a returned old part."""

    REUSABLE = "reusable"
    SCRAP = "scrap"
    TO_SUPPLIER = "to_supplier"


@dataclass(frozen=True)
class PartReturn:
    """What inventory reported about one old part (``inventory.return.received/inspected.v1``)."""

    old_part_serial: str
    received_on: date | None = None
    inspected_on: date | None = None
    outcome: ReturnOutcome | None = None


def _default_limits() -> dict[str, Money]:
    return {"EUR": Money(Decimal("300.00"), "EUR")}


@dataclass(frozen=True)
class ClaimRules:
    """Configuration of appraisal and settlement."""

    #: the largest amount approved without a person, per currency; no limit means review
    auto_approve_limits: Mapping[str, Money] = field(default_factory=_default_limits)
    #: how far above the standard minutes labour may go before a reviewer looks (0.20 = 20%)
    labour_tolerance: Decimal = Decimal("0.20")
    #: days after the repair by which the old part must be back (day 0 = the repair date)
    old_part_return_days: int = 30
    require_customer_signature: bool = True


def old_part_due_on(claim: Claim, rules: ClaimRules) -> date:
    """The last day the claim's old parts count as returned on time."""
    return last_day_within_days(claim.record.repaired_on, rules.old_part_return_days)


def returned_on_time(part_return: PartReturn | None, due_on: date) -> bool:
    return (
        part_return is not None and part_return.received_on is not None and part_return.received_on <= due_on
    )


@dataclass(frozen=True)
class AppraisalContext:
    """The facts an appraisal reads, gathered by the caller from the warranty's own records."""

    on: date
    unit: RegisteredUnit | None
    policy: WarrantyPolicy | None
    model: ProductModel | None = None
    line: ProductLine | None = None
    contracts: Sequence[ServiceContract] = ()
    #: the dealer's and everyone's other claims on record, for the duplicate checks
    other_claims: Sequence[Claim] = ()
    #: old-part serial -> what inventory reported about its return
    returns: Mapping[str, PartReturn] = field(default_factory=dict)
    rules: ClaimRules = field(default_factory=ClaimRules)


def appraise(claim: Claim, context: AppraisalContext) -> Appraisal:
    """Check ``claim`` against the context and propose an outcome (the claim is not changed)."""
    findings: list[Finding] = []
    findings.extend(_registration(claim, context))
    findings.extend(_coverage_and_exclusion(claim, context))
    findings.extend(_duplicates(claim, context))
    findings.append(_labour_time(claim, context))
    findings.extend(_parts_plausible(claim, context))
    findings.extend(_old_parts_returned(claim, context))
    findings.append(_signature(claim, context))

    removed = {f.line_id: f.reason for f in findings if f.removes_line and f.line_id is not None}
    approvable = Money.zero(claim.currency)
    for line in claim.lines:
        if line.line_id not in removed:
            approvable = approvable + line.amount
    findings.append(_limit(claim, approvable, context))

    if any(f.rejects_claim for f in findings):
        outcome = AppraisalOutcome.REJECT
    elif any(f.severity is Severity.WARN for f in findings):
        outcome = AppraisalOutcome.REVIEW
    elif removed:
        outcome = AppraisalOutcome.PARTIAL_APPROVE if approvable.amount > 0 else AppraisalOutcome.REJECT
    else:
        outcome = AppraisalOutcome.AUTO_APPROVE
    return Appraisal(
        claim_id=claim.claim_id,
        appraised_on=context.on,
        outcome=outcome,
        findings=tuple(findings),
        claimed=claim.total,
        approvable=approvable,
        removed_lines=removed,
    )


def _registration(claim: Claim, context: AppraisalContext) -> list[Finding]:
    unit = context.unit
    if unit is None:
        return [
            Finding(
                FindingCode.UNIT_REGISTERED,
                Severity.WARN,
                f"Serial {claim.serial} is not registered, so the claim is not accepted automatically.",
            )
        ]
    findings = [
        Finding(
            FindingCode.UNIT_REGISTERED,
            Severity.PASS,
            f"Serial {unit.serial} is registered (model {unit.model_code}, "
            f"sold on {spoken_date(unit.sold_on)}).",
        )
    ]
    days = context.policy.registration_days if context.policy is not None else REGISTRATION_DAYS
    deadline = spoken_date(registration_deadline(unit, within_days=days))
    status = registration_status(unit, within_days=days)
    if status is RegistrationStatus.ON_TIME:
        assert unit.card_received_on is not None
        findings.append(
            Finding(
                FindingCode.REGISTERED_ON_TIME,
                Severity.PASS,
                f"The registration card arrived on {spoken_date(unit.card_received_on)}, "
                f"within {days} days of the sale (by {deadline}).",
            )
        )
    elif status is RegistrationStatus.LATE:
        assert unit.card_received_on is not None
        findings.append(
            Finding(
                FindingCode.REGISTERED_ON_TIME,
                Severity.WARN,
                f"The registration card arrived on {spoken_date(unit.card_received_on)}, "
                f"after the {days}-day limit ({deadline}), so the claim is not accepted automatically.",
            )
        )
    else:
        findings.append(
            Finding(
                FindingCode.REGISTERED_ON_TIME,
                Severity.WARN,
                f"No registration card has arrived for serial {unit.serial} (due by {deadline}), so the "
                f"claim is not accepted automatically.",
            )
        )
    return findings


def _coverage_and_exclusion(claim: Claim, context: AppraisalContext) -> list[Finding]:
    unit, policy, failed_on = context.unit, context.policy, claim.record.failed_on
    cause = claim.record.cause
    findings: list[Finding] = []
    if unit is not None and policy is not None:
        period = warranty_period(unit, policy)
        span = coverage_on(unit, policy, failed_on, context.contracts, period=period)
        if span is None:
            ended = f", which ended on {spoken_date(period.repair_until)}" if period else ""
            findings.append(
                Finding(
                    FindingCode.FAILURE_IN_COVERAGE,
                    Severity.FAIL,
                    f"The failure on {spoken_date(failed_on)} is outside the warranty{ended}.",
                )
            )
        else:
            under = (
                "the warranty"
                if span.by_warranty
                else f"service contract {', '.join(c.contract_id for c in span.contracts)}"
            )
            findings.append(
                Finding(
                    FindingCode.FAILURE_IN_COVERAGE,
                    Severity.PASS,
                    f"The failure on {spoken_date(failed_on)} is covered by {under} until "
                    f"{spoken_date(span.until)}.",
                )
            )
    elif unit is not None:
        findings.append(
            Finding(
                FindingCode.FAILURE_IN_COVERAGE,
                Severity.WARN,
                f"No warranty policy is on record for model {unit.model_code}, "
                f"so coverage cannot be checked.",
            )
        )
    exclusion = policy.excludes(cause) if policy is not None else cause.exclusion
    if exclusion is not None:
        findings.append(
            Finding(
                FindingCode.EXCLUSION,
                Severity.FAIL,
                f"The recorded cause, {cause.spoken}, is {SPOKEN_EXCLUSION[exclusion]}, which the warranty "
                f"excludes.",
            )
        )
    else:
        findings.append(
            Finding(
                FindingCode.EXCLUSION, Severity.PASS, f"The recorded cause, {cause.spoken}, is not excluded."
            )
        )
    return findings


def _claims_on_record(claim: Claim, context: AppraisalContext) -> list[Claim]:
    """Other claims that were submitted (drafts claim nothing yet)."""
    return [
        c for c in context.other_claims if c.claim_id != claim.claim_id and c.state is not ClaimState.DRAFT
    ]


def _duplicates(claim: Claim, context: AppraisalContext) -> list[Finding]:
    others = _claims_on_record(claim, context)
    record = claim.record
    findings: list[Finding] = []
    same_work = next(
        (
            other
            for other in others
            if (record.work_order_id is not None and other.record.work_order_id == record.work_order_id)
            or (
                other.serial == claim.serial
                and other.record.fault_code == record.fault_code
                and other.record.repaired_on == record.repaired_on
            )
        ),
        None,
    )
    if same_work is not None:
        work = (
            f"work order {record.work_order_id}"
            if record.work_order_id is not None and same_work.record.work_order_id == record.work_order_id
            else f"the repair of fault {record.fault_code} on {spoken_date(record.repaired_on)}"
        )
        findings.append(
            Finding(
                FindingCode.DUPLICATE_WORK,
                Severity.FAIL,
                f"Claim {same_work.claim_id} already claims {work}.",
            )
        )
    else:
        findings.append(
            Finding(FindingCode.DUPLICATE_WORK, Severity.PASS, "No other claim covers this work.")
        )

    claimed_elsewhere = {
        part.old_part_serial: other.claim_id
        for other in others
        for part in other.parts
        if part.old_part_serial is not None
    }
    seen_here: set[str] = set()
    for line in _part_lines(claim):
        serial = line.part.old_part_serial if line.part else None
        if serial is None:
            continue
        if serial in claimed_elsewhere:
            reason = (
                f"Old part {serial} ({line.line_id}) is already claimed in claim "
                f"{claimed_elsewhere[serial]}; the line is removed."
            )
            findings.append(Finding(FindingCode.DUPLICATE_OLD_PART, Severity.FAIL, reason, line.line_id))
        elif serial in seen_here:
            reason = f"Old part {serial} ({line.line_id}) is listed twice in this claim; the line is removed."
            findings.append(Finding(FindingCode.DUPLICATE_OLD_PART, Severity.FAIL, reason, line.line_id))
        else:
            findings.append(
                Finding(
                    FindingCode.DUPLICATE_OLD_PART,
                    Severity.PASS,
                    f"Old part {serial} ({line.line_id}) is not claimed elsewhere.",
                    line.line_id,
                )
            )
        seen_here.add(serial)
    return findings


def _labour_time(claim: Claim, context: AppraisalContext) -> Finding:
    record = claim.record
    standard = None
    if context.model is not None:
        standard = context.model.standard_repair(record.fault_code, context.line)
    elif context.line is not None:
        standard = context.line.standard_repairs.get(record.fault_code)
    if standard is None:
        return Finding(
            FindingCode.LABOUR_TIME,
            Severity.WARN,
            f"No standard time is set for fault code {record.fault_code}; a reviewer checks the "
            f"{record.labour_minutes} minutes claimed.",
        )
    tolerance = context.rules.labour_tolerance
    allowed = Decimal(standard.standard_minutes) * (1 + tolerance)
    detail = (
        f"{record.labour_minutes} minutes claimed for fault {record.fault_code}, against a standard of "
        f"{standard.standard_minutes} minutes ({spoken_number(allowed)} with the "
        f"{spoken_number(tolerance * 100)}% tolerance)"
    )
    if record.labour_minutes <= allowed:
        return Finding(FindingCode.LABOUR_TIME, Severity.PASS, f"{detail}.")
    return Finding(
        FindingCode.LABOUR_TIME, Severity.WARN, f"{detail}: above the tolerance, a reviewer checks it."
    )


def _part_lines(claim: Claim) -> list[ClaimLine]:
    return [line for line in claim.lines if line.kind is LineKind.PART]


def _parts_plausible(claim: Claim, context: AppraisalContext) -> list[Finding]:
    lines = _part_lines(claim)
    if not lines:
        return []
    model = context.model
    if model is None or not model.bill_of_materials:
        model_name = model.code if model is not None else (claim.model_code or "of this unit")
        return [
            Finding(
                FindingCode.PART_PLAUSIBLE,
                Severity.WARN,
                f"No bill of materials is on record for model {model_name}, so the parts cannot be checked.",
            )
        ]
    findings = []
    for line in lines:
        assert line.part is not None
        number = line.part.part_number
        if number in model.bill_of_materials:
            findings.append(
                Finding(
                    FindingCode.PART_PLAUSIBLE,
                    Severity.PASS,
                    f"Part {number} ({line.line_id}) belongs to model {model.code}.",
                    line.line_id,
                )
            )
        else:
            findings.append(
                Finding(
                    FindingCode.PART_PLAUSIBLE,
                    Severity.FAIL,
                    f"Part {number} ({line.line_id}) is not in the bill of materials of model {model.code}; "
                    f"the line is removed.",
                    line.line_id,
                )
            )
    return findings


def _old_parts_returned(claim: Claim, context: AppraisalContext) -> list[Finding]:
    due_on = old_part_due_on(claim, context.rules)
    due = spoken_date(due_on)
    findings = []
    for line in _part_lines(claim):
        assert line.part is not None
        serial = line.part.old_part_serial
        code, line_id = FindingCode.OLD_PART_RETURNED, line.line_id
        if serial is None:
            findings.append(
                Finding(
                    code,
                    Severity.WARN,
                    f"{line_id} ({line.part.part_number}) gives no old-part serial, so its return cannot be "
                    f"tracked.",
                    line_id,
                )
            )
            continue
        returned = context.returns.get(serial)
        received_on = returned.received_on if returned is not None else None
        if received_on is None:
            if context.on <= due_on:
                findings.append(
                    Finding(
                        code,
                        Severity.PASS,
                        f"Old part {serial} is due back by {due}; it is deducted at settlement if it is not "
                        f"returned by then.",
                        line_id,
                    )
                )
            else:
                findings.append(
                    Finding(
                        code,
                        Severity.FAIL,
                        f"Old part {serial} was not returned by {due}; the line is removed.",
                        line_id,
                    )
                )
        elif received_on > due_on:
            findings.append(
                Finding(
                    code,
                    Severity.FAIL,
                    f"Old part {serial} came back on {spoken_date(received_on)}, "
                    f"after the deadline of {due}; the line is removed.",
                    line_id,
                )
            )
        elif returned is not None and returned.outcome is ReturnOutcome.REUSABLE:
            findings.append(
                Finding(
                    code,
                    Severity.WARN,
                    f"Old part {serial} came back on time but inspection found it reusable, "
                    f"so it may not have been defective.",
                    line_id,
                )
            )
        else:
            findings.append(
                Finding(
                    code,
                    Severity.PASS,
                    f"Old part {serial} came back on {spoken_date(received_on)}, by the deadline of {due}.",
                    line_id,
                )
            )
    return findings


def _signature(claim: Claim, context: AppraisalContext) -> Finding:
    if claim.customer_signature_ref is not None:
        return Finding(
            FindingCode.CUSTOMER_SIGNATURE, Severity.PASS, "The customer signed the repair record."
        )
    if not context.rules.require_customer_signature:
        return Finding(
            FindingCode.CUSTOMER_SIGNATURE, Severity.PASS, "No customer signature is required for this claim."
        )
    return Finding(
        FindingCode.CUSTOMER_SIGNATURE, Severity.WARN, "The repair record is not signed by the customer."
    )


def _limit(claim: Claim, approvable: Money, context: AppraisalContext) -> Finding:
    limit = context.rules.auto_approve_limits.get(claim.currency)
    if limit is None:
        return Finding(
            FindingCode.AUTO_APPROVAL_LIMIT,
            Severity.WARN,
            f"No automatic approval limit is set for {claim.currency}, so a reviewer approves the claim.",
        )
    if approvable.amount <= limit.amount:
        return Finding(
            FindingCode.AUTO_APPROVAL_LIMIT,
            Severity.PASS,
            f"The amount to approve, {approvable}, is within the automatic approval limit of {limit}.",
        )
    return Finding(
        FindingCode.AUTO_APPROVAL_LIMIT,
        Severity.WARN,
        f"The amount to approve, {approvable}, is above the automatic approval limit of {limit}.",
    )
