"""Claims: submission with automatic appraisal, saving with their events, and the review deadline
(a durable timer per claim in the reviewer queue; when it fires the claim is escalated)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from contracts.common import Actor
from kit import scheduler
from kit.db import UnitOfWork
from kit.domain import NotFound
from warranty import events, settings, store
from warranty.domain import WarrantyPolicy
from warranty.domain.claims import AppraisalContext, Claim, ClaimState, appraise
from warranty.domain.settlement import Deduction

log = logging.getLogger(__name__)

#: the timer of a claim waiting in the reviewer queue, due at its review deadline
REVIEW_DUE = "warranty.claim.review_due"


async def save_claim(
    uow: UnitOfWork,
    claim: Claim,
    *,
    version: int,
    claim_number: str,
    origin: str,
    by: Actor,
    model_code: str | None = None,
    deductions: Sequence[Deduction] = (),
) -> int:
    """Save a changed claim, emit the events it raised, and keep its review timer in step with it
    (pending while it waits in the reviewer queue); returns its new version."""
    version = await store.update_claim(uow.conn, claim, version=version, at=uow.now())
    for payload in events.claim_events(
        claim,
        claim_number=claim_number,
        version=version,
        origin=origin,
        by=by,
        model_code=model_code or claim.model_code or "unknown",
        deductions=deductions,
    ):
        uow.emit(payload)
    if claim.in_review_queue and claim.review_due_at is not None and claim.escalated_at is None:
        await scheduler.schedule(
            uow,
            kind=REVIEW_DUE,
            key=claim.claim_id,
            due_at=claim.review_due_at,
            payload={"claim_id": claim.claim_id},
        )
    else:
        await scheduler.cancel(uow, kind=REVIEW_DUE, key=claim.claim_id)
    return version


async def submit_claim(
    uow: UnitOfWork, claim: Claim, *, version: int, claim_number: str, origin: str, by: Actor
) -> int:
    """Submit (or resubmit) a claim, appraise it at once, save it and emit its events."""
    now = uow.now()
    if claim.state is ClaimState.RETURNED_FOR_INFORMATION:
        claim.resubmit(at=now, actor=by.id or by.kind)
    else:
        claim.submit(at=now, actor=by.id or by.kind)
    model_code = await appraise_claim(uow, claim)
    return await save_claim(
        uow, claim, version=version, claim_number=claim_number, origin=origin, by=by, model_code=model_code
    )


async def appraise_claim(uow: UnitOfWork, claim: Claim) -> str:
    """Run the automatic appraisal on a submitted claim; returns the unit's model code."""
    conn = uow.conn
    catalogue = await store.catalogue(conn)
    found = await store.get_unit(conn, claim.serial)
    unit = found[0] if found else None
    model_code = unit.model_code if unit else (claim.model_code or "unknown")
    model = catalogue.model(model_code)
    policy: WarrantyPolicy | None = None
    line = None
    if model is not None and unit is not None:
        line = catalogue.line_of(model)
        try:
            policy = catalogue.policy_for(model, unit.sold_on)
        except NotFound:
            policy = None
    old_serials = [p.old_part_serial for p in claim.parts if p.old_part_serial]
    context = AppraisalContext(
        on=uow.now().date(),
        unit=unit,
        policy=policy,
        model=model,
        line=line,
        contracts=await store.contracts_for(conn, claim.serial),
        other_claims=[
            c for c in await store.claims_for_serial(conn, claim.serial) if c.claim_id != claim.claim_id
        ],
        returns=await store.part_returns_for(conn, old_serials),
    )
    claim.apply_appraisal(
        appraise(claim, context),
        at=uow.now(),
        actor=events.AUTOMATIC,
        review_within=settings.current().review_within,
    )
    return model_code


async def escalate_overdue_review(uow: UnitOfWork, claim_id: str) -> bool:
    """The review deadline of a claim passed: escalate it if it is still waiting for a reviewer."""
    found = await store.get_claim(uow.conn, claim_id)
    if found is None:
        return False
    claim, version, _, _ = found
    if not claim.escalate_overdue_review(at=uow.now(), actor=events.AUTOMATIC):
        return False
    await store.update_claim(uow.conn, claim, version=version, at=uow.now())
    uow.audit(
        actor=events.AUTOMATIC,
        action="claim.escalated",
        entity_type="claim",
        entity_id=claim_id,
        review_due_at=claim.review_due_at.isoformat() if claim.review_due_at else None,
    )
    log.warning("claim %s waits for a reviewer past its deadline; escalated", claim_id)
    return True
