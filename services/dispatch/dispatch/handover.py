"""Choosing a technician now, and handing a job to an authorised service point when none of the company's
own technicians can make its deadline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch import commands, store
from dispatch import tables as t
from dispatch.domain.assignment import InstantAssignment, assign_now
from dispatch.domain.assignment.instant import LOOK_AHEAD
from dispatch.domain.dealers import own_technician_in_time, service_point_for
from dispatch.domain.network import CentreKind, ServiceCentre
from dispatch.domain.values import Actor, GeoPoint
from dispatch.domain.work_orders import WorkOrder
from dispatch.planning import crews_of, job_of
from kit.db import UnitOfWork
from kit.domain import Conflict

DEFAULT_REASON = "no company technician can be on site by the deadline"


def centre_of(row: Mapping[Any, Any], responsible_for: frozenset[str] = frozenset()) -> ServiceCentre:
    located = row["lat"] is not None and row["lon"] is not None
    return ServiceCentre(
        id=row["id"],
        name=row["name"],
        kind=CentreKind(row["kind"]),
        region_ids=frozenset(row["region_ids"] or ()) | responsible_for,
        location=GeoPoint(row["lat"], row["lon"]) if located else None,
        dealer_id=row["dealer_id"],
        warehouse_location_id=row["warehouse_location_id"],
    )


async def best_own_technician(uow: UnitOfWork, order: WorkOrder) -> InstantAssignment:
    """Instant assignment among the company's own technicians (a dealer's technicians work its jobs only),
    around the appointments they already hold."""
    now = uow.now()
    rows = await store.technicians(uow, own_only=True)
    crews = crews_of(
        rows,
        at=now,
        absences=await store.absences(uow),
        bookings=await store.bookings(uow, start=now, end=now + LOOK_AHEAD),
        planned=frozenset({order.id}),
        van_stock=await store.van_stock(uow, (r["van_location_id"] for r in rows if r["van_location_id"])),
    )
    return assign_now(job_of(order), crews, now=now)


async def hand_to_dealer(
    uow: UnitOfWork,
    work_order_id: str,
    *,
    actor: Actor,
    centre_id: str | None = None,
    reason: str | None = None,
    even_if_own_technician_in_time: bool = False,
) -> tuple[WorkOrder, int]:
    """Give the job to the authorised service point covering its region (or the one chosen). Refused while
    one of the company's technicians can still be on site in time, unless the dispatcher insists."""
    order, _ = await store.load_work_order(uow, work_order_id)
    if not even_if_own_technician_in_time:
        in_time = own_technician_in_time(await best_own_technician(uow, order))
        if in_time is not None:
            raise Conflict(
                f"technician {in_time} can be on site in time: assign them, or hand over anyway",
                code="own-technician-in-time",
                technician_id=in_time,
            )
    region = await store.find_row(uow, t.regions, order.site.region_id)
    responsible = region["centre_id"] if region else None
    centres = [
        centre_of(r, frozenset({order.site.region_id}) if r["id"] == responsible else frozenset())
        for r in await store.list_rows(uow, t.centres)
    ]
    point = service_point_for(
        order.site.region_id,
        centres,
        site=order.site.location,
        responsible_centre_id=responsible,
        chosen=centre_id,
    )
    dealer_id = point.dealer_id or ""
    now = uow.now()
    return await commands.change_work_order(
        uow,
        work_order_id,
        lambda o: o.hand_to_dealer(
            dealer_id=dealer_id, centre_id=point.id, reason=reason or DEFAULT_REASON, at=now, actor=actor
        ),
        actor=actor,
    )
