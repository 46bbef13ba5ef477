"""Dealer settlement: issue a statement (or hold it for finance approval), approve a held one, and
the schedule that issues every dealer's statement once per period.

The schedule is a chain of durable timers: the run of a period fans out one timer per dealer to
settle (each its own transaction, retried on its own) and sets the run of the next period. At
most one statement exists per dealer and period, so a run fired twice issues nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, OperationalError

from contracts.common import Actor
from kit import scheduler
from kit.db import UnitOfWork
from kit.domain import Conflict, NotFound
from warranty import events, settings, store
from warranty.domain.claims import Claim, ClaimRules
from warranty.domain.settlement import (
    SettlementPeriod,
    SettlementSchedule,
    SettlementStatement,
    StatementStatus,
    build_statement,
    check_approver,
    deductions_of,
    needs_finance_approval,
    settle_claims,
    statement_from_json,
    statement_to_csv,
    statement_to_json,
)
from warranty.operations.claims import save_claim

if TYPE_CHECKING:
    from kit.runtime import Runtime

log = logging.getLogger(__name__)

#: the timer of one settlement period's run (key: the period)
SETTLEMENT_RUN = "warranty.settlement.run"
#: the timer that settles one dealer for one period (key: dealer and period)
SETTLE_DEALER = "warranty.settlement.dealer"


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _document(statement: SettlementStatement, status: StatementStatus) -> dict[str, Any]:
    return {
        "json": {**statement_to_json(statement), "status": status.value},
        "csv": statement_to_csv(statement),
    }


async def issue_statement(
    uow: UnitOfWork,
    *,
    dealer_id: str,
    period: SettlementPeriod,
    prepared_by: str,
    by: Actor,
    skip_empty: bool = False,
) -> dict[str, Any] | None:
    """Prepare the dealer's statement for ``period``: it pays the approved claims not yet paid and
    deducts old parts not returned by their deadline. Issued at once (claims settled, events out),
    or held for finance when it pays more than the approval limit. Returns the statement as JSON
    (None when ``skip_empty`` and there is nothing to pay or deduct); 409 if the dealer already
    has a statement for the period."""
    conn = uow.conn
    if await store.statement_for(conn, dealer_id, period) is not None:
        raise Conflict(f"dealer {dealer_id} already has a statement for {period}", code="statement-exists")
    payable = await store.claims_for_dealer(conn, dealer_id, decided_until=_end_of(period.end))
    rules = ClaimRules()
    settled = await store.settled_claims_for_dealer(
        conn, dealer_id, repaired_since=period.start - timedelta(days=rules.old_part_return_days)
    )
    claims = [*payable, *settled]
    serials = [p.old_part_serial for cl in claims for p in cl.parts if p.old_part_serial]
    statement = build_statement(
        statement_id=str(uuid.uuid4()),
        dealer_id=dealer_id,
        period_start=period.start,
        period_end=period.end,
        issued_on=uow.now().date(),
        claims=claims,
        returns=await store.part_returns_for(conn, serials),
        rules=rules,
    )
    if skip_empty and not statement.lines and not statement.deductions:
        return None
    held = needs_finance_approval(statement, settings.current().settlement_approval_above)
    status = StatementStatus.AWAITING_APPROVAL if held else StatementStatus.ISSUED
    if not held:
        await _issue(uow, statement, payable, by=by)
    document = _document(statement, status)
    await store.save_statement(
        conn,
        statement_id=statement.statement_id,
        dealer_id=dealer_id,
        period=period,
        issued_on=statement.issued_on,
        status=status,
        claim_ids=statement.claim_ids,
        prepared_by=prepared_by,
        document=document,
        at=uow.now(),
    )
    uow.audit(
        actor=prepared_by,
        action="settlement.issued" if not held else "settlement.held_for_approval",
        entity_type="settlement",
        entity_id=statement.statement_id,
        dealer_id=dealer_id,
    )
    return dict(document["json"])


async def _issue(uow: UnitOfWork, statement: SettlementStatement, claims: list[Claim], *, by: Actor) -> None:
    """Settle the statement's claims and announce them and the statement."""
    paid = [c for c in claims if c.claim_id in statement.claim_ids]
    settle_claims(statement, paid, at=uow.now(), actor=by.id or by.kind)
    for claim in paid:
        found = await store.get_claim(uow.conn, claim.claim_id)
        assert found is not None
        _, version, number, origin = found
        await save_claim(
            uow,
            claim,
            version=version,
            claim_number=number,
            origin=origin,
            by=by,
            deductions=deductions_of(statement, claim.claim_id),
        )
    uow.emit(events.settlement_issued(statement, at=uow.now(), by=by))


async def approve_statement(
    uow: UnitOfWork, statement_id: str, *, approver: str, by: Actor
) -> dict[str, Any]:
    """Finance approves a held statement: it is issued now (claims settled, events out)."""
    stored = await store.get_statement(uow.conn, statement_id)
    if stored is None:
        raise NotFound(f"settlement statement {statement_id} not found")
    if stored.status is not StatementStatus.AWAITING_APPROVAL:
        raise Conflict(
            f"statement {statement_id} is {stored.status.value}", code="statement-not-awaiting-approval"
        )
    check_approver(prepared_by=stored.prepared_by or "", approver=approver)
    statement = replace(statement_from_json(stored.document["json"]), issued_on=uow.now().date())
    claims = [claim for claim, _, _, _ in await store.claims_by_id(uow.conn, stored.claim_ids)]
    await _issue(uow, statement, claims, by=by)
    document = _document(statement, StatementStatus.ISSUED)
    await store.mark_statement_issued(
        uow.conn, statement_id, approved_by=approver, document=document, at=uow.now()
    )
    uow.audit(actor=approver, action="settlement.approved", entity_type="settlement", entity_id=statement_id)
    return dict(document["json"])


# --- the schedule -------------------------------------------------------------------------------


def _period_payload(period: SettlementPeriod) -> dict[str, str]:
    return {"period_start": period.start.isoformat(), "period_end": period.end.isoformat()}


def period_of(payload: dict[str, Any]) -> SettlementPeriod:
    return SettlementPeriod(
        date.fromisoformat(payload["period_start"]), date.fromisoformat(payload["period_end"])
    )


async def schedule_run(uow: UnitOfWork, schedule: SettlementSchedule, period: SettlementPeriod) -> None:
    await scheduler.schedule(
        uow,
        kind=SETTLEMENT_RUN,
        key=str(period),
        due_at=schedule.issue_at(period),
        payload=_period_payload(period),
    )


async def ensure_settlement_run(uow: UnitOfWork, schedule: SettlementSchedule) -> None:
    """Set the next settlement run unless one is pending (a pending one keeps its period, so a run
    missed while the service was down still happens)."""
    if any(timer.kind == SETTLEMENT_RUN for timer in await scheduler.pending(uow)):
        return
    await schedule_run(uow, schedule, schedule.next_due(uow.now()))


async def run_settlement(
    uow: UnitOfWork, period: SettlementPeriod, schedule: SettlementSchedule
) -> list[str]:
    """The run of ``period``: one settle-dealer timer per dealer with something to settle, and the
    next period's run. Returns the dealers."""
    rules = ClaimRules()
    dealers = await store.dealers_to_settle(
        uow.conn,
        until=_end_of(period.end),
        repaired_since=period.start - timedelta(days=rules.old_part_return_days),
    )
    for dealer_id in dealers:
        await scheduler.schedule(
            uow,
            kind=SETTLE_DEALER,
            key=f"{dealer_id}:{period}",
            due_at=uow.now(),
            payload={"dealer_id": dealer_id, **_period_payload(period)},
        )
    await schedule_run(uow, schedule, schedule.following(period))
    log.info("settlement run for %s: %d dealers", period, len(dealers))
    return dealers


async def settle_dealer(uow: UnitOfWork, dealer_id: str, period: SettlementPeriod) -> None:
    """Issue the dealer's statement for ``period`` unless it exists (or would be empty)."""
    if await store.statement_for(uow.conn, dealer_id, period) is not None:
        return
    await issue_statement(
        uow,
        dealer_id=dealer_id,
        period=period,
        prepared_by=events.AUTOMATIC,
        by=events.SYSTEM,
        skip_empty=True,
    )


async def keep_settlement_schedule(runtime: Runtime) -> None:
    """At start-up of a scheduler: make sure the next settlement run is set (retrying while the
    database is unreachable)."""
    while True:
        try:
            async with runtime.db.transaction() as uow:
                await ensure_settlement_run(uow, settings.current().schedule)
            return
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("settlement schedule not set yet: %s", exc.__class__.__name__)
            await asyncio.sleep(5)
