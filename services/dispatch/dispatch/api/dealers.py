"""Authorised service points (dealers): handing a job over, and the dealer's answer.

A job goes to the service point covering its region when no company technician can be on site by the
deadline (``dispatch.work_order.handed_to_dealer.v1``). The dealer accepts it (or assigns one of its own
technicians through ``/assign``, which accepts it too) within 2 hours of receiving it; a job not accepted
in time comes back to the dispatcher with a ``dealer_not_arranged`` escalation.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from dispatch import handover, store
from dispatch.api.common import DealerUser, Dispatcher, Id, Short, act, actor_of, dealer_of, respond
from dispatch.api.views import WorkOrderOut
from kit.deps import Db

router = APIRouter(tags=["dealers"])


class HandToDealerIn(BaseModel):
    centre_id: Id | None = Field(
        default=None, description="The service point; default: the one covering the job's region"
    )
    reason: Short | None = None
    even_if_own_technician_in_time: bool = Field(
        default=False, description="Hand over although a company technician could still make the deadline"
    )


class DealerAnswerIn(BaseModel):
    reason: Short


@router.post("/work_orders/{work_order_id}/hand_to_dealer")
async def hand_to_dealer(
    work_order_id: str, body: HandToDealerIn, db: Db, principal: Dispatcher, response: Response
) -> WorkOrderOut:
    """Hand the job to an authorised service point. Refused (409 ``own-technician-in-time``) while a
    company technician can still be on site by the deadline, unless ``even_if_own_technician_in_time``."""
    async with db.transaction() as uow:
        order, version = await handover.hand_to_dealer(
            uow,
            work_order_id,
            actor=actor_of(principal),
            centre_id=body.centre_id,
            reason=body.reason,
            even_if_own_technician_in_time=body.even_if_own_technician_in_time,
        )
        number = (await store.load_row(uow, work_order_id, for_update=False))["number"]
    return respond(order, version, number, response)


@router.post("/work_orders/{work_order_id}/dealer_accept")
async def dealer_accept(
    work_order_id: str, db: Db, principal: DealerUser, response: Response
) -> WorkOrderOut:
    """The service point takes the job on (accepting twice changes nothing)."""
    dealer_id = dealer_of(principal)
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.accept_for_dealer(dealer_id, at=now, actor=a),
        response,
    )


@router.post("/work_orders/{work_order_id}/dealer_decline")
async def dealer_decline(
    work_order_id: str, body: DealerAnswerIn, db: Db, principal: DealerUser, response: Response
) -> WorkOrderOut:
    """The service point cannot do the job: it goes back to the company's dispatchers."""
    dealer_id = dealer_of(principal)
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.return_from_dealer(reason=body.reason, at=now, actor=a, dealer_id=dealer_id),
        response,
    )


@router.post("/work_orders/{work_order_id}/take_back_from_dealer")
async def take_back_from_dealer(
    work_order_id: str, body: DealerAnswerIn, db: Db, principal: Dispatcher, response: Response
) -> WorkOrderOut:
    """A dispatcher takes a job back from the service point it was handed to (before a visit is arranged)."""
    return await act(
        db,
        work_order_id,
        principal,
        lambda o, a, now: o.return_from_dealer(reason=body.reason, at=now, actor=a),
        response,
    )
