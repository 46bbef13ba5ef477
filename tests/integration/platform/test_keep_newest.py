"""A local copy of another service's fact keeps the newest version whatever order the events come in,
also when several consumers apply them at the same moment (one statement, no read-then-write race)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from infra import create_database, drop_database, pg_url
from sqlalchemy import Column, Integer, String, Table, select

from kit.copies import keep_newest
from kit.db import Database
from kit.tables import define_platform_tables, new_metadata

pytestmark = pytest.mark.integration

metadata = new_metadata()
platform = define_platform_tables(metadata)
orders = Table(
    "order_copies",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", String(20), nullable=False),
)


@pytest.fixture(params=["postgresql", "sqlite"])
async def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    if request.param == "postgresql":
        name = await create_database()
        url = pg_url(name)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('copies') / 'copies.db'}"
    database = Database(url, service="copies-test", tables=platform)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()
    if request.param == "postgresql":
        await drop_database(name)


async def _keep(db: Database, version: int, state: str, **options: bool) -> bool:
    async with db.transaction() as uow:
        return await keep_newest(
            uow,
            orders,
            {"order_id": "wo-1", "version": version, "state": state},
            order_by="version",
            **options,
        )


async def _held(db: Database) -> tuple[int, str]:
    async with db.engine.connect() as conn:
        row = (await conn.execute(select(orders.c.version, orders.c.state))).one()
        return row.version, row.state


async def test_an_older_fact_arriving_late_does_not_overwrite_a_newer_one(db: Database) -> None:
    assert await _keep(db, 5, "completed")
    assert not await _keep(db, 2, "assigned")
    assert await _held(db) == (5, "completed")
    assert not await _keep(db, 5, "completed again"), "the same version again is a duplicate"
    assert await _keep(db, 5, "corrected", replace_equal=True), "unless the later of equals should win"
    assert await _held(db) == (5, "corrected")


async def test_facts_applied_at_once_leave_the_newest(db: Database) -> None:
    versions = [3, 9, 1, 7, 9, 2, 8, 4, 6, 5]
    kept = await asyncio.gather(*(_keep(db, v, f"state-{v}") for v in versions))
    assert await _held(db) == (9, "state-9")
    assert any(kept)
