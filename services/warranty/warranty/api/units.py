"""Registered units: registration by dealers (one or in bulk), lookup, ownership transfer, contracts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kit.concurrency import IfMatch, check_if_match, etag
from kit.db import UnitOfWork
from kit.deps import Db
from kit.domain import DomainError, NotFound
from kit.idempotency import IdempotencyKey, json_response, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of
from warranty import events, store
from warranty.api.common import AnyStaff, UnitWriter, acting_dealer, actor, dealer_scope, ensure_visible
from warranty.domain import ContractTier, RegisteredUnit, ServiceContract, registered_on_time

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
    card_received_on: date | None = None


class OwnerOut(BaseModel):
    customer_id: str
    from_date: date


class UnitOut(BaseModel):
    serial: str
    model_code: str
    dealer_id: str
    customer_id: str
    sold_on: date
    installed_on: date | None
    accepted_on: date | None
    installer_id: str | None
    card_received_on: date | None
    registered_on_time: bool
    owners: list[OwnerOut]
    version: int

    @classmethod
    def of(cls, unit: RegisteredUnit, version: int) -> UnitOut:
        return cls(
            serial=unit.serial,
            model_code=unit.model_code,
            dealer_id=unit.dealer_id,
            customer_id=unit.customer_id,
            sold_on=unit.sold_on,
            installed_on=unit.installed_on,
            accepted_on=unit.accepted_on,
            installer_id=unit.installer_id,
            card_received_on=unit.card_received_on,
            registered_on_time=registered_on_time(unit),
            owners=[OwnerOut(customer_id=o.customer_id, from_date=o.from_date) for o in unit.owners],
            version=version,
        )


class BulkIn(BaseModel):
    units: list[UnitIn] = Field(min_length=1, max_length=1000)


class BulkOut(BaseModel):
    registered: list[UnitOut]


async def register(
    uow: UnitOfWork, body: UnitIn, *, dealer_id: str, channel: str, subject: str, partner: bool
) -> UnitOut:
    """Register one unit for ``dealer_id`` and emit ``warranty.unit.registered.v1``."""
    model = await store.get_model(uow.conn, body.model_code)
    if model is None:
        raise NotFound(f"product model {body.model_code} not found")
    unit = RegisteredUnit.register(
        serial=body.serial,
        model_code=body.model_code,
        customer_id=body.customer_id,
        dealer_id=dealer_id,
        sold_on=body.sold_on,
        at=uow.now(),
        actor=subject,
        installed_on=body.installed_on,
        accepted_on=body.accepted_on,
        installer_id=body.installer_id,
        card_received_on=body.card_received_on,
    )
    policy = await store.policy_for(uow.conn, model, unit.sold_on)
    await store.insert_unit(uow.conn, unit, at=uow.now())
    unit.pull_events()
    by = events.actor_of(subject, partner=partner)
    uow.emit(events.unit_registered(unit, model, policy, channel=channel, at=uow.now(), by=by))
    uow.audit(actor=subject, action="unit.registered", entity_type="unit", entity_id=unit.serial)
    return UnitOut.of(unit, 1)


@router.post("/units", status_code=201)
async def register_unit(
    body: UnitIn, request: Request, db: Db, principal: UnitWriter, key: IdempotencyKey = None
) -> Response:
    dealer_id = acting_dealer(principal, body.dealer_id)

    async def create(uow: UnitOfWork) -> UnitOut:
        return await register(
            uow,
            body,
            dealer_id=dealer_id,
            channel="dealer_api" if principal.is_partner else "agent",
            subject=principal.actor,
            partner=principal.is_partner,
        )

    return await run_idempotent(request, db, key, create)


@router.post("/units/bulk", status_code=201)
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
                    await register(
                        uow,
                        unit,
                        dealer_id=dealer_id,
                        channel="bulk_import",
                        subject=principal.actor,
                        partner=principal.is_partner,
                    )
                )
            except DomainError as exc:
                exc.extra["row"] = index
                exc.extra["serial"] = unit.serial
                raise
        return BulkOut(registered=out)

    return await run_idempotent(request, db, key, create)


@router.get("/units/{serial}")
async def get_unit(serial: str, db: Db, principal: AnyStaff) -> Response:
    async with db.engine.connect() as conn:
        found = await store.get_unit(conn, serial)
    if found is None:
        raise NotFound(f"unit {serial} not found")
    ensure_visible(principal, found[0].dealer_id, f"unit {serial}")
    return json_response(UnitOut.of(*found), etag=etag(found[1]))


@router.get("/units")
async def list_units(db: Db, principal: AnyStaff, limit: Limit = 50, cursor: Cursor = None) -> Page[UnitOut]:
    after = decode_cursor(cursor)
    async with db.engine.connect() as conn:
        rows = await store.list_units(
            conn, dealer_id=dealer_scope(principal), after=str(after[0]) if after else None, limit=limit + 1
        )
    return page_of([UnitOut.of(u, v) for u, v in rows], limit, lambda u: (u.serial,))


class TransferIn(BaseModel):
    to_customer_id: Ref
    transferred_on: date
    reason: Annotated[str, Field(max_length=300)] = ""


@router.post("/units/{serial}/transfer")
async def transfer_unit(
    serial: str, body: TransferIn, db: Db, principal: UnitWriter, if_match: IfMatch = None
) -> Response:
    async with db.transaction() as uow:
        found = await store.get_unit(uow.conn, serial)
        if found is None:
            raise NotFound(f"unit {serial} not found")
        unit, version = found
        ensure_visible(principal, unit.dealer_id, f"unit {serial}")
        check_if_match(if_match, version)
        previous = unit.customer_id
        unit.transfer_to(
            body.to_customer_id,
            transferred_on=body.transferred_on,
            at=uow.now(),
            actor=principal.actor,
            reason=body.reason,
        )
        unit.pull_events()
        version = await store.update_unit(uow.conn, unit, version=version, at=uow.now())
        uow.emit(
            events.unit_transferred(
                unit, version=version, from_customer_id=previous, at=uow.now(), by=actor(principal)
            )
        )
        uow.audit(
            actor=principal.actor,
            action="unit.transferred",
            entity_type="unit",
            entity_id=serial,
            to_customer_id=body.to_customer_id,
        )
    return json_response(UnitOut.of(unit, version), etag=etag(version))


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
    async with db.transaction() as uow:
        found = await store.get_unit(uow.conn, serial)
        if found is None:
            raise NotFound(f"unit {serial} not found")
        ensure_visible(principal, found[0].dealer_id, f"unit {serial}")
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
        await store.add_contract(uow.conn, contract)
        uow.audit(
            actor=principal.actor,
            action="contract.added",
            entity_type="unit",
            entity_id=serial,
            contract_id=body.contract_id,
        )
    return body
