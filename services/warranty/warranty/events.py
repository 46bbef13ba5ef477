"""Domain changes of the warranty service as contract events (staged into the outbox by the caller)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from contracts import warranty as c
from contracts.common import Actor, AttachmentRef, MoneyAmount, Reason
from contracts.envelope import EventPayload
from kit.domain import Money
from warranty.domain import (
    Coverage,
    Entitlement,
    FaultCause,
    ProductModel,
    RegisteredUnit,
    RemedyKind,
    ReplacementEligibility,
    StartEvent,
    WarrantyPolicy,
    registered_on_time,
    warranty_period,
)
from warranty.domain.claims import Appraisal, Claim, ClaimState, Finding, Severity
from warranty.domain.claims import events as domain_claim_events
from warranty.domain.settlement import Deduction, SettlementStatement

SYSTEM = Actor(kind="system", id="warranty")
#: the actor name of decisions the automatic appraisal takes
AUTOMATIC = "warranty"

_BASIS: dict[StartEvent, c.WarrantyBasis] = {
    StartEvent.ACCEPTANCE: "acceptance_date",
    StartEvent.INSTALLATION: "installation_date",
    StartEvent.SALE: "sale_date",
    StartEvent.STATED_PURCHASE: "sale_date",
}

_CAUSE_OUT: dict[FaultCause, str] = {
    FaultCause.UNKNOWN: "no_fault_found",
    FaultCause.PRODUCT_DEFECT: "product_defect",
    FaultCause.SUPPLIER_PART: "supplier_part",
    FaultCause.INSTALLATION: "installation",
    FaultCause.ENVIRONMENT: "environment",
    FaultCause.MISUSE: "misuse",
    FaultCause.UNAUTHORISED_REPAIR: "misuse",
    FaultCause.MODIFICATION: "misuse",
    FaultCause.FIRE: "environment",
    FaultCause.LIGHTNING: "environment",
    FaultCause.FLOOD: "environment",
}

_SEVERITY: dict[Severity, str] = {Severity.PASS: "info", Severity.WARN: "warning", Severity.FAIL: "blocking"}


def cause_of(contract_cause: str | None) -> FaultCause:
    """A contract fault cause as the domain knows it (wear and no fault found are not quality faults)."""
    if contract_cause in ("wear", "no_fault_found", None):
        return FaultCause.UNKNOWN
    return FaultCause(contract_cause)


def actor_of(subject: str, *, partner: bool) -> Actor:
    return Actor(kind="partner" if partner else "user", id=subject[:64])


def _money(money: Money) -> MoneyAmount:
    return MoneyAmount.of(money)


def _text(text: str) -> str:
    return text if len(text) <= 500 else text[:497] + "..."


# --- units --------------------------------------------------------------------------------------


def unit_facts(unit: RegisteredUnit, model: ProductModel, policy: WarrantyPolicy) -> c.UnitFacts:
    period = warranty_period(unit, policy)
    card = unit.card_received_on
    return c.UnitFacts(
        serial_number=unit.serial,
        model_code=unit.model_code,
        product_line=model.line_code,
        model_grade=model.grade,
        customer_id=unit.customer_id,
        dealer_id=unit.dealer_id,
        sale_date=unit.sold_on,
        installation_date=unit.installed_on,
        installer_id=unit.installer_id,
        registration_card_received_on=card,
        registered_late=card is not None
        and not registered_on_time(unit, within_days=policy.registration_days),
        policy_id=policy.policy_id,
        policy_version=policy.version,
        warranty_starts_on=period.starts_on if period else None,
        repair_coverage_ends_on=period.repair_until if period else None,
    )


def unit_registered(
    unit: RegisteredUnit,
    model: ProductModel,
    policy: WarrantyPolicy,
    *,
    channel: str,
    at: datetime,
    by: Actor,
) -> c.UnitRegistered:
    return c.UnitRegistered(
        serial_number=unit.serial,
        version=1,
        unit=unit_facts(unit, model, policy),
        dealer_id=unit.dealer_id,
        channel=channel,
        registered_at=at,
        registered_by=by,
    )


def unit_updated(
    unit: RegisteredUnit,
    model: ProductModel,
    policy: WarrantyPolicy,
    *,
    version: int,
    changed_fields: Sequence[str],
    at: datetime,
    by: Actor,
) -> c.UnitUpdated:
    return c.UnitUpdated(
        serial_number=unit.serial,
        version=version,
        unit=unit_facts(unit, model, policy),
        changed_fields=list(changed_fields)[:30],
        dealer_id=unit.dealer_id,
        updated_at=at,
        updated_by=by,
    )


def changed_facts(before: c.UnitFacts, after: c.UnitFacts) -> list[str]:
    """The names of the unit facts that differ."""
    old, new = before.model_dump(), after.model_dump()
    return [name for name in new if old.get(name) != new[name]]


def unit_transferred(
    unit: RegisteredUnit, *, version: int, from_customer_id: str, at: datetime, by: Actor
) -> c.UnitTransferred:
    return c.UnitTransferred(
        serial_number=unit.serial,
        version=version,
        from_customer_id=from_customer_id,
        to_customer_id=unit.customer_id,
        transferred_on=unit.owners[-1].from_date,
        dealer_id=unit.dealer_id,
        recorded_at=at,
        recorded_by=by,
    )


# --- entitlement --------------------------------------------------------------------------------


def entitlement_determined(
    entitlement: Entitlement,
    *,
    entitlement_id: str,
    policy: WarrantyPolicy | None,
    cause: FaultCause,
    ticket_id: str | None,
    customer_id: str | None,
    dealer_id: str | None,
    at: datetime,
) -> c.EntitlementDetermined:
    repair = entitlement.remedy(RemedyKind.REPAIR)
    pays = repair.customer_pays if repair is not None else None
    covered = entitlement.coverage is Coverage.COVERED and repair is not None
    coverage: c.Coverage
    if entitlement.coverage is Coverage.UNREGISTERED:
        coverage = "unregistered"
    elif not covered:
        coverage = "not_covered"
    elif pays is not None and pays.total.amount > 0:
        coverage = "partially_covered"
    else:
        coverage = "covered"
    basis = entitlement.basis
    by_contract = bool(basis.contract_ids) and (
        basis.warranty_ends_on is None or entitlement.decided_on > basis.warranty_ends_on
    )
    exclusion = policy.excludes(cause) if policy is not None else None
    return c.EntitlementDetermined(
        entitlement_id=entitlement_id,
        ticket_id=ticket_id,
        serial_number=entitlement.serial,
        model_code=entitlement.model_code,
        customer_id=customer_id,
        dealer_id=dealer_id,
        as_of=entitlement.decided_on,
        coverage=coverage,
        billing=("contract" if by_contract else "warranty") if covered else "customer",
        remedies=remedy_options(entitlement),
        expires_on=entitlement.expires_on,
        basis="service_contract"
        if by_contract
        else (_BASIS[basis.start_event] if basis.start_event else "none"),
        basis_date=basis.starts_on,
        policy_id=basis.policy_id,
        policy_version=basis.policy_version,
        contract_id=basis.contract_ids[0] if by_contract else None,
        parts_covered=covered and (pays is None or pays.parts.amount == 0),
        labour_covered=covered and (pays is None or pays.labour.amount == 0),
        travel_covered=covered and (pays is None or pays.travel.amount == 0),
        exclusions=[exclusion.value] if exclusion is not None else [],
        reasons=[Reason(code=entitlement.coverage.value, message=_text(r)) for r in entitlement.reasons[:20]],
        missing_evidence=[_text(r) for r in entitlement.requires[:10]],
        determined_at=at,
    )


def remedy_options(entitlement: Entitlement) -> list[c.RemedyOption]:
    options: dict[str, c.RemedyOption] = {}
    for remedy in entitlement.remedies:
        kind: c.Remedy
        if remedy.kind in (RemedyKind.EXCHANGE, RemedyKind.REPLACEMENT):
            kind = "exchange"
        elif remedy.kind is RemedyKind.REFUND:
            kind = "refund"
        elif remedy.kind is RemedyKind.REPAIR and remedy.is_free:
            kind = "free_repair"
        else:
            kind = "paid_repair"
        if kind in options:
            continue
        price = remedy.customer_pays.total if remedy.customer_pays is not None else None
        options[kind] = c.RemedyOption(
            remedy=kind, available_until=remedy.until, price_estimate=_money(price) if price else None
        )
    return list(options.values())


def replacement_eligible(
    eligibility: ReplacementEligibility,
    *,
    serial: str,
    model: ProductModel | None,
    model_code: str,
    customer_id: str | None,
    dealer_id: str | None,
    ticket_id: str | None,
    window_days: int,
    first_repair_at: datetime,
    latest_repair_at: datetime,
    at: datetime,
) -> c.ReplacementEligible:
    return c.ReplacementEligible(
        serial_number=serial,
        model_code=model_code,
        model_grade=model.grade if model is not None else None,
        customer_id=customer_id,
        dealer_id=dealer_id,
        ticket_id=ticket_id,
        fault_code=eligibility.fault_code,
        repairs_counted=eligibility.repairs_counted,
        window_days=window_days,
        work_order_ids=[r.work_order_id for r in eligibility.repairs if r.work_order_id][:20] or ["unknown"],
        first_repair_at=first_repair_at,
        latest_repair_at=latest_repair_at,
        determined_at=at,
    )


# --- claims -------------------------------------------------------------------------------------


def findings(appraisal: Appraisal | None) -> list[c.AppraisalFinding]:
    if appraisal is None:
        return []
    return [_finding(f) for f in appraisal.findings[:50]]


def _finding(f: Finding) -> c.AppraisalFinding:
    return c.AppraisalFinding(code=f.code.value, severity=_SEVERITY[f.severity], message=_text(f.reason))


def claim_events(
    claim: Claim,
    *,
    claim_number: str,
    version: int,
    origin: str,
    by: Actor,
    model_code: str,
    deductions: Sequence[Deduction] = (),
) -> list[EventPayload]:
    """The contract events for the domain events ``claim`` raised (drains them); ``deductions`` are
    what the statement that settles the claim takes back from it."""
    base = {
        "claim_id": claim.claim_id,
        "claim_number": claim_number,
        "version": version,
        "dealer_id": claim.dealer_id,
        "work_order_id": claim.record.work_order_id,
        "serial_number": claim.serial,
    }
    out: list[EventPayload] = []
    for event in claim.pull_events():
        if isinstance(event, domain_claim_events.ClaimSubmitted):
            out.append(_submitted(claim, base, origin=origin, by=by, model_code=model_code, at=event.at))
        elif isinstance(event, domain_claim_events.ClaimApproved):
            out.append(
                c.ClaimApproved(
                    **base,
                    partial=event.partial,
                    claimed=_money(event.claimed),
                    approved=_money(event.approved),
                    adjustments=[
                        c.Adjustment(
                            code="line_removed",
                            message=_text(f"{line}: {reason}"),
                            amount=_money(claim.line(line).amount.times(-1)),
                        )
                        for line, reason in event.removed_lines
                    ],
                    findings=findings(claim.appraisal),
                    automatic=event.actor == AUTOMATIC,
                    decided_at=event.at,
                    decided_by=SYSTEM if event.actor == AUTOMATIC else by,
                )
            )
        elif isinstance(event, domain_claim_events.ClaimRejected):
            out.append(
                c.ClaimRejected(
                    **base,
                    claimed=_money(event.claimed),
                    reasons=[Reason(code="rejected", message=_text(r)) for r in event.reasons[:20]],
                    findings=findings(claim.appraisal),
                    automatic=event.actor == AUTOMATIC,
                    decided_at=event.at,
                    decided_by=SYSTEM if event.actor == AUTOMATIC else by,
                )
            )
        elif isinstance(event, domain_claim_events.ClaimReturnedForInformation):
            out.append(
                c.ClaimReturned(
                    **base,
                    requested_information=[_text(event.questions)],
                    returned_at=event.at,
                    returned_by=by,
                )
            )
        elif isinstance(event, domain_claim_events.ClaimSettled):
            taken = [d for d in deductions if d.claim_id == claim.claim_id]
            settled = event.approved
            for deduction in taken:
                settled = settled - deduction.amount
            out.append(
                c.ClaimSettled(
                    **base,
                    statement_id=event.statement_id,
                    approved=_money(event.approved),
                    deductions=[
                        c.Adjustment(
                            code="old_part_not_returned",
                            message=_text(d.reason),
                            amount=_money(d.amount.times(-1)),
                        )
                        for d in taken[:30]
                    ],
                    settled=_money(settled),
                    settled_at=event.at,
                )
            )
    if claim.state is ClaimState.UNDER_REVIEW and claim.appraisal is not None and claim.appraisal.findings:
        out.append(
            c.ClaimUnderReview(
                **base,
                findings=findings(claim.appraisal),
                claimed=_money(claim.total),
                review_due_at=claim.review_due_at,
                queued_at=by_time(claim),
            )
        )
    return out


def settlement_issued(statement: SettlementStatement, *, at: datetime, by: Actor) -> c.SettlementIssued:
    currency = statement.totals[0].currency if statement.totals else "EUR"
    total = statement.total(currency)
    return c.SettlementIssued(
        statement_id=statement.statement_id,
        dealer_id=statement.dealer_id,
        period_start=statement.period_start,
        period_end=statement.period_end,
        claim_ids=list(statement.claim_ids),
        claim_count=len(statement.claim_ids),
        gross=_money(total.approved),
        deductions=_money(total.deducted),
        net=_money(total.net),
        issued_at=at,
        issued_by=by,
    )


def by_time(claim: Claim) -> datetime:
    return claim.history[-1].at


def _submitted(
    claim: Claim, base: dict[str, object], *, origin: str, by: Actor, model_code: str, at: datetime
) -> c.ClaimSubmitted:
    record = claim.record
    lines = {line.line_id: line for line in claim.lines}
    labour = lines["labour"].amount if "labour" in lines else Money.zero(claim.currency)
    travel = lines["travel"].amount if "travel" in lines else Money.zero(claim.currency)
    parts = Money.zero(claim.currency)
    for line in claim.lines:
        if line.part is not None:
            parts = parts + line.amount
    return c.ClaimSubmitted(
        **base,
        model_code=model_code,
        origin=origin,
        fault_code=record.fault_code,
        cause=_CAUSE_OUT[record.cause],
        actions=[_text(a) for a in record.actions[:30]],
        repair_date=record.repaired_on,
        labour_minutes=record.labour_minutes,
        travel_km=int(record.travel_km) if record.travel_km else None,
        parts=[
            c.ClaimPartLine(
                part_number=p.part_number,
                quantity=p.quantity,
                new_part_serial=p.new_part_serial,
                old_part_serial=p.old_part_serial,
                unit_price=_money(p.amount),
            )
            for p in claim.parts[:100]
        ],
        amounts=c.ClaimAmounts(
            labour=_money(labour), parts=_money(parts), travel=_money(travel), total=_money(claim.total)
        ),
        customer_signature=_attachment(claim.customer_signature_ref, "signature"),
        photos=[AttachmentRef(attachment_id=p, kind="photo") for p in claim.photo_refs[:30]],
        submitted_at=at,
        submitted_by=by,
    )


def _attachment(ref: str | None, kind: Literal["signature", "photo"]) -> AttachmentRef | None:
    return None if ref is None else AttachmentRef(attachment_id=ref, kind=kind)


__all__: Sequence[str] = [
    "SYSTEM",
    "actor_of",
    "cause_of",
    "claim_events",
    "entitlement_determined",
    "remedy_options",
    "replacement_eligible",
    "settlement_issued",
    "unit_registered",
    "unit_transferred",
    "unit_updated",
]
