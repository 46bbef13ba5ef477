"""Complaints opened by agents or through the API: a ticket of type complaint, with its own SLA
(answered in 24 hours, supervisor after 2 days, resolved within a month), linked to the original."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from intake.api.common import TicketCreator, actor_of
from intake.api.ticket_models import ComplaintIn, TicketOut
from intake.api.tickets import visible_ticket
from intake.domain.ticket_values import TicketType
from intake.operations import tickets as ops
from intake.operations.tickets import OpenTicket
from kit.concurrency import etag
from kit.db import UnitOfWork
from kit.dealers import acting_dealer
from kit.deps import Db
from kit.domain import DomainError
from kit.idempotency import IdempotencyKey, run_idempotent

router = APIRouter(tags=["complaints"])


@router.post("/complaints", status_code=201, response_model=TicketOut, summary="Open a complaint")
async def open_complaint(
    body: ComplaintIn, request: Request, db: Db, principal: TicketCreator, key: IdempotencyKey = None
) -> Response:
    """About an earlier ticket (``ticket_id``: the complaint is that ticket's customer's, copies its
    unit and site, and its owner watches it) or from a customer directly (``customer_id``).
    ``intake.complaint.opened.v1`` is published with the complaint's due times."""
    if body.ticket_id is None and body.customer_id is None:
        raise DomainError(
            "name the ticket the complaint is about, or the customer", code="complaint-customer"
        )
    dealer_id = acting_dealer(principal, None)
    actor = actor_of(principal)

    async def create(uow: UnitOfWork) -> TicketOut:
        if body.ticket_id is not None:
            await visible_ticket(uow, principal, body.ticket_id)
        ticket = await ops.open_ticket(
            uow,
            actor=actor,
            command=OpenTicket(
                channel=body.channel,
                type=TicketType.COMPLAINT,
                priority=body.priority,
                customer_id=body.customer_id if body.ticket_id is None else None,
                subject=body.summary,
                fault_description=body.detail,
                related_ticket_id=body.ticket_id,
                complaint_category=body.category,
                dealer_id=dealer_id,
            ),
        )
        return TicketOut.of(ticket, 1)

    return await run_idempotent(request, db, key, create, headers=lambda out: {"ETag": etag(1)})
