"""Every state change of a ticket as an explicit action, checked against its state machine.

An action the ticket's state does not allow is a 409 ``illegal-transition`` problem naming the
``allowed_actions``; an ``If-Match`` that names an older version is a 412. Only the owner or a
supervisor moves a ticket; the first member of staff to act on an unowned one takes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from intake.api.common import Id, ShortText, Staff, Supervisor, actor_of
from intake.api.ticket_models import ReasonIn, TicketOut
from intake.api.tickets import ChangeTicket, TicketId, respond, visible_ticket
from intake.domain.ticket_values import AckMethod, CancelReason, CloseReason, Priority, Resolution
from intake.operations import tickets as ops
from kit.concurrency import IfMatch
from kit.deps import Db
from kit.errors import PROBLEM_JSON, Problem

ILLEGAL: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "content": {
            PROBLEM_JSON: {
                "example": {
                    "type": "urn:aftersales:problem:illegal-transition",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "ticket in state 'closed' cannot 'resolve'; allowed: add_note, link, reopen, watch",
                    "allowed_actions": ["add_note", "link", "record_activity", "reopen", "watch"],
                }
            }
        },
        "description": "Not allowed in the ticket's state (the allowed actions are listed), or owned by another",
    }
}

router = APIRouter(tags=["ticket actions"], responses=ILLEGAL)


class AcknowledgeIn(BaseModel):
    method: AckMethod = Field(description="How the customer learned the request arrived")


class ResolveIn(BaseModel):
    resolution: Resolution
    summary: Annotated[str, Field(max_length=500)] | None = None


class CloseIn(BaseModel):
    reason: CloseReason = CloseReason.AGENT


class ReopenIn(BaseModel):
    reason: ShortText


class CancelIn(BaseModel):
    reason: CancelReason
    note: Annotated[str, Field(max_length=500)] | None = None


class MergeIn(BaseModel):
    into_ticket_id: Id = Field(description="The ticket that carries on (same customer, open)")


class ReassignIn(BaseModel):
    to_owner_id: Id
    reason: ShortText


class PriorityIn(BaseModel):
    priority: Priority


@router.post("/tickets/{ticket_id}/take", summary="Take an unowned ticket (first-contact ownership)")
async def take(ticket_id: TicketId, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(ticket_id, principal, lambda t, actor, at: t.take(actor=actor, at=at))


@router.post("/tickets/{ticket_id}/acknowledge", summary="The customer was told the request arrived")
async def acknowledge(
    ticket_id: TicketId, body: AcknowledgeIn, change: ChangeTicket, principal: Staff
) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.acknowledge(actor=actor, at=at, method=body.method)
    )


@router.post("/tickets/{ticket_id}/start_work", summary="Start working on the request")
async def start_work(ticket_id: TicketId, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(ticket_id, principal, lambda t, actor, at: t.start_work(actor=actor, at=at))


@router.post("/tickets/{ticket_id}/wait_for_customer", summary="Wait on the customer (SLA clocks pause)")
async def wait_for_customer(
    ticket_id: TicketId, body: ReasonIn, change: ChangeTicket, principal: Staff
) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.wait_for_customer(actor=actor, at=at, reason=body.reason)
    )


@router.post("/tickets/{ticket_id}/wait_for_parts", summary="Wait for spare parts")
async def wait_for_parts(
    ticket_id: TicketId, body: ReasonIn, change: ChangeTicket, principal: Staff
) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.wait_for_parts(actor=actor, at=at, reason=body.reason)
    )


@router.post("/tickets/{ticket_id}/wait_for_third_party", summary="Wait for a third party")
async def wait_for_third_party(
    ticket_id: TicketId, body: ReasonIn, change: ChangeTicket, principal: Staff
) -> TicketOut:
    return await change.apply(
        ticket_id,
        principal,
        lambda t, actor, at: t.wait_for_third_party(actor=actor, at=at, reason=body.reason),
    )


@router.post("/tickets/{ticket_id}/resume", summary="Carry on after waiting")
async def resume(ticket_id: TicketId, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(ticket_id, principal, lambda t, actor, at: t.resume(actor=actor, at=at))


@router.post("/tickets/{ticket_id}/resolve", summary="The customer's problem is fixed or answered")
async def resolve(ticket_id: TicketId, body: ResolveIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(
        ticket_id,
        principal,
        lambda t, actor, at: t.resolve(actor=actor, at=at, resolution=body.resolution, summary=body.summary),
    )


@router.post("/tickets/{ticket_id}/close", summary="Close a resolved ticket for good")
async def close(ticket_id: TicketId, body: CloseIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.close(actor=actor, at=at, reason=body.reason)
    )


@router.post("/tickets/{ticket_id}/reopen", summary="The problem is back")
async def reopen(ticket_id: TicketId, body: ReopenIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.reopen(actor=actor, at=at, reason=body.reason)
    )


@router.post("/tickets/{ticket_id}/cancel", summary="Cancel the request")
async def cancel(ticket_id: TicketId, body: CancelIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(
        ticket_id,
        principal,
        lambda t, actor, at: t.cancel(actor=actor, at=at, reason=body.reason, note=body.note),
    )


@router.post("/tickets/{ticket_id}/merge", summary="Merge this duplicate into another ticket")
async def merge(
    ticket_id: TicketId, body: MergeIn, db: Db, principal: Staff, response: Response, if_match: IfMatch = None
) -> TicketOut:
    """The duplicate ends as ``merged``; the other carries on with its watchers, files and references."""
    async with db.transaction() as uow:
        for checked in (ticket_id, body.into_ticket_id):
            await visible_ticket(uow, principal, checked)
        duplicate, _ = await ops.merge_tickets(
            uow, ticket_id, into_ticket_id=body.into_ticket_id, actor=actor_of(principal), if_match=if_match
        )
    return respond(duplicate, response)


@router.post("/tickets/{ticket_id}/reassign", summary="A supervisor hands the ticket to someone else")
async def reassign(
    ticket_id: TicketId, body: ReassignIn, change: ChangeTicket, principal: Supervisor
) -> TicketOut:
    return await change.apply(
        ticket_id,
        principal,
        lambda t, actor, at: t.reassign(to_owner_id=body.to_owner_id, actor=actor, at=at, reason=body.reason),
    )


@router.post("/tickets/{ticket_id}/priority", summary="Change the priority (the SLA targets follow)")
async def change_priority(
    ticket_id: TicketId, body: PriorityIn, change: ChangeTicket, principal: Staff
) -> TicketOut:
    return await change.apply(
        ticket_id,
        principal,
        lambda t, actor, at: t.change_priority(priority=body.priority, actor=actor, at=at),
    )
