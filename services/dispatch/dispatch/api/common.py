"""What every dispatch router shares: who may call, who the caller is, and running one work order action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Response
from pydantic import BaseModel, Field

from dispatch import commands, store
from dispatch.api.views import WorkOrderOut
from dispatch.domain.values import Actor, TimeWindow
from dispatch.domain.work_orders import WorkOrder
from kit.auth import Principal, Role, require
from kit.concurrency import etag
from kit.db import UnitOfWork
from kit.dealers import ensure_visible
from kit.deps import Db
from kit.domain import Forbidden

Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR))]
FieldUser = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.TECHNICIAN))]
Technician = Annotated[Principal, Depends(require(Role.TECHNICIAN))]
DealerUser = Annotated[Principal, Depends(require(Role.DEALER))]
Reader = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.DEALER))
]
Short = Annotated[str, Field(min_length=1, max_length=300)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class WindowIn(BaseModel):
    start: datetime
    end: datetime

    def domain(self) -> TimeWindow:
        return TimeWindow(self.start, self.end)


def actor_of(principal: Principal) -> Actor:
    return commands.role_actor(principal.subject, frozenset(r.value for r in principal.roles))


def dealer_of(principal: Principal) -> str:
    """The dealer a dealer's token acts for."""
    if not principal.dealer_id:
        raise Forbidden("this token acts for no dealer")
    return principal.dealer_id


def check_visible(principal: Principal, order: WorkOrder) -> None:
    ensure_visible(principal, order.dealer_id, "work order")


def respond(order: WorkOrder, version: int, number: str, response: Response) -> WorkOrderOut:
    response.headers["ETag"] = etag(version)
    return WorkOrderOut.from_order(order, number=number, version=version)


async def act(
    db: Db,
    work_order_id: str,
    principal: Principal,
    action: Callable[[WorkOrder, Actor, datetime], object],
    response: Response,
    if_match: str | None = None,
    method: str | None = None,
    then: Callable[[UnitOfWork, WorkOrder], Awaitable[None]] | None = None,
) -> WorkOrderOut:
    """Run one action on the order in one transaction (a dealer acts only on its own orders); ``then``
    records what else the action tells, in the same transaction."""
    actor = actor_of(principal)
    async with db.transaction() as uow:
        now = uow.now()

        def checked(order: WorkOrder) -> object:
            check_visible(principal, order)
            return action(order, actor, now)

        order, version = await commands.change_work_order(
            uow, work_order_id, checked, if_match=if_match, assignment_method=method, actor=actor
        )
        if then is not None:
            await then(uow, order)
        number = (await store.load_row(uow, work_order_id, for_update=False))["number"]
    return respond(order, version, number, response)
