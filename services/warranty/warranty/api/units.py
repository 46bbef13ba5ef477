"""Registered units: registration by dealers (one or in bulk), lookup, installation, registration
card, ownership transfer, service contracts. Every change emits ``warranty.unit.updated.v1``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kit.auth import Principal
from kit.concurrency import IfMatch, check_if_match, etag
from kit.db import UnitOfWork
from kit.dealers import dealer_scope, ensure_visible
from kit.deps import Db
from kit.domain import DomainError, Forbidden, NotFound
from kit.idempotency import IdempotencyKey, json_response, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of
from warranty import operations, store
from warranty.api.common import AnyStaff, UnitWriter, acting_dealer, actor
from warranty.domain import (
    ContractTier,
    RegisteredUnit,
    RegistrationStatus,
    ServiceContract,
    registered_on_time,
    registration_status,
)

router = APIRouter(tags=["units"])

Serial = Annotated[str, Field(min_length=1, max_length=64)]
Ref = Annotated[str, Field(min_length=1, max_length=64)]


class UnitIn(BaseModel):
    serial: Serial
    model_code: Annotated[str, Field(min_length=1, max_length=60)]
    customer_id: Ref
    dealer_id: Ref | None = Field(default=None, description="A dealer token registers for itself only")
    sold_on: date
    installed_on: date | None = None
    accepted_on: date | None = None
    installer_id: Ref | None = None
    card_received_on: date | None = Field(
        default=None,
        description="When the dealer's registration card arrived. A dealer's own registration is its "
        "card and counts on the day it is made (give today's date or nothing).",
    )


class OwnerOut(BaseModel):
    customer_id: str
    from_date: date


class UnitOut(BaseModel):
    serial: str
    model_code: str
    dealer_id: str
    customer_id: str
    sold_on: date
    sale_date_known: bool = Field(
        description="False while a unit known from its installation waits for the card's sale date"
    )
    installed_on: date | None
    accepted_on: date | None
    installer_id: str | None
    card_received_on: date | None
    registered_on_time: bool
    registration_status: RegistrationStatus
    owners: list[OwnerOut]
    version: int

    @classmethod
    def of(cls, unit: RegisteredUnit, version: int, *, today: date) -> UnitOut:
        return cls(
            serial=unit.serial,
            model_code=unit.model_code,
            dealer_id=unit.dealer_id,
            customer_id=unit.customer_id,
            sold_on=unit.sold_on,
            sale_date_known=unit.sale_date_known,
            installed_on=unit.installed_on,
            accepted_on=unit.accepted_on,
            installer_id=unit.installer_id,
            card_received_on=unit.card_received_on,
            registered_on_time=registered_on_time(unit),
            registration_status=registration_status(unit, today=today),
            owners=[OwnerOut(customer_id=o.customer_id, from_date=o.from_date) for o in unit.owners],
            version=version,
        )


class BulkIn(BaseModel):
    units: list[UnitIn] = Field(min_length=1, max_length=1000)


class BulkOut(BaseModel):
    registered: list[UnitOut]


def _card_arrival(principal: Principal, stated: date | None, today: date) -> date | None:
    """A dealer's card arrives when the dealer sends it; only staff record an earlier paper card."""
    if not principal.is_partner:
        return stated
    if stated is not None and stated != today:
        raise Forbidden(
            f"a dealer's registration card counts on the day it arrives ({today.isoformat()})",
            code="card-date-is-arrival",
        )
    return today


async def _register(
    uow: UnitOfWork, body: UnitIn, *, dealer_id: str, channel: str, principal: Principal
) -> UnitOut:
    today = uow.now().date()
    unit = RegisteredUnit.register(
        serial=body.serial,
        model_code=body.model_code,
        customer_id=body.customer_id,
        dealer_id=dealer_id,
        sold_on=body.sold_on,
        at=uow.now(),
        actor=principal.actor,
        installed_on=body.installed_on,
        accepted_on=body.accepted_on,
        installer_id=body.installer_id,
        card_received_on=_card_arrival(principal, body.card_received_on, today),
    )
    await operations.register_unit(uow, unit, channel=channel, by=actor(principal), subject=principal.actor)
    return UnitOut.of(unit, 1, today=today)


@router.post("/units", status_code=201, response_model=UnitOut)
async def register_unit(
    body: UnitIn, request: Request, db: Db, principal: UnitWriter, key: IdempotencyKey = None
) -> Response:
    """Register a sold unit (``warranty.unit.registered.v1``)."""
    dealer_id = acting_dealer(principal, body.dealer_id)
    channel = "dealer_api" if principal.is_partner else "agent"

    async def create(uow: UnitOfWork) -> UnitOut:
        return await _register(uow, body, dealer_id=dealer_id, channel=channel, principal=principal)

    return await run_idempotent(request, db, key, create, headers=_etag_of)


@router.post("/units/bulk", status_code=201, response_model=BulkOut)
async def register_units_in_bulk(
    body: BulkIn, request: Request, db: Db, principal: UnitWriter, key: IdempotencyKey = None
) -> Response:
    """All or nothing: one bad row registers none, and the problem names the row."""
    dealers = [acting_dealer(principal, u.dealer_id) for u in body.units]

    async def create(uow: UnitOfWork) -> BulkOut:
        out: list[UnitOut] = []
        for index, (unit, dealer_id) in enumerate(zip(body.units, dealers, strict=True)):
            try:
                out.append(
                    await _register(
                        uow, unit, dealer_id=dealer_id, channel="bulk_import", principal=principal
                    )
                )
            except DomainError as exc:
                exc.extra["row"] = index
                exc.extra["serial"] = unit.serial
                raise
        return BulkOut(registered=out)

    return await run_idempotent(request, db, key, create)


@router.get("/units/{serial}", response_model=UnitOut)
async def get_unit(serial: str, db: Db, principal: AnyStaff) -> Response:
    async with db.engine.connect() as conn:
        found = await store.get_unit(conn, serial)
    if found is None:
        raise NotFound(f"unit {serial} not found")
    ensure_visible(principal, found[0].dealer_id, f"unit {serial}")
    return json_response(UnitOut.of(*found, today=db.clock.now().date()), etag=etag(found[1]))


@router.get("/units")
async def list_units(db: Db, principal: AnyStaff, limit: Limit = 50, cursor: Cursor = None) -> Page[UnitOut]:
    after = decode_cursor(cursor)
    today = db.clock.now().date()
    async with db.engine.connect() as conn:
        rows = await store.list_units(
            conn, dealer_id=dealer_scope(principal), after=str(after[0]) if after else None, limit=limit + 1
        )
    return page_of([UnitOut.of(u, v, today=today) for u, v in rows], limit, lambda u: (u.serial,))


def _checks(principal: Principal, serial: str, if_match: str | None) -> Callable[[RegisteredUnit, int], None]:
    def check(unit: RegisteredUnit, version: int) -> None:
        ensure_visible(principal, unit.dealer_id, f"unit {serial}")
        check_if_match(if_match, version)

    return check


def _changed(change: operations.UnitChange, today: date) -> Response:
    return json_response(UnitOut.of(change.unit, change.version, today=today), etag=etag(change.version))


class InstallationIn(BaseModel):
    installed_on: date
    accepted_on: date | None = Field(default=None, description="The customer's acceptance (commissioning)")
    installer_id: Ref | None = Field(default=None, description="The technician who installed it")


@router.post("/units/{serial}/installation", response_model=UnitOut)
async def record_installation(
    serial: str, body: InstallationIn, db: Db, principal: UnitWriter, if_match: IfMatch = None
) -> Response:
    """Record (or correct) the installation and acceptance dates; under most policies the warranty
    starts there. Completed installation work orders record it by themselves."""
    async with db.transaction() as uow:
        change = await operations.change_unit(
            uow,
            serial,
            lambda unit: unit.record_installation(
                installed_on=body.installed_on,
                accepted_on=body.accepted_on,
                installer_id=body.installer_id,
                at=uow.now(),
                actor=principal.actor,
            ),
            by=actor(principal),
            subject=principal.actor,
            action="unit.installation_recorded",
            check=_checks(principal, serial, if_match),
        )
    return _changed(change, db.clock.now().date())


class RegistrationCardIn(BaseModel):
    received_on: date | None = Field(
        default=None,
        description="When a paper card arrived (staff). A dealer's card counts on the day it is sent; "
        "leave it out.",
    )
    sold_on: date | None = Field(
        default=None, description="The sale date on the card, for a unit first known from its installation"
    )


@router.post("/units/{serial}/registration-card", response_model=UnitOut)
async def record_registration_card(
    serial: str, body: RegistrationCardIn, db: Db, principal: UnitWriter, if_match: IfMatch = None
) -> Response:
    """The dealer's registration card arrived: the dealer's 20-day rule is judged from its date
    (day 20 after the sale is on time, day 21 late). The first arrival counts."""
    async with db.transaction() as uow:
        today = uow.now().date()
        received_on = _card_arrival(principal, body.received_on, today) or today
        change = await operations.change_unit(
            uow,
            serial,
            lambda unit: unit.record_registration_card(
                received_on=received_on, sold_on=body.sold_on, at=uow.now(), actor=principal.actor
            ),
            by=actor(principal),
            subject=principal.actor,
            action="unit.registration_card_received",
            check=_checks(principal, serial, if_match),
        )
    return _changed(change, db.clock.now().date())


class TransferIn(BaseModel):
    to_customer_id: Ref
    transferred_on: date
    reason: Annotated[str, Field(max_length=300)] = ""


@router.post("/units/{serial}/transfer", response_model=UnitOut)
async def transfer_unit(
    serial: str, body: TransferIn, db: Db, principal: UnitWriter, if_match: IfMatch = None
) -> Response:
    """Record a new owner from a date (``warranty.unit.transferred.v1``); the warranty stays with the unit."""
    async with db.transaction() as uow:
        change = await operations.transfer_unit(
            uow,
            serial,
            to_customer_id=body.to_customer_id,
            transferred_on=body.transferred_on,
            reason=body.reason,
            by=actor(principal),
            subject=principal.actor,
            check=_checks(principal, serial, if_match),
        )
    return _changed(change, db.clock.now().date())


class ContractIn(BaseModel):
    contract_id: Ref
    tier: ContractTier
    starts_on: date
    months: Annotated[int, Field(ge=1, le=120)]
    covers_parts: bool = True
    covers_labour: bool = True
    covers_travel: bool = True


@router.post("/units/{serial}/contracts", status_code=201)
async def add_service_contract(serial: str, body: ContractIn, db: Db, principal: UnitWriter) -> ContractIn:
    """Add a service contract that extends the unit's cover."""
    contract = ServiceContract.for_months(
        contract_id=body.contract_id,
        serial=serial,
        tier=body.tier,
        starts_on=body.starts_on,
        months=body.months,
        covers_parts=body.covers_parts,
        covers_labour=body.covers_labour,
        covers_travel=body.covers_travel,
    )
    async with db.transaction() as uow:
        await operations.add_contract(
            uow,
            contract,
            by=actor(principal),
            subject=principal.actor,
            check=_checks(principal, serial, None),
        )
    return body


def _etag_of(created: BaseModel) -> dict[str, str]:
    """The ETag of what was just created, so the next change can send ``If-Match`` straight away."""
    assert isinstance(created, UnitOut)
    return {"ETag": etag(created.version)}
