"""Product lines, models and policy versions, and the in-memory catalogue every decision reads."""

from __future__ import annotations

import uuid
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.domain import Conflict
from warranty import codec
from warranty.domain import (
    Catalogue,
    ProductLine,
    ProductModel,
    WarrantyPolicy,
)
from warranty.tables import (
    catalogue_revision,
    policies,
    product_lines,
    product_models,
)

#
# Every decision reads the catalogue (models, lines, policy versions), which changes rarely. Each
# process keeps it in memory per database and reloads it when the revision token, which every
# catalogue write replaces in its own transaction, differs from the one it holds; decisions read
# the token in the same query as the unit, so they never act on a catalogue older than their read.

_catalogues: weakref.WeakKeyDictionary[Engine, Catalogue] = weakref.WeakKeyDictionary()


async def _bump_catalogue_revision(conn: AsyncConnection) -> None:
    # a fresh token rather than a counter: a rolled-back write must never leave its number reusable
    token = str(uuid.uuid4())
    done = await conn.execute(
        catalogue_revision.update().where(catalogue_revision.c.id == 1).values(revision=token)
    )
    if done.rowcount == 0:
        await conn.execute(catalogue_revision.insert().values(id=1, revision=token))


def _revision_column() -> Any:
    return select(catalogue_revision.c.revision).where(catalogue_revision.c.id == 1).scalar_subquery()


async def catalogue(conn: AsyncConnection, revision: str | None = None) -> Catalogue:
    """The catalogue as of ``revision`` (read now when not given), from memory when it is current."""
    if revision is None:
        revision = (await conn.execute(select(_revision_column()))).scalar_one_or_none()
    cached = _catalogues.get(conn.sync_engine)
    if cached is not None and revision is not None and cached.revision == revision:
        return cached
    lines = {
        row.code: ProductLine(row.code, row.name, codec.standard_repairs_of(row.standard_repairs))
        for row in (await conn.execute(select(product_lines))).all()
    }
    models = {row.code: _model(row) for row in (await conn.execute(select(product_models))).all()}
    by_line: dict[str, list[WarrantyPolicy]] = {}
    for policy in await list_policies(conn):
        by_line.setdefault(policy.line_code, []).append(policy)
    loaded = Catalogue(revision or "", lines, models, by_line)
    if revision is not None:
        _catalogues[conn.sync_engine] = loaded
    return loaded


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
    await _bump_catalogue_revision(conn)


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
    await _bump_catalogue_revision(conn)


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
    await _bump_catalogue_revision(conn)


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
