"""Registered units: registration (API, bulk, or a completed installation) and every later change,
each of which emits ``warranty.unit.updated.v1`` with the facts that changed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from contracts.common import Actor
from kit.db import UnitOfWork
from kit.domain import NotFound
from warranty import events, store
from warranty.domain import (
    Catalogue,
    ProductModel,
    RegisteredUnit,
    ServiceContract,
    WarrantyPolicy,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitChange:
    unit: RegisteredUnit
    version: int
    #: the facts that changed (empty: nothing changed and nothing was saved or announced)
    changed: list[str]


def _terms(catalogue: Catalogue, unit: RegisteredUnit) -> tuple[ProductModel, WarrantyPolicy]:
    model = catalogue.model(unit.model_code)
    if model is None:
        raise NotFound(f"product model {unit.model_code} not found")
    return model, catalogue.policy_for(model, unit.sold_on)


async def register_unit(
    uow: UnitOfWork, unit: RegisteredUnit, *, channel: str, by: Actor, subject: str
) -> None:
    """Keep a new unit and emit ``warranty.unit.registered.v1``; its model and a policy in force
    on its sale date must be in the catalogue."""
    model, policy = _terms(await store.catalogue(uow.conn), unit)
    await store.insert_unit(uow.conn, unit, at=uow.now())
    unit.pull_events()
    uow.emit(events.unit_registered(unit, model, policy, channel=channel, at=uow.now(), by=by))
    uow.audit(
        actor=subject, action="unit.registered", entity_type="unit", entity_id=unit.serial, channel=channel
    )


async def change_unit(
    uow: UnitOfWork,
    serial: str,
    change: Callable[[RegisteredUnit], object],
    *,
    by: Actor,
    subject: str,
    action: str,
    check: Callable[[RegisteredUnit, int], None] | None = None,
    also_changed: Sequence[str] = (),
) -> UnitChange:
    """Load the unit, ``check`` it (visibility, ``If-Match``), apply ``change``, and when anything
    changed save it and emit ``warranty.unit.updated.v1`` naming the facts that changed."""
    found = await store.get_unit(uow.conn, serial)
    if found is None:
        raise NotFound(f"unit {serial} not found")
    unit, version = found
    if check is not None:
        check(unit, version)
    before = unit.recorded_facts()
    change(unit)
    unit.pull_events()
    after = unit.recorded_facts()
    changed = [name for name in after if after[name] != before[name]] + list(also_changed)
    if not changed:
        return UnitChange(unit, version, [])
    model, policy = _terms(await store.catalogue(uow.conn), unit)
    version = await store.update_unit(uow.conn, unit, version=version, at=uow.now())
    uow.emit(
        events.unit_updated(unit, model, policy, version=version, changed_fields=changed, at=uow.now(), by=by)
    )
    uow.audit(actor=subject, action=action, entity_type="unit", entity_id=serial, changed=changed)
    return UnitChange(unit, version, changed)


async def add_contract(
    uow: UnitOfWork,
    contract: ServiceContract,
    *,
    by: Actor,
    subject: str,
    check: Callable[[RegisteredUnit, int], None] | None = None,
) -> UnitChange:
    """Add a service contract to a unit (a change of the unit: its cover grows)."""
    change = await change_unit(
        uow,
        contract.serial,
        lambda unit: None,
        by=by,
        subject=subject,
        action="contract.added",
        check=check,
        also_changed=["service_contracts"],
    )
    await store.add_contract(uow.conn, contract)
    return change


async def transfer_unit(
    uow: UnitOfWork,
    serial: str,
    *,
    to_customer_id: str,
    transferred_on: date,
    reason: str,
    by: Actor,
    subject: str,
    check: Callable[[RegisteredUnit, int], None] | None = None,
) -> UnitChange:
    """Record a new owner (``warranty.unit.transferred.v1`` besides the update); the warranty stays."""
    previous: list[str] = []

    def transfer(unit: RegisteredUnit) -> None:
        previous.append(unit.customer_id)
        unit.transfer_to(
            to_customer_id, transferred_on=transferred_on, at=uow.now(), actor=subject, reason=reason
        )

    change = await change_unit(
        uow, serial, transfer, by=by, subject=subject, action="unit.transferred", check=check
    )
    uow.emit(
        events.unit_transferred(
            change.unit, version=change.version, from_customer_id=previous[0], at=uow.now(), by=by
        )
    )
    return change


async def record_installation_from_work_order(
    uow: UnitOfWork,
    *,
    serial: str,
    model_code: str | None,
    customer_id: str,
    dealer_id: str | None,
    installed_on: date,
    installer_id: str,
    work_order_id: str,
) -> None:
    """A completed installation job: record the installation (which starts the warranty) and the
    installer; a unit nobody registered yet is registered from it when its model and dealer are known."""
    by = events.SYSTEM
    if await store.get_unit(uow.conn, serial) is not None:
        await change_unit(
            uow,
            serial,
            lambda unit: unit.record_completed_installation(
                installed_on=installed_on, installer_id=installer_id, at=uow.now(), actor=events.AUTOMATIC
            ),
            by=by,
            subject=events.AUTOMATIC,
            action="unit.installation_recorded",
        )
        return
    catalogue = await store.catalogue(uow.conn)
    if dealer_id is None or catalogue.model(model_code) is None:
        log.info(
            "installation of unregistered serial %s not registered (model %s, dealer %s)",
            serial,
            model_code,
            dealer_id,
            extra={"work_order_id": work_order_id},
        )
        return
    assert model_code is not None
    unit = RegisteredUnit.register_from_installation(
        serial=serial,
        model_code=model_code,
        customer_id=customer_id,
        dealer_id=dealer_id,
        installed_on=installed_on,
        installer_id=installer_id,
        at=uow.now(),
        actor=events.AUTOMATIC,
    )
    try:
        await register_unit(uow, unit, channel="installation", by=by, subject=events.AUTOMATIC)
    except NotFound as exc:
        log.info("installation of serial %s not registered: %s", serial, exc)
