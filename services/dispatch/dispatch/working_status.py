"""What each technician is doing now: set from the app (or by a dispatcher), and following the steps of
their visits (start of travel, arrival, completion, incomplete, cancellation under way)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dispatch import store
from dispatch.domain.technicians import TechnicianStatus, WorkingStatus, visit_steps
from dispatch.domain.values import Actor
from dispatch.domain.work_orders import WorkOrder
from kit.db import UnitOfWork
from kit.domain import NotFound


def working_status_of(row: Mapping[Any, Any]) -> WorkingStatus:
    """The stored working status of a technician row."""
    return WorkingStatus(
        TechnicianStatus(row.get("status") or TechnicianStatus.AVAILABLE),
        row.get("status_since"),
        row.get("status_work_order_id"),
    )


def status_of(row: Mapping[Any, Any]) -> TechnicianStatus:
    """What the dispatcher board shows: inactive for a deactivated technician, else the working status."""
    return working_status_of(row).status if row["active"] else TechnicianStatus.INACTIVE


async def follow_visits(uow: UnitOfWork, order: WorkOrder) -> None:
    """Move the status of the order's technician along the visit steps ``order`` raised (before its
    events are published)."""
    for step in visit_steps(order.events, technician_id=order.technician_id):
        row = await store.working_status_row(uow, step.technician_id)
        if row is None:
            continue  # a technician dispatch does not keep (a dealer's, named by the dealer)
        current = working_status_of(row)
        await _keep(uow, step.technician_id, current, current.after(step), actor_id=step.actor_id)


async def set_status(
    uow: UnitOfWork,
    technician_id: str,
    status: TechnicianStatus,
    *,
    actor: Actor,
    at: datetime | None = None,
    override: bool = False,
) -> tuple[WorkingStatus, bool]:
    """The technician sets their status from the app, or a dispatcher for them (``override``: even while
    a visit is under way), as of ``at`` (default: now); the status held after it, and whether it is the
    one asked for (a report older than the status held changes nothing)."""
    row = await store.working_status_row(uow, technician_id)
    if row is None:
        raise NotFound(f"technician {technician_id} not found")
    current = working_status_of(row)
    at = at or uow.now()
    changed = current.overridden(status, at=at) if override else current.reported(status, at=at)
    await _keep(uow, technician_id, current, changed, actor_id=actor.id)
    return changed, changed.status is status


async def _keep(
    uow: UnitOfWork, technician_id: str, current: WorkingStatus, changed: WorkingStatus, *, actor_id: str
) -> None:
    if changed == current:
        return
    await store.keep_working_status(
        uow,
        technician_id,
        status=changed.status.value,
        since=changed.since,
        work_order_id=changed.work_order_id,
    )
    uow.audit(
        actor=actor_id,
        action="status",
        entity_type="technician",
        entity_id=technician_id,
        status=changed.status.value,
        previous=current.status.value,
        work_order_id=changed.work_order_id,
    )
