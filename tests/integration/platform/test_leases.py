"""Leases on PostgreSQL: one holder at a time, renewed by its holder, taken over when it expires or is
given up, and decided by the database when replicas race for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from infra import create_database, drop_database, pg_url

from kit import leases
from kit.clock import ManualClock
from kit.db import Database
from kit.tables import define_platform_tables, new_metadata

pytestmark = pytest.mark.integration

metadata = new_metadata()
platform = define_platform_tables(metadata)
table = leases.define_lease_table(metadata)
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    name = await create_database()
    database = Database(pg_url(name), service="lease-test", tables=platform, clock=ManualClock())
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()
    await drop_database(name)


async def _take(db: Database, holder: str, minutes: int = 1) -> bool:
    async with db.transaction() as uow:
        return await leases.take(
            uow, table, "imap:support", holder=holder, until=uow.now() + minutes * MINUTE
        )


async def test_one_holder_at_a_time_until_its_lease_runs_out_or_it_gives_it_up(db: Database) -> None:
    clock = db.clock
    assert isinstance(clock, ManualClock)
    assert await _take(db, "a")
    assert not await _take(db, "b")
    clock.advance(timedelta(seconds=50))
    assert await _take(db, "a")  # renewed: another minute from now
    clock.advance(timedelta(seconds=50))
    assert not await _take(db, "b")
    clock.advance(timedelta(seconds=11))  # a stopped renewing and its lease ran out
    assert await _take(db, "b")
    assert not await _take(db, "a")
    async with db.transaction() as uow:
        await leases.give_up(uow, table, "imap:support", holder="a")  # not a's to give up: no effect
    assert not await _take(db, "a")
    async with db.transaction() as uow:
        await leases.give_up(uow, table, "imap:support", holder="b")
    assert await _take(db, "a")  # at once, without waiting for b's lease to run out


async def test_replicas_racing_for_a_free_lease_get_exactly_one_holder(db: Database) -> None:
    taken = await asyncio.gather(*(_take(db, f"replica-{n}") for n in range(12)))
    assert taken.count(True) == 1
