"""All SQL of the warranty service: load and save units, policies, repairs, claims and statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.domain import Conflict, Money, NotFound
from warranty import codec
from warranty.domain import (
    ContractTier,
    ProductLine,
    ProductModel,
    RegisteredUnit,
    RepairEvent,
    ServiceContract,
    WarrantyPolicy,
    policy_in_force,
)
from warranty.domain.claims import Claim, ClaimState, ClaimTransition, PartReturn, ReturnOutcome
from warranty.domain.statistics import RepairFact
from warranty.tables import (
    claim_lines,
    claim_transitions,
    claims,
    entitlements,
    part_returns,
    policies,
    product_lines,
    product_models,
    repairs,
    replacement_eligibilities,
    service_contracts,
    settlement_statements,
    units,
)

# --- catalogue ----------------------------------------------------------------------------------


async def save_line(conn: AsyncConnection, line: ProductLine) -> None:
    values = {
        "name": line.name,
        "standard_repairs": codec.standard_repairs_json(line.standard_repairs.values()),
    }
    done = await conn.execute(
        product_lines.update().where(product_lines.c.code == line.code).values(**values)
    )
    if done.rowcount == 0:
        await conn.execute(product_lines.insert().values(code=line.code, **values))


async def get_line(conn: AsyncConnection, code: str) -> ProductLine | None:
    row = (await conn.execute(select(product_lines).where(product_lines.c.code == code))).first()
    if row is None:
        return None
    return ProductLine(row.code, row.name, codec.standard_repairs_of(row.standard_repairs))


async def save_model(conn: AsyncConnection, model: ProductModel) -> None:
    values = {
        "name": model.name,
        "line_code": model.line_code,
        "grade": model.grade,
        "bill_of_materials": sorted(model.bill_of_materials),
        "standard_repairs": codec.standard_repairs_json(model.standard_repairs.values()),
    }
    done = await conn.execute(
        product_models.update().where(product_models.c.code == model.code).values(**values)
    )
    if done.rowcount == 0:
        await conn.execute(product_models.insert().values(code=model.code, **values))


def _model(row: Any) -> ProductModel:
    return ProductModel(
        code=row.code,
        name=row.name,
        line_code=row.line_code,
        grade=row.grade,
        bill_of_materials=frozenset(row.bill_of_materials),
        standard_repairs=codec.standard_repairs_of(row.standard_repairs),
    )


async def get_model(conn: AsyncConnection, code: str) -> ProductModel | None:
    row = (await conn.execute(select(product_models).where(product_models.c.code == code))).first()
    return None if row is None else _model(row)


async def list_models(conn: AsyncConnection, *, line_code: str | None = None) -> list[ProductModel]:
    query = select(product_models).order_by(product_models.c.code)
    if line_code is not None:
        query = query.where(product_models.c.line_code == line_code)
    return [_model(row) for row in (await conn.execute(query)).all()]


async def add_policy(conn: AsyncConnection, policy: WarrantyPolicy, *, at: datetime) -> None:
    exists = (
        await conn.execute(
            select(policies.c.version).where(
                policies.c.policy_id == policy.policy_id, policies.c.version == policy.version
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(
            f"policy {policy.label} already exists; add a new version", code="policy-version-exists"
        )
    await conn.execute(
        policies.insert().values(
            policy_id=policy.policy_id,
            version=policy.version,
            line_code=policy.line_code,
            model_code=policy.model_code,
            effective_from=policy.effective_from,
            config=codec.policy_json(policy),
            created_at=at,
        )
    )


def _policy(row: Any) -> WarrantyPolicy:
    return codec.policy_of(
        policy_id=row.policy_id,
        version=row.version,
        effective_from=row.effective_from,
        line_code=row.line_code,
        model_code=row.model_code,
        config=row.config,
    )


async def list_policies(conn: AsyncConnection, *, line_code: str | None = None) -> list[WarrantyPolicy]:
    query = select(policies).order_by(policies.c.policy_id, policies.c.version)
    if line_code is not None:
        query = query.where(policies.c.line_code == line_code)
    return [_policy(row) for row in (await conn.execute(query)).all()]


async def policy_for(conn: AsyncConnection, model: ProductModel, sold_on: date) -> WarrantyPolicy:
    """The policy version in force for ``model`` when a unit was sold on ``sold_on``."""
    return policy_in_force(await list_policies(conn, line_code=model.line_code), sold_on, model=model)


# --- units --------------------------------------------------------------------------------------


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


async def contracts_for(conn: AsyncConnection, serial: str) -> list[ServiceContract]:
    rows = (
        await conn.execute(
            select(service_contracts)
            .where(service_contracts.c.serial == serial)
            .order_by(service_contracts.c.starts_on)
        )
    ).all()
    return [
        ServiceContract(
            r.contract_id,
            r.serial,
            ContractTier(r.tier),
            r.starts_on,
            r.ends_on,
            r.covers_parts,
            r.covers_labour,
            r.covers_travel,
        )
        for r in rows
    ]


# --- entitlements and repairs ---------------------------------------------------------------------


async def record_entitlement(
    conn: AsyncConnection,
    *,
    entitlement_id: str,
    ticket_id: str | None,
    serial: str | None,
    decided_on: date,
    coverage: str,
    decision: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        entitlements.insert().values(
            entitlement_id=entitlement_id,
            ticket_id=ticket_id,
            serial=serial,
            decided_on=decided_on,
            coverage=coverage,
            decision=decision,
            determined_at=at,
        )
    )


async def repairs_for(conn: AsyncConnection, serial: str) -> list[RepairEvent]:
    rows = (
        await conn.execute(
            select(repairs.c.repaired_on, repairs.c.fault_code, repairs.c.work_order_id)
            .where(repairs.c.serial == serial)
            .order_by(repairs.c.repaired_on, repairs.c.completed_at)
        )
    ).all()
    return [RepairEvent(r.repaired_on, r.fault_code, r.work_order_id) for r in rows]


async def add_repair(
    conn: AsyncConnection,
    *,
    work_order_id: str,
    serial: str,
    model_code: str | None,
    fault_code: str,
    repaired_on: date,
    dealer_id: str | None,
    ticket_id: str | None,
    part_numbers: Sequence[str],
    completed_at: datetime,
) -> bool:
    """Record a completed repair; False when this work order was already counted."""
    known = (
        await conn.execute(select(repairs.c.work_order_id).where(repairs.c.work_order_id == work_order_id))
    ).first()
    if known is not None:
        return False
    await conn.execute(
        repairs.insert().values(
            work_order_id=work_order_id,
            serial=serial,
            model_code=model_code,
            fault_code=fault_code,
            repaired_on=repaired_on,
            dealer_id=dealer_id,
            ticket_id=ticket_id,
            part_numbers=list(part_numbers),
            completed_at=completed_at,
        )
    )
    return True


async def replacement_already_earned(
    conn: AsyncConnection, *, serial: str, fault_code: str, since: date
) -> bool:
    row = (
        await conn.execute(
            select(replacement_eligibilities.c.earned_on).where(
                replacement_eligibilities.c.serial == serial,
                replacement_eligibilities.c.fault_code == fault_code,
                replacement_eligibilities.c.earned_on >= since,
            )
        )
    ).first()
    return row is not None


async def record_replacement(
    conn: AsyncConnection, *, serial: str, fault_code: str, earned_on: date, work_order_ids: list[str]
) -> None:
    await conn.execute(
        replacement_eligibilities.insert().values(
            serial=serial, fault_code=fault_code, earned_on=earned_on, work_order_ids=work_order_ids
        )
    )


async def repair_facts(conn: AsyncConnection, *, since: date, until: date) -> list[RepairFact]:
    rows = (
        await conn.execute(
            select(repairs).where(repairs.c.repaired_on >= since, repairs.c.repaired_on <= until)
        )
    ).all()
    return [
        RepairFact(
            r.serial,
            r.model_code or "unknown",
            r.fault_code,
            r.repaired_on,
            tuple(r.part_numbers),
            r.work_order_id,
        )
        for r in rows
    ]


# --- part returns -------------------------------------------------------------------------------


async def record_part_return(
    conn: AsyncConnection,
    *,
    old_part_serial: str,
    return_id: str,
    part_number: str,
    claim_id: str | None,
    work_order_id: str | None,
    received_on: date | None = None,
    inspected_on: date | None = None,
    outcome: str | None = None,
    fault_confirmed: bool | None = None,
) -> None:
    row = (
        await conn.execute(select(part_returns).where(part_returns.c.old_part_serial == old_part_serial))
    ).first()
    if row is None:
        await conn.execute(
            part_returns.insert().values(
                old_part_serial=old_part_serial,
                return_id=return_id,
                part_number=part_number,
                claim_id=claim_id,
                work_order_id=work_order_id,
                received_on=received_on,
                inspected_on=inspected_on,
                outcome=outcome,
                fault_confirmed=fault_confirmed,
            )
        )
        return
    await conn.execute(
        part_returns.update()
        .where(part_returns.c.old_part_serial == old_part_serial)
        .values(
            claim_id=claim_id or row.claim_id,
            work_order_id=work_order_id or row.work_order_id,
            received_on=received_on or row.received_on,
            inspected_on=inspected_on or row.inspected_on,
            outcome=outcome or row.outcome,
            fault_confirmed=row.fault_confirmed if fault_confirmed is None else fault_confirmed,
        )
    )


async def part_returns_for(conn: AsyncConnection, serials: Sequence[str]) -> dict[str, PartReturn]:
    if not serials:
        return {}
    rows = (
        await conn.execute(select(part_returns).where(part_returns.c.old_part_serial.in_(list(serials))))
    ).all()
    return {
        r.old_part_serial: PartReturn(
            r.old_part_serial, r.received_on, r.inspected_on, ReturnOutcome(r.outcome) if r.outcome else None
        )
        for r in rows
    }


# --- claims -------------------------------------------------------------------------------------


def new_claim_number(claim_id: str) -> str:
    return "WC-" + claim_id.replace("-", "")[:12].upper()


async def insert_claim(conn: AsyncConnection, claim: Claim, *, origin: str, at: datetime) -> None:
    await conn.execute(
        claims.insert().values(
            claim_id=claim.claim_id,
            claim_number=new_claim_number(claim.claim_id),
            origin=origin,
            version=1,
            created_at=at,
            **_claim_values(claim, at),
        )
    )
    await _write_children(conn, claim, known_transitions=0)


async def update_claim(conn: AsyncConnection, claim: Claim, *, version: int, at: datetime) -> int:
    done = await conn.execute(
        claims.update()
        .where(claims.c.claim_id == claim.claim_id, claims.c.version == version)
        .values(**_claim_values(claim, at), version=version + 1)
    )
    if done.rowcount != 1:
        raise Conflict(f"claim {claim.claim_id} was changed concurrently; retry", code="claim-changed")
    known = (
        await conn.execute(
            select(func.count())
            .select_from(claim_transitions)
            .where(claim_transitions.c.claim_id == claim.claim_id)
        )
    ).scalar_one()
    await conn.execute(claim_lines.delete().where(claim_lines.c.claim_id == claim.claim_id))
    await _write_children(conn, claim, known_transitions=int(known))
    return version + 1


def _claim_values(claim: Claim, at: datetime) -> dict[str, Any]:
    return {
        "dealer_id": claim.dealer_id,
        "serial": claim.serial,
        "work_order_id": claim.record.work_order_id,
        "model_code": claim.model_code,
        "state": claim.state.value,
        "currency": claim.currency,
        "record": codec.record_json(claim.record),
        "parts": codec.parts_json(claim.parts),
        "customer_signature_ref": claim.customer_signature_ref,
        "photo_refs": list(claim.photo_refs),
        "removed_lines": dict(claim.removed_lines),
        "appraisals": [codec.appraisal_json(a) for a in claim.appraisals],
        "claimed": claim.total.amount,
        "approved_amount": None if claim.approved_amount is None else claim.approved_amount.amount,
        "decided_at": claim.decided_at,
        "statement_id": claim.statement_id,
        "updated_at": at,
    }


async def _write_children(conn: AsyncConnection, claim: Claim, *, known_transitions: int) -> None:
    lines = [
        {
            "claim_id": claim.claim_id,
            "line_id": line.line_id,
            "kind": line.kind.value,
            "part_number": line.part.part_number if line.part else None,
            "old_part_serial": line.part.old_part_serial if line.part else None,
            "amount": line.amount.amount,
            "currency": line.amount.currency,
            "removed_reason": claim.removed_lines.get(line.line_id),
        }
        for line in claim.lines
    ]
    if lines:
        await conn.execute(claim_lines.insert(), lines)
    new = [
        {
            "claim_id": claim.claim_id,
            "seq": seq,
            "action": t.action,
            "from_state": t.from_state.value if t.from_state else None,
            "to_state": t.to_state.value,
            "at": t.at,
            "actor": t.actor,
            "note": t.note,
        }
        for seq, t in enumerate(claim.history, start=1)
        if seq > known_transitions
    ]
    if new:
        await conn.execute(claim_transitions.insert(), new)


async def get_claim(conn: AsyncConnection, claim_id: str) -> tuple[Claim, int, str, str] | None:
    """The claim, its version, its claim number and its origin."""
    row = (await conn.execute(select(claims).where(claims.c.claim_id == claim_id))).first()
    if row is None:
        return None
    return (await _claims_of(conn, [row]))[0], row.version, row.claim_number, row.origin


async def require_claim(conn: AsyncConnection, claim_id: str) -> tuple[Claim, int, str, str]:
    found = await get_claim(conn, claim_id)
    if found is None:
        raise NotFound(f"claim {claim_id} not found")
    return found


async def _claims_of(conn: AsyncConnection, rows: Sequence[Any]) -> list[Claim]:
    ids = [r.claim_id for r in rows]
    history: dict[str, list[ClaimTransition]] = {i: [] for i in ids}
    if ids:
        trows = (
            await conn.execute(
                select(claim_transitions)
                .where(claim_transitions.c.claim_id.in_(ids))
                .order_by(claim_transitions.c.claim_id, claim_transitions.c.seq)
            )
        ).all()
        for t in trows:
            history[t.claim_id].append(
                ClaimTransition(
                    t.action,
                    ClaimState(t.from_state) if t.from_state else None,
                    ClaimState(t.to_state),
                    t.at,
                    t.actor,
                    t.note,
                )
            )
    return [
        Claim(
            claim_id=r.claim_id,
            dealer_id=r.dealer_id,
            serial=r.serial,
            record=codec.record_of(r.record),
            parts=codec.parts_of(r.parts),
            currency=r.currency,
            model_code=r.model_code,
            customer_signature_ref=r.customer_signature_ref,
            photo_refs=tuple(r.photo_refs),
            state=ClaimState(r.state),
            history=history[r.claim_id],
            appraisals=[codec.appraisal_of(a) for a in r.appraisals],
            removed_lines=dict(r.removed_lines),
            approved_amount=None
            if r.approved_amount is None
            else Money(Decimal(r.approved_amount), r.currency),
            decided_at=r.decided_at,
            statement_id=r.statement_id,
        )
        for r in rows
    ]


async def list_claims(
    conn: AsyncConnection,
    *,
    dealer_id: str | None,
    state: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Claim, str, datetime, str, int]]:
    """Claims with their number, creation time, origin and version, oldest first."""
    query = select(claims).order_by(claims.c.created_at, claims.c.claim_id).limit(limit)
    if dealer_id is not None:
        query = query.where(claims.c.dealer_id == dealer_id)
    if state is not None:
        query = query.where(claims.c.state == state)
    if after is not None:
        query = query.where(
            or_(
                claims.c.created_at > after[0],
                and_(claims.c.created_at == after[0], claims.c.claim_id > after[1]),
            )
        )
    rows = (await conn.execute(query)).all()
    loaded = await _claims_of(conn, rows)
    return [(c, r.claim_number, r.created_at, r.origin, r.version) for c, r in zip(loaded, rows, strict=True)]


async def claims_for_serial(conn: AsyncConnection, serial: str) -> list[Claim]:
    rows = (await conn.execute(select(claims).where(claims.c.serial == serial))).all()
    return await _claims_of(conn, rows)


async def claims_for_dealer(conn: AsyncConnection, dealer_id: str, *, decided_until: datetime) -> list[Claim]:
    rows = (
        await conn.execute(
            select(claims).where(
                claims.c.dealer_id == dealer_id,
                claims.c.state.in_([ClaimState.APPROVED.value, ClaimState.PARTIALLY_APPROVED.value]),
                claims.c.decided_at <= decided_until,
            )
        )
    ).all()
    return await _claims_of(conn, rows)


async def claims_decided_between(conn: AsyncConnection, *, since: datetime, until: datetime) -> list[Claim]:
    rows = (
        await conn.execute(select(claims).where(claims.c.decided_at >= since, claims.c.decided_at <= until))
    ).all()
    return await _claims_of(conn, rows)


async def claim_number_of(conn: AsyncConnection, claim_id: str) -> str:
    return str(
        (await conn.execute(select(claims.c.claim_number).where(claims.c.claim_id == claim_id))).scalar_one()
    )


async def save_statement(
    conn: AsyncConnection,
    *,
    statement_id: str,
    dealer_id: str,
    period_start: date,
    period_end: date,
    issued_on: date,
    document: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        settlement_statements.insert().values(
            statement_id=statement_id,
            dealer_id=dealer_id,
            period_start=period_start,
            period_end=period_end,
            issued_on=issued_on,
            document=document,
            issued_at=at,
        )
    )


async def repair_times(conn: AsyncConnection, work_order_ids: Sequence[str]) -> list[datetime]:
    if not work_order_ids:
        return []
    rows = (
        await conn.execute(
            select(repairs.c.completed_at).where(repairs.c.work_order_id.in_(list(work_order_ids)))
        )
    ).all()
    return [r.completed_at for r in rows]


async def get_statement(conn: AsyncConnection, statement_id: str) -> tuple[str, dict[str, Any]] | None:
    """The statement's dealer and its stored document (``json`` and ``csv``)."""
    row = (
        await conn.execute(
            select(settlement_statements).where(settlement_statements.c.statement_id == statement_id)
        )
    ).first()
    return None if row is None else (row.dealer_id, row.document)
