"""Dealer claims: create, edit drafts and submit (partner API), list and read (dealer-scoped),
reviewer decisions; claims waiting past their review deadline are flagged ``escalated``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kit.auth import Principal
from kit.concurrency import IfMatch, check_if_match, etag
from kit.db import UnitOfWork
from kit.dealers import dealer_scope, ensure_visible
from kit.deps import Db
from kit.domain import NotFound
from kit.idempotency import IdempotencyKey, json_response, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of
from warranty import operations, store
from warranty.api.common import (
    AnyStaff,
    ClaimWriter,
    MoneyDto,
    Reviewer,
    acting_dealer,
    actor,
)
from warranty.domain import FaultCause
from warranty.domain.claims import Claim, ClaimState, RepairRecord, ReplacedPart

router = APIRouter(tags=["claims"])

Ref = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class PartIn(BaseModel):
    part_number: Annotated[str, Field(min_length=1, max_length=60)]
    amount: MoneyDto
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1
    old_part_serial: Annotated[str, Field(max_length=64)] | None = None
    new_part_serial: Annotated[str, Field(max_length=64)] | None = None


class ClaimContentIn(BaseModel):
    """What a claim asks to be paid for: the repair record and the parts replaced."""

    work_order_id: Ref | None = None
    fault_code: Annotated[str, Field(min_length=1, max_length=40)]
    cause: FaultCause
    failed_on: date
    repaired_on: date
    labour_minutes: Annotated[int, Field(ge=0, le=10_000)]
    labour_amount: MoneyDto
    actions: list[Text] = Field(default_factory=list, max_length=30)
    travel_km: Annotated[Decimal, Field(ge=0, le=10_000)] = Decimal(0)
    travel_amount: MoneyDto | None = None
    parts: list[PartIn] = Field(default_factory=list, max_length=100)
    customer_signature_ref: Ref | None = None
    photo_refs: list[Ref] = Field(default_factory=list, max_length=30)

    def record(self) -> RepairRecord:
        return RepairRecord(
            fault_code=self.fault_code,
            cause=self.cause,
            failed_on=self.failed_on,
            repaired_on=self.repaired_on,
            labour_minutes=self.labour_minutes,
            labour_amount=self.labour_amount.money(),
            actions=tuple(self.actions),
            travel_km=self.travel_km,
            travel_amount=self.travel_amount.money() if self.travel_amount else None,
            work_order_id=self.work_order_id,
        )

    def replaced_parts(self) -> list[ReplacedPart]:
        return [
            ReplacedPart(p.part_number, p.amount.money(), p.old_part_serial, p.new_part_serial, p.quantity)
            for p in self.parts
        ]


class ClaimIn(ClaimContentIn):
    serial: Ref
    dealer_id: Ref | None = Field(default=None, description="A dealer token claims for itself only")
    submit: bool = Field(default=False, description="Submit at once (else the claim stays a draft)")


class LineOut(BaseModel):
    line_id: str
    kind: str
    amount: MoneyDto
    part_number: str | None = None
    old_part_serial: str | None = None
    removed_reason: str | None = None


class FindingOut(BaseModel):
    code: str
    severity: str
    reason: str
    line_id: str | None = None


class TransitionOut(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    note: str


class ClaimOut(BaseModel):
    claim_id: str
    claim_number: str
    origin: str
    dealer_id: str
    serial: str
    model_code: str | None
    work_order_id: str | None
    fault_code: str
    state: ClaimState
    claimed: MoneyDto
    approved: MoneyDto | None
    lines: list[LineOut]
    findings: list[FindingOut]
    allowed_actions: list[str]
    review_due_at: datetime | None = Field(
        description="When a reviewer must have decided, while in the queue"
    )
    escalated: bool = Field(description="Still waiting for a reviewer after its review deadline")
    history: list[TransitionOut]
    version: int

    @classmethod
    def of(cls, claim: Claim, *, claim_number: str, origin: str, version: int) -> ClaimOut:
        appraisal = claim.appraisal
        return cls(
            claim_id=claim.claim_id,
            claim_number=claim_number,
            origin=origin,
            dealer_id=claim.dealer_id,
            serial=claim.serial,
            model_code=claim.model_code,
            work_order_id=claim.record.work_order_id,
            fault_code=claim.record.fault_code,
            state=claim.state,
            claimed=MoneyDto.of(claim.total),
            approved=MoneyDto.of(claim.approved_amount) if claim.approved_amount is not None else None,
            lines=[
                LineOut(
                    line_id=line.line_id,
                    kind=line.kind.value,
                    amount=MoneyDto.of(line.amount),
                    part_number=line.part.part_number if line.part else None,
                    old_part_serial=line.part.old_part_serial if line.part else None,
                    removed_reason=claim.removed_lines.get(line.line_id),
                )
                for line in claim.lines
            ],
            findings=[
                FindingOut(code=f.code.value, severity=f.severity.value, reason=f.reason, line_id=f.line_id)
                for f in (appraisal.findings if appraisal else ())
            ],
            allowed_actions=claim.allowed_actions(),
            review_due_at=claim.review_due_at if claim.in_review_queue else None,
            escalated=claim.escalated,
            history=[
                TransitionOut(
                    action=t.action,
                    from_state=t.from_state.value if t.from_state else None,
                    to_state=t.to_state.value,
                    at=t.at,
                    actor=t.actor,
                    note=t.note,
                )
                for t in claim.history
            ],
            version=version,
        )


def _by(principal: Principal) -> str:
    return principal.actor


@router.post("/claims", status_code=201, response_model=ClaimOut)
async def create_claim(
    body: ClaimIn, request: Request, db: Db, principal: ClaimWriter, key: IdempotencyKey = None
) -> Response:
    dealer_id = acting_dealer(principal, body.dealer_id)
    origin = "partner_api" if principal.is_partner else "agent"

    async def create(uow: UnitOfWork) -> ClaimOut:
        found = await store.get_unit(uow.conn, body.serial)
        claim = Claim.open(
            claim_id=str(uuid.uuid4()),
            dealer_id=dealer_id,
            serial=body.serial,
            record=body.record(),
            parts=body.replaced_parts(),
            at=uow.now(),
            actor=_by(principal),
            model_code=found[0].model_code if found else None,
            customer_signature_ref=body.customer_signature_ref,
            photo_refs=body.photo_refs,
        )
        await store.insert_claim(uow.conn, claim, origin=origin, at=uow.now())
        number = store.new_claim_number(claim.claim_id)
        version = 1
        if body.submit:
            version = await operations.submit_claim(
                uow, claim, version=1, claim_number=number, origin=origin, by=actor(principal)
            )
        uow.audit(
            actor=principal.actor, action="claim.created", entity_type="claim", entity_id=claim.claim_id
        )
        return ClaimOut.of(claim, claim_number=number, origin=origin, version=version)

    return await run_idempotent(request, db, key, create, headers=_etag_of)


async def _load(
    uow: UnitOfWork, claim_id: str, principal: Principal, if_match: str | None
) -> tuple[Claim, int, str, str]:
    found = await store.get_claim(uow.conn, claim_id)
    if found is None:
        raise NotFound(f"claim {claim_id} not found")
    ensure_visible(principal, found[0].dealer_id, f"claim {claim_id}")
    check_if_match(if_match, found[1])
    return found


@router.put("/claims/{claim_id}", response_model=ClaimOut)
async def edit_claim(
    claim_id: str, body: ClaimContentIn, db: Db, principal: ClaimWriter, if_match: IfMatch = None
) -> Response:
    """Replace what a draft (or a claim returned for information) claims; send ``If-Match`` with the
    claim's ``ETag`` so a stale edit gets 412 rather than overwriting another's."""
    async with db.transaction() as uow:
        claim, version, number, origin = await _load(uow, claim_id, principal, if_match)
        claim.revise(
            at=uow.now(),
            actor=_by(principal),
            record=body.record(),
            parts=body.replaced_parts(),
            customer_signature_ref=body.customer_signature_ref,
            photo_refs=body.photo_refs,
        )
        version = await operations.save_claim(
            uow, claim, version=version, claim_number=number, origin=origin, by=actor(principal)
        )
        uow.audit(actor=principal.actor, action="claim.revised", entity_type="claim", entity_id=claim_id)
    return json_response(
        ClaimOut.of(claim, claim_number=number, origin=origin, version=version), etag=etag(version)
    )


@router.post("/claims/{claim_id}/submit", response_model=ClaimOut)
async def submit_claim(claim_id: str, db: Db, principal: ClaimWriter, if_match: IfMatch = None) -> Response:
    """Submit a draft (or answer a return for information); the automatic appraisal runs at once."""
    async with db.transaction() as uow:
        claim, version, number, origin = await _load(uow, claim_id, principal, if_match)
        version = await operations.submit_claim(
            uow, claim, version=version, claim_number=number, origin=origin, by=actor(principal)
        )
        uow.audit(actor=principal.actor, action="claim.submitted", entity_type="claim", entity_id=claim_id)
    return json_response(
        ClaimOut.of(claim, claim_number=number, origin=origin, version=version), etag=etag(version)
    )


@router.get("/claims/{claim_id}", response_model=ClaimOut)
async def get_claim(claim_id: str, db: Db, principal: AnyStaff) -> Response:
    async with db.engine.connect() as conn:
        found = await store.get_claim(conn, claim_id)
    if found is None:
        raise NotFound(f"claim {claim_id} not found")
    claim, version, number, origin = found
    ensure_visible(principal, claim.dealer_id, f"claim {claim_id}")
    return json_response(
        ClaimOut.of(claim, claim_number=number, origin=origin, version=version), etag=etag(version)
    )


@router.get("/claims")
async def list_claims(
    db: Db,
    principal: AnyStaff,
    state: ClaimState | None = None,
    escalated: Annotated[
        bool | None,
        Query(description="Only claims in the reviewer queue past (true) or within (false) their deadline"),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ClaimOut]:
    """Claims, oldest first; the reviewer queue is ``?state=under_review``, its overdue part
    ``?escalated=true``. A dealer sees its own."""
    after_values = decode_cursor(cursor)
    after = (datetime.fromisoformat(after_values[0]), str(after_values[1])) if after_values else None
    async with db.engine.connect() as conn:
        rows = await store.list_claims(
            conn,
            dealer_id=dealer_scope(principal),
            state=state.value if state else None,
            after=after,
            limit=limit + 1,
            escalated=escalated,
        )
    created = {c.claim_id: at for c, _, at, _, _ in rows}
    items = [ClaimOut.of(c, claim_number=n, origin=o, version=v) for c, n, _, o, v in rows]
    return page_of(items, limit, lambda c: (created[c.claim_id], c.claim_id))


class RejectIn(BaseModel):
    reasons: list[Text] = Field(min_length=1, max_length=20)


class PartialIn(BaseModel):
    removed_lines: dict[Annotated[str, Field(max_length=20)], Text] = Field(min_length=1, max_length=100)


class ReturnIn(BaseModel):
    questions: Annotated[str, Field(min_length=1, max_length=2000)]


async def _review(
    db: Db,
    claim_id: str,
    principal: Principal,
    if_match: str | None,
    decide: Callable[[Claim, datetime], None],
) -> Response:
    async with db.transaction() as uow:
        claim, version, number, origin = await _load(uow, claim_id, principal, if_match)
        decide(claim, uow.now())
        version = await operations.save_claim(
            uow, claim, version=version, claim_number=number, origin=origin, by=actor(principal)
        )
        uow.audit(
            actor=principal.actor,
            action=f"claim.{claim.state.value}",
            entity_type="claim",
            entity_id=claim_id,
        )
    return json_response(
        ClaimOut.of(claim, claim_number=number, origin=origin, version=version), etag=etag(version)
    )


@router.post("/claims/{claim_id}/approve", response_model=ClaimOut)
async def approve_claim(claim_id: str, db: Db, principal: Reviewer, if_match: IfMatch = None) -> Response:
    return await _review(
        db, claim_id, principal, if_match, lambda c, at: c.approve(at=at, actor=principal.actor)
    )


@router.post("/claims/{claim_id}/partially-approve", response_model=ClaimOut)
async def partially_approve_claim(
    claim_id: str, body: PartialIn, db: Db, principal: Reviewer, if_match: IfMatch = None
) -> Response:
    return await _review(
        db,
        claim_id,
        principal,
        if_match,
        lambda c, at: c.partially_approve(at=at, actor=principal.actor, removed_lines=body.removed_lines),
    )


@router.post("/claims/{claim_id}/reject", response_model=ClaimOut)
async def reject_claim(
    claim_id: str, body: RejectIn, db: Db, principal: Reviewer, if_match: IfMatch = None
) -> Response:
    return await _review(
        db,
        claim_id,
        principal,
        if_match,
        lambda c, at: c.reject(at=at, actor=principal.actor, reasons=body.reasons),
    )


@router.post("/claims/{claim_id}/return", response_model=ClaimOut)
async def return_claim(
    claim_id: str, body: ReturnIn, db: Db, principal: Reviewer, if_match: IfMatch = None
) -> Response:
    return await _review(
        db,
        claim_id,
        principal,
        if_match,
        lambda c, at: c.return_for_information(at=at, actor=principal.actor, questions=body.questions),
    )


def _etag_of(created: BaseModel) -> dict[str, str]:
    """The ETag of what was just created, so the next change can send ``If-Match`` straight away."""
    assert isinstance(created, ClaimOut)
    return {"ETag": etag(created.version)}
