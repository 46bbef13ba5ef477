"""Use cases shared by the API, the event handlers and the timers: load a work order, act, save, publish."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dispatch import events, store, working_status
from dispatch.domain import escalation
from dispatch.domain.billing import Billing, BillingBasis
from dispatch.domain.network import RegionGrade, counted_on
from dispatch.domain.technicians import certifications_required
from dispatch.domain.values import Actor, GeoPoint, PartNeed, Priority, Role, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import Site, UnitRef, WorkOrder
from dispatch.settings import dispatch_settings
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.scheduler import Timer

SYSTEM = Actor.system("dispatch")
_UNKNOWN_POSITION = GeoPoint(0.0, 0.0)


def work_order_number(work_order_id: str) -> str:
    return "WO-" + work_order_id.replace("-", "")[:12].upper()


async def open_work_order(
    uow: UnitOfWork,
    *,
    type: WorkOrderType,
    priority: Priority,
    region_id: str,
    address: dict[str, Any] | None,
    product_line: str,
    actor: Actor,
    customer_id: str | None,
    ticket_id: str | None = None,
    serial_number: str | None = None,
    model: str | None = None,
    model_grade: str | None = None,
    availability: list[TimeWindow] | None = None,
    needed_parts: list[PartNeed] | None = None,
    required_certifications: list[str] | None = None,
    facts: dict[str, Any] | None = None,
    work_order_id: str | None = None,
) -> tuple[WorkOrder, dict[str, Any]]:
    """Open a work order (billing from a stored entitlement, if warranty already decided; the unit's grade
    and installer from warranty's registration), set its timers. It requires the certifications the
    settings require on its product line, and ``required_certifications`` besides."""
    work_order_id = work_order_id or str(uuid.uuid4())
    billing = None
    if ticket_id is not None:
        kept = await store.entitlement_for_ticket(uow, ticket_id)
        billing = billing_from(kept) if kept else None
    policy, calendar = counted_on(await store.region_calendar(uow, region_id))
    order = WorkOrder.open(
        id=work_order_id,
        type=type,
        priority=priority,
        site=await site_of(uow, region_id, address),
        product_line=product_line,
        at=uow.now(),
        actor=actor,
        ticket_id=ticket_id,
        customer_id=customer_id,
        unit=await unit_of(uow, serial_number, model=model, model_grade=model_grade),
        availability=availability or (),
        needed_parts=needed_parts or (),
        required_certifications=certifications_required(
            product_line, required_certifications or (), dispatch_settings().required_certifications
        ),
        billing=billing,
        policy=policy,
        calendar=calendar,
    )
    facts = await add_opened(uow, order, address=address, facts=facts)
    return order, facts


async def add_opened(
    uow: UnitOfWork, order: WorkOrder, *, address: dict[str, Any] | None, facts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store a newly opened ``order``, set its timers and stage its created event; its facts."""
    facts = {
        **(facts or {}),
        "number": work_order_number(order.id),
        "site": address,
        "region_code": order.site.region_id,
    }
    await store.add_work_order(uow, order, number=facts["number"], facts=facts)
    events.publish(uow, order, version=1, facts=facts)
    return facts


async def site_of(uow: UnitOfWork, region_id: str, address: dict[str, Any] | None) -> Site:
    """Where the job is: the address, its position (when known) and the region's grade."""
    grade = await store.region_grade(uow, region_id)
    location = (address or {}).get("location")
    return Site(
        address=_one_line(address),
        location=GeoPoint(location["latitude"], location["longitude"]) if location else _UNKNOWN_POSITION,
        region_id=region_id,
        grade=RegionGrade(grade) if grade else RegionGrade.B,
    )


async def unit_of(
    uow: UnitOfWork, serial_number: str | None, *, model: str | None = None, model_grade: str | None = None
) -> UnitRef | None:
    """The unit as warranty registered it (its grade, the technician who installed it), else as given."""
    if not serial_number:
        return None
    registered = await store.unit(uow, serial_number)
    if registered is None:
        return UnitRef(serial_number, model, model_grade)
    return UnitRef(
        serial_number,
        model or registered["model_code"],
        model_grade or registered["model_grade"],
        registered["installer_id"],
    )


async def change_work_order(
    uow: UnitOfWork,
    work_order_id: str,
    act: Callable[[WorkOrder], object],
    *,
    if_match: str | None = None,
    facts_update: dict[str, Any] | None = None,
    assignment_method: str | None = None,
    actor: Actor = SYSTEM,
) -> tuple[WorkOrder, int]:
    """Load the order, apply ``act`` (a domain action), save it and stage its events; its new version."""
    order, row = await store.load_work_order(uow, work_order_id)
    check_if_match(if_match, row["version"])
    before = len(order.history)
    act(order)
    if not order.events and len(order.history) == before:
        return order, row["version"]
    facts = {**row["facts"], **(facts_update or {})}
    if assignment_method:
        facts["assignment_method"] = assignment_method
    version = await store.save_work_order(uow, order, stored_version=row["version"], facts=facts)
    if assignment_method and order.assignment is not None:
        await store.record_assignment(uow, order, method=assignment_method, assigned_by=actor.id)
    await working_status.follow_visits(uow, order)  # the technician's status follows the visit's steps
    events.publish(uow, order, version=version, facts=facts)
    return order, version


async def open_follow_up(
    uow: UnitOfWork, work_order_id: str, *, actor: Actor, needed_parts: list[PartNeed] | None = None
) -> tuple[WorkOrder, dict[str, Any]]:
    """A new work order to finish what an incomplete visit could not (same site, unit and billing)."""
    order, row = await store.load_work_order(uow, work_order_id)
    follow_up = order.follow_up(
        id=str(uuid.uuid4()), at=uow.now(), actor=actor, needed_parts=needed_parts or ()
    )
    kept = {k: row["facts"][k] for k in ("product", "description", "ticket_number") if k in row["facts"]}
    facts = await add_opened(uow, follow_up, address=row["facts"].get("site"), facts=kept)
    await store.add_note(uow, work_order_id, kind="follow_up", text=f"follow-up work order {follow_up.id}")
    return follow_up, facts


def billing_from(kept: Any) -> Billing | None:
    """Who pays, from warranty's decision; ``None`` (undetermined) for work the customer pays, whose
    price estimate is agreed with the customer first."""
    basis = {"warranty": BillingBasis.WARRANTY, "contract": BillingBasis.CONTRACT}.get(kept["billing"])
    if basis is BillingBasis.CONTRACT and not kept["contract_id"]:
        basis = BillingBasis.WARRANTY
    if basis is None:
        return None
    return Billing(
        basis,
        entitlement_id=kept["entitlement_id"],
        contract_id=kept["contract_id"] if basis is BillingBasis.CONTRACT else None,
        premium_contract=bool(kept["premium_contract"]) and basis is BillingBasis.CONTRACT,
    )


async def fire_timer(uow: UnitOfWork, timer: Timer) -> None:
    """A work order's timer is due: re-check the order as it is now and escalate if still needed."""
    work_order_id = str(timer.payload.get("work_order_id") or timer.key.split(":")[0])
    kind = escalation.TimerKind(timer.kind.removeprefix(store.TIMER_PREFIX))
    now = uow.now()

    def act(order: WorkOrder) -> None:
        escalation.fire(order, escalation.Timer(order.id, kind, timer.due_at), now)

    await change_work_order(uow, work_order_id, act)


def _one_line(address: dict[str, Any] | None) -> str:
    if not address:
        return "unknown"
    return ", ".join(str(address[k]) for k in ("line1", "city", "country") if address.get(k))


def role_actor(subject: str, roles: frozenset[str]) -> Actor:
    for role in (Role.TECHNICIAN, Role.DISPATCHER, Role.SUPERVISOR, Role.DEALER, Role.AGENT):
        if role.value in roles:
            return Actor(subject, role)
    return Actor(subject, Role.DISPATCHER)


def window_of(start: datetime, end: datetime) -> TimeWindow:
    return TimeWindow(start, end)
