"""A dispatcher (or a dealer, for the jobs handed to it) gives a job to a technician of their own choosing,
checked against the planner's rules (``domain.assignment.manual``) in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from dispatch import commands, store
from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment import Job
from dispatch.domain.assignment.manual import reasons_for_choice
from dispatch.domain.values import Actor, TimeWindow
from dispatch.domain.work_orders import WorkOrder
from dispatch.planning import technician_of
from kit.db import UnitOfWork
from kit.domain import Forbidden


async def assign_chosen(
    uow: UnitOfWork,
    work_order_id: str,
    *,
    technician_id: str,
    visit: TimeWindow,
    actor: Actor,
    reasons: Sequence[str] = (),
    override: bool = False,
    lock: bool = False,
    override_lock: bool = False,
    dealer_id: str | None = None,
    if_match: str | None = None,
) -> tuple[WorkOrder, int]:
    """Give the order to ``technician_id`` for ``visit``, with the reasons recorded (and what the choice
    overrides, see ``reasons_for_choice``); a dealer (``dealer_id``) gives the jobs handed to it to its
    own technicians, which also accepts the job. The order and its new version."""
    row = await store.technician(uow, technician_id)
    if dealer_id is not None and row["dealer_id"] != dealer_id:
        raise Forbidden(f"technician {technician_id} does not work for dealer {dealer_id}")
    # as the planner sees them: the centre's calendar and time zone for one without shifts, their absences
    technician = technician_of(row, await store.absences(uow, technician_id=technician_id))
    now = uow.now()

    def act(order: WorkOrder) -> None:
        if dealer_id is not None and order.dealer_id != dealer_id:
            raise Forbidden("this work order belongs to another dealer")
        recorded = reasons_for_choice(
            Job.from_work_order(order),
            technician,
            visit,
            now=now,
            actor=actor,
            given=reasons,
            override=override,
        )
        if dealer_id is not None:
            order.accept_for_dealer(dealer_id, at=now, actor=actor)
        order.assign(
            technician_id,
            Appointment(visit),
            at=now,
            actor=actor,
            reasons=recorded,
            override_lock=override_lock,
        )
        if lock:
            order.lock(at=now, actor=actor)

    return await commands.change_work_order(
        uow,
        work_order_id,
        act,
        if_match=if_match,
        assignment_method="dealer" if dealer_id is not None else "manual",
        actor=actor,
    )
