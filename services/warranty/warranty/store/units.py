"""Registered units and their service contracts; everything an entitlement decision reads, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnClause

from kit.domain import Conflict
from warranty import codec
from warranty.domain import (
    ContractTier,
    RegisteredUnit,
    RepairEvent,
    ServiceContract,
)
from warranty.store.repairs import repairs_for
from warranty.tables import (
    catalogue_revision,
    repairs,
    service_contracts,
    units,
)


def _unit(row: Any) -> RegisteredUnit:
    return RegisteredUnit(
        serial=row.serial,
        model_code=row.model_code,
        dealer_id=row.dealer_id,
        sold_on=row.sold_on,
        owners=codec.owners_of(row.owners),
        installed_on=row.installed_on,
        accepted_on=row.accepted_on,
        installer_id=row.installer_id,
        card_received_on=row.card_received_on,
        sale_date_known=row.sale_date_known,
    )


async def get_unit(conn: AsyncConnection, serial: str) -> tuple[RegisteredUnit, int] | None:
    """The unit and its version, or None for an unregistered serial."""
    row = (await conn.execute(select(units).where(units.c.serial == serial))).first()
    return None if row is None else (_unit(row), row.version)


async def insert_unit(conn: AsyncConnection, unit: RegisteredUnit, *, at: datetime) -> None:
    if (await conn.execute(select(units.c.serial).where(units.c.serial == unit.serial))).first() is not None:
        raise Conflict(f"unit {unit.serial} is already registered", code="unit-already-registered")
    await conn.execute(
        units.insert().values(**_unit_values(unit), version=1, registered_at=at, updated_at=at)
    )


async def update_unit(conn: AsyncConnection, unit: RegisteredUnit, *, version: int, at: datetime) -> int:
    """Save a changed unit; returns its new version (optimistic: the version must not have moved)."""
    done = await conn.execute(
        units.update()
        .where(units.c.serial == unit.serial, units.c.version == version)
        .values(**_unit_values(unit), version=version + 1, updated_at=at)
    )
    if done.rowcount != 1:
        raise Conflict(f"unit {unit.serial} was changed concurrently; retry", code="unit-changed")
    return version + 1


def _unit_values(unit: RegisteredUnit) -> dict[str, Any]:
    return {
        "serial": unit.serial,
        "model_code": unit.model_code,
        "dealer_id": unit.dealer_id,
        "customer_id": unit.customer_id,
        "sold_on": unit.sold_on,
        "installed_on": unit.installed_on,
        "accepted_on": unit.accepted_on,
        "installer_id": unit.installer_id,
        "card_received_on": unit.card_received_on,
        "sale_date_known": unit.sale_date_known,
        "owners": codec.owners_json(unit.owners),
    }


async def list_units(
    conn: AsyncConnection, *, dealer_id: str | None, after: str | None, limit: int
) -> list[tuple[RegisteredUnit, int]]:
    query = select(units).order_by(units.c.serial).limit(limit)
    if dealer_id is not None:
        query = query.where(units.c.dealer_id == dealer_id)
    if after is not None:
        query = query.where(units.c.serial > after)
    return [(_unit(row), row.version) for row in (await conn.execute(query)).all()]


async def add_contract(conn: AsyncConnection, contract: ServiceContract) -> None:
    try:
        async with conn.begin_nested():
            await conn.execute(
                service_contracts.insert().values(
                    contract_id=contract.contract_id,
                    serial=contract.serial,
                    tier=contract.tier.value,
                    starts_on=contract.starts_on,
                    ends_on=contract.ends_on,
                    covers_parts=contract.covers_parts,
                    covers_labour=contract.covers_labour,
                    covers_travel=contract.covers_travel,
                )
            )
    except IntegrityError:
        raise Conflict(f"contract {contract.contract_id} already exists", code="contract-exists") from None


async def contracts_for(conn: AsyncConnection, serial: str) -> list[ServiceContract]:
    rows = (
        await conn.execute(
            select(service_contracts)
            .where(service_contracts.c.serial == serial)
            .order_by(service_contracts.c.starts_on)
        )
    ).all()
    return [_contract(r._mapping) for r in rows]


def _contract(r: Any) -> ServiceContract:
    return ServiceContract(
        r["contract_id"],
        r["serial"],
        ContractTier(r["tier"]),
        _date(r["starts_on"]),
        _date(r["ends_on"]),
        bool(r["covers_parts"]),
        bool(r["covers_labour"]),
        bool(r["covers_travel"]),
    )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- everything one entitlement decision reads, in one round trip ---------------------------------


@dataclass(frozen=True)
class DecisionFacts:
    catalogue_revision: str | None
    unit: RegisteredUnit | None
    contracts: list[ServiceContract]
    repairs: list[RepairEvent]


def _json_rows(conn: AsyncConnection, *columns: ColumnClause[Any]) -> ColumnElement[Any]:
    """The rows of ``columns`` aggregated into one JSON array of objects (an empty array for none)."""
    pairs: list[Any] = []
    for column in columns:  # the keys are our own column names, written into the SQL as they are
        pairs.extend((literal_column(f"'{column.name}'"), column))
    rows: ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        rows = func.coalesce(func.json_agg(func.json_build_object(*pairs)), literal_column("'[]'::json"))
    else:
        rows = func.json_group_array(func.json_object(*pairs))
    return type_coerce(rows, JSON)


_decision_queries: dict[str, Select[Any]] = {}


def _decision_query(conn: AsyncConnection) -> Select[Any]:
    """The decision query of this database's dialect, built once (building it costs more than running it)."""
    query = _decision_queries.get(conn.dialect.name)
    if query is None:
        contracts = (
            select(_json_rows(conn, *service_contracts.c))
            .where(service_contracts.c.serial == units.c.serial)
            .scalar_subquery()
            .label("contracts_json")
        )
        history = (
            select(
                _json_rows(
                    conn,
                    repairs.c.repaired_on,
                    repairs.c.fault_code,
                    repairs.c.work_order_id,
                    repairs.c.completed_at,
                )
            )
            .where(repairs.c.serial == units.c.serial)
            .scalar_subquery()
            .label("repairs_json")
        )
        query = (
            select(catalogue_revision.c.revision.label("catalogue_revision"), units, contracts, history)
            .select_from(catalogue_revision.outerjoin(units, units.c.serial == bindparam("serial")))
            .where(catalogue_revision.c.id == 1)
        )
        _decision_queries[conn.dialect.name] = query
    return query


async def decision_facts(conn: AsyncConnection, serial: str | None) -> DecisionFacts:
    """The catalogue revision, and the unit with its contracts and repair history, in one query."""
    row = (await conn.execute(_decision_query(conn), {"serial": serial})).first()
    if row is None:  # no catalogue revision on record yet: read the unit the long way
        unit = await get_unit(conn, serial) if serial is not None else None
        if unit is None or serial is None:
            return DecisionFacts(None, None, [], [])
        return DecisionFacts(
            None, unit[0], await contracts_for(conn, serial), await repairs_for(conn, serial)
        )
    if row.serial is None:
        return DecisionFacts(row.catalogue_revision, None, [], [])
    done = sorted(row.repairs_json, key=lambda r: (str(r["repaired_on"]), str(r["completed_at"])))
    return DecisionFacts(
        row.catalogue_revision,
        _unit(row),
        sorted((_contract(c) for c in row.contracts_json), key=lambda c: c.starts_on),
        [RepairEvent(_date(r["repaired_on"]), r["fault_code"], r["work_order_id"]) for r in done],
    )
