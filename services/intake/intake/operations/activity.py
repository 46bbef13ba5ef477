"""Facts from other services on a ticket's timeline, and the status changes they call for.

Warranty decides the entitlement, dispatch arranges and does the work, warranty settles the dealer's
claim: each fact arrives as an event, is kept as a local copy (the newest version wins) and goes on
the ticket's timeline at the time it happened. Events come late, twice and out of order, so:

- a timeline entry carries the fact's reference (entity, step, version): a replay leaves one entry;
- a status change happens only for a fact seen for the first time, and only where the ticket's
  state allows it (an old "assigned" arriving after "completed" changes nothing);
- the ticket is resolved when the last open work order of it is completed, never reopened by a
  late event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from intake.domain.common import Actor
from intake.domain.sla import TicketSla
from intake.domain.ticket_values import Resolution, TicketStatus
from intake.domain.tickets import TICKET_MACHINE, Ticket
from intake.operations.tickets import save_changed
from intake.store import customers as customer_store
from intake.store import sla as sla_store
from intake.store import tickets as store
from intake.store.tickets import StoredTicket
from kit.db import UnitOfWork

FINISHED_WORK = frozenset({"completed", "cancelled"})


async def locked_ticket(uow: UnitOfWork, ticket_id: str) -> StoredTicket | None:
    """The ticket (its survivor's, after a merge), locked for this transaction: facts about one
    ticket are applied one after the other, even when they arrive at once."""
    target = await store.surviving_ticket_id(uow, ticket_id)
    return await store.find_ticket(uow, target, for_update=True)


async def note_on_ticket(
    uow: UnitOfWork,
    ticket_id: str,
    *,
    kind: str,
    detail: str,
    at: datetime,
    actor: Actor,
    reference: str,
    then: Callable[[Ticket], None] | None = None,
    clocks: Callable[[TicketSla], None] | None = None,
    locked: StoredTicket | None = None,
) -> bool:
    """Put a fact on the ticket's timeline (its survivor's, after a merge) and, the first time only,
    apply ``then``. False when the ticket is unknown or the fact was already there."""
    stored = locked or await locked_ticket(uow, ticket_id)
    if stored is None:
        return False
    ticket = stored.ticket
    if not ticket.record_activity(kind=kind, detail=detail, at=at, actor=actor, reference=reference):
        return False
    if then is not None:
        then(ticket)
    await save_changed(uow, ticket, stored.version, await sla_store.load_settings(uow), clocks=clocks)
    return True


def _if_allowed(action: Callable[[Ticket], None], name: str) -> Callable[[Ticket], None]:
    def apply(ticket: Ticket) -> None:
        if TICKET_MACHINE.can(ticket.status, name):
            action(ticket)

    return apply


# --- warranty: entitlement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntitlementFact:
    entitlement_id: str
    ticket_id: str
    serial_number: str | None
    coverage: str
    billing: str
    remedies: list[dict[str, object]]
    expires_on: date | None
    reasons: list[dict[str, str]]
    determined_at: datetime


async def entitlement_determined(uow: UnitOfWork, fact: EntitlementFact) -> None:
    """Keep warranty's latest decision for the ticket (what the agent reads out) and note it."""
    locked = await locked_ticket(uow, fact.ticket_id)
    if locked is None:
        return  # a decision for a ticket that is not ours
    await store.keep_entitlement(
        uow,
        {
            "ticket_id": fact.ticket_id,
            "entitlement_id": fact.entitlement_id,
            "serial_number": fact.serial_number,
            "coverage": fact.coverage,
            "billing": fact.billing,
            "expires_on": fact.expires_on,
            "remedies": fact.remedies,
            "reasons": fact.reasons,
            "determined_at": fact.determined_at,
        },
    )
    remedies = ", ".join(str(r.get("remedy")) for r in fact.remedies) or "none"
    reasons = "; ".join(r.get("message", "") for r in fact.reasons)
    await note_on_ticket(
        uow,
        fact.ticket_id,
        kind="entitlement_determined",
        detail=f"{fact.coverage}, billed to {fact.billing}; remedies: {remedies}. {reasons}",
        at=fact.determined_at,
        actor=Actor.system("warranty"),
        reference=f"entitlement:{fact.entitlement_id}",
        locked=locked,
    )


# --- dispatch: work orders -----------------------------------------------------------------------------


class WorkStep(StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    RESCHEDULED = "rescheduled"
    STARTED = "started"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_LATE = "appointment_late"


# the state of the work order after each step, for the local copy (None: the step does not move it)
_STATE_AFTER = {
    WorkStep.CREATED: "open",
    WorkStep.ASSIGNED: "assigned",
    WorkStep.RESCHEDULED: "assigned",
    WorkStep.STARTED: "in_progress",
    WorkStep.COMPLETED: "completed",
    WorkStep.INCOMPLETE: "incomplete",
    WorkStep.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class WorkOrderFact:
    """One step of a work order as dispatch reported it (``version`` 0: a step of its appointment,
    which does not version the work order; it is told apart by its time)."""

    work_order_id: str
    ticket_id: str | None
    step: WorkStep
    version: int
    at: datetime
    detail: str
    number: str | None = None
    technician_id: str | None = None
    technician_name: str | None = None
    appointment: tuple[datetime, datetime] | None = None
    work_type: str | None = None
    remote: bool = False
    waiting_for_parts: bool = False


_RESOLUTION_OF_WORK = {"installation": Resolution.INSTALLED, "preventive_maintenance": Resolution.MAINTAINED}


async def work_order_changed(uow: UnitOfWork, fact: WorkOrderFact) -> None:
    """Keep the work order's copy, note the step on its ticket, and move the ticket along:
    assigned/started → in progress; incomplete for parts → waiting for parts; completed (the last
    open work order of the ticket) → resolved."""
    held = await store.work_order_copy(uow, fact.work_order_id)
    ticket_id = fact.ticket_id or (held["ticket_id"] if held else None)
    locked = await locked_ticket(uow, ticket_id) if ticket_id else None
    if ticket_id is None or locked is None:
        return  # a work order that serves no ticket of ours
    state = _STATE_AFTER.get(fact.step) or (held["state"] if held else "open")
    newest = await store.keep_work_order(
        uow,
        {
            "work_order_id": fact.work_order_id,
            "ticket_id": ticket_id,
            "number": fact.number or (held["number"] if held else None),
            "state": state,
            "technician_id": fact.technician_id or (held["technician_id"] if held else None),
            "technician_name": fact.technician_name or (held["technician_name"] if held else None),
            "appointment_start": fact.appointment[0]
            if fact.appointment
            else (held["appointment_start"] if held else None),
            "appointment_end": fact.appointment[1]
            if fact.appointment
            else (held["appointment_end"] if held else None),
            "version": fact.version,
            "updated_at": fact.at,
        },
    )
    others_open = [
        w
        for w in await store.work_orders_of(uow, ticket_id)
        if w["work_order_id"] != fact.work_order_id and w["state"] not in FINISHED_WORK
    ]
    system = Actor.system("dispatch")
    then = _effect(fact, system, newest=newest, others_open=bool(others_open))
    await note_on_ticket(
        uow,
        ticket_id,
        kind=f"work_order_{fact.step.value}",
        detail=fact.detail,
        at=fact.at,
        actor=system,
        reference=f"work_order:{fact.work_order_id}:{fact.step.value}:{fact.version or fact.at.isoformat()}",
        then=then,
        clocks=_technician_contact(fact),
        locked=locked,
    )


# the steps that show the technician has been in touch with the customer
_CONTACT_STEPS = frozenset({WorkStep.APPOINTMENT_CONFIRMED, WorkStep.STARTED, WorkStep.COMPLETED})


def _technician_contact(fact: WorkOrderFact) -> Callable[[TicketSla], None] | None:
    """An agreed appointment (or work begun) meets the "technician contacts the customer" target."""
    if fact.step not in _CONTACT_STEPS:
        return None
    return lambda sla: sla.technician_contacted(fact.at)


def _effect(
    fact: WorkOrderFact, system: Actor, *, newest: bool, others_open: bool
) -> Callable[[Ticket], None] | None:
    at = fact.at
    if fact.step is WorkStep.COMPLETED and not others_open:
        resolution = (
            Resolution.REMOTE_FIX
            if fact.remote
            else _RESOLUTION_OF_WORK.get(fact.work_type or "", Resolution.REPAIRED)
        )

        def resolve(ticket: Ticket) -> None:
            if ticket.status is TicketStatus.ACKNOWLEDGED:
                ticket.start_work(actor=system, at=at)
            ticket.resolve(
                actor=system,
                at=at,
                resolution=resolution,
                summary=fact.detail[:500],
                work_order_id=fact.work_order_id,
            )

        return _if_allowed(resolve, "resolve")
    if not newest:
        return None  # an older step that arrived late: on the timeline, but the ticket has moved on
    if fact.step in (WorkStep.ASSIGNED, WorkStep.STARTED):
        return _if_allowed(lambda t: t.start_work(actor=system, at=at), "start_work")
    if fact.step is WorkStep.INCOMPLETE and fact.waiting_for_parts:
        return _if_allowed(
            lambda t: t.wait_for_parts(
                actor=system, at=at, reason=f"work order {fact.number or fact.work_order_id}"
            ),
            "wait_for_parts",
        )
    return None


# --- warranty: claims ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimFact:
    claim_id: str
    claim_number: str
    state: str
    version: int
    at: datetime
    detail: str
    ticket_id: str | None = None
    work_order_id: str | None = None


async def claim_changed(uow: UnitOfWork, fact: ClaimFact) -> None:
    """Keep the dealer claim's copy and note the decision on the ticket its work was for."""
    held = await store.claim_copy(uow, fact.claim_id)
    ticket_id = fact.ticket_id or (held["ticket_id"] if held else None)
    work_order_id = fact.work_order_id or (held["work_order_id"] if held else None)
    if ticket_id is None and work_order_id is not None:
        work_order = await store.work_order_copy(uow, work_order_id)
        ticket_id = work_order["ticket_id"] if work_order else None
    locked = await locked_ticket(uow, ticket_id) if ticket_id else None
    if ticket_id is None or locked is None:
        return  # a claim for work intake did not take in
    await store.keep_claim(
        uow,
        {
            "claim_id": fact.claim_id,
            "ticket_id": ticket_id,
            "claim_number": fact.claim_number,
            "work_order_id": work_order_id,
            "state": fact.state,
            "version": fact.version,
            "updated_at": fact.at,
        },
    )
    await note_on_ticket(
        uow,
        ticket_id,
        kind=f"claim_{fact.state}",
        detail=fact.detail,
        at=fact.at,
        actor=Actor.system("warranty"),
        reference=f"claim:{fact.claim_id}:{fact.state}:{fact.version}",
        locked=locked,
    )


# --- warranty: units -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitFact:
    serial_number: str
    version: int
    model_code: str
    at: datetime
    customer_id: str | None = None
    product_line: str | None = None
    dealer_id: str | None = None
    sale_date: date | None = None
    installation_date: date | None = None
    repair_coverage_ends_on: date | None = None
    changed_fields: Sequence[str] = field(default_factory=tuple)


async def unit_registered(uow: UnitOfWork, fact: UnitFact) -> None:
    """Keep the registered unit for the customer's screen (the newest version wins)."""
    await customer_store.keep_unit(
        uow,
        {
            "serial_number": fact.serial_number,
            "customer_id": fact.customer_id,
            "model_code": fact.model_code,
            "product_line": fact.product_line,
            "dealer_id": fact.dealer_id,
            "sale_date": fact.sale_date,
            "installation_date": fact.installation_date,
            "repair_coverage_ends_on": fact.repair_coverage_ends_on,
            "version": fact.version,
            "updated_at": fact.at,
        },
    )


async def unit_transferred(
    uow: UnitOfWork, *, serial_number: str, to_customer_id: str, version: int, at: datetime
) -> None:
    await customer_store.move_unit(uow, serial_number, to_customer_id=to_customer_id, version=version, at=at)
