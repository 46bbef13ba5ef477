"""A unit of work on PostgreSQL begins its transaction only when it first writes: reads before that run
on their own, and a unit of work whose only write is its flush sends neither BEGIN nor COMMIT — yet
every guarantee of a transaction still holds (all or nothing, locks held to the end, rollback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg.transaction
import pytest
from infra import create_database, drop_database, pg_url
from sqlalchemy import Column, Integer, String, Table, event, func, select, text, update
from sqlalchemy.exc import IntegrityError

from contracts.envelope import EventPayload
from contracts.registry import event as event_type
from kit.db import Database, reads_only
from kit.tables import define_platform_tables, new_metadata

pytestmark = pytest.mark.integration

metadata = new_metadata()
platform = define_platform_tables(metadata)
items = Table(
    "items",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("qty", Integer, nullable=False),
)


@event_type("tests.lazy.item_added.v1", subject="item_id")
class ItemAdded(EventPayload):
    item_id: str


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    name = await create_database()
    database = Database(pg_url(name), service="lazy-test", tables=platform)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(items.insert(), [{"id": "a", "qty": 1}])
    yield database
    await database.dispose()
    await drop_database(name)


def _sent(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first word of every statement SQLAlchemy sends, plus the BEGIN/COMMIT/ROLLBACK of the
    driver's transactions."""
    sent: list[str] = []
    event.listen(
        db.engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2].split()[0].upper())
    )
    for name, word in (("start", "BEGIN"), ("commit", "COMMIT"), ("rollback", "ROLLBACK")):
        original = getattr(asyncpg.transaction.Transaction, name)

        async def recorded(self: Any, _original: Any = original, _word: str = word) -> None:
            sent.append(_word)
            await _original(self)

        monkeypatch.setattr(asyncpg.transaction.Transaction, name, recorded)
    return sent


async def _count(db: Database, table: Table) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_reads_and_a_deferred_write_cost_no_begin_or_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _sent(db, monkeypatch)
    async with db.transaction() as uow:
        qty = (await uow.conn.execute(select(items.c.qty).where(items.c.id == "a"))).scalar_one()
        uow.insert(items, {"id": "b", "qty": qty + 1})
        uow.emit(ItemAdded(item_id="b"))
    assert sent == ["SELECT", "WITH"], "one read, then the rows, audit and outbox in one statement"
    assert await _count(db, items) == 2 and await _count(db, platform.outbox) == 1
    sent.clear()
    async with db.transaction() as uow:
        await uow.conn.execute(update(items).where(items.c.id == "a").values(qty=3))
        uow.emit(ItemAdded(item_id="a"))
    # (the UPDATE is recorded as SQLAlchemy hands it over; the driver sends BEGIN just before it)
    assert sent == ["UPDATE", "BEGIN", "WITH", "COMMIT"], "a write in the body needs the transaction"
    assert await _count(db, items) == 2 and await _count(db, platform.outbox) == 2


async def test_a_write_begins_the_transaction_and_a_failure_after_it_undoes_it(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as uow:
            assert not uow.in_transaction
            await uow.conn.execute(update(items).values(qty=99))
            assert uow.in_transaction
            uow.emit(ItemAdded(item_id="a"))
            raise RuntimeError("the business rule said no after the update")
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(items.c.qty))).scalar_one() == 1
    assert await _count(db, platform.outbox) == 0


async def test_a_failing_flush_writes_nothing_of_it(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as uow:
            uow.insert(
                items, [{"id": "c", "qty": 1}, {"id": "a", "qty": 2}]
            )  # "a" exists: the statement fails
            uow.audit(actor="agent:1", action="item.added", entity_type="item", entity_id="c")
            uow.emit(ItemAdded(item_id="c"))
    assert await _count(db, items) == 1
    assert await _count(db, platform.audit) == 0 and await _count(db, platform.outbox) == 0


async def test_a_locking_read_holds_its_lock_until_the_unit_of_work_ends(db: Database) -> None:
    locked = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with db.transaction() as uow:
            await uow.conn.execute(select(items).where(items.c.id == "a").with_for_update())
            locked.set()
            await release.wait()
            await uow.conn.execute(update(items).values(qty=items.c.qty + 10))

    task = asyncio.create_task(holder())
    await locked.wait()
    async with db.engine.connect() as other:
        await other.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(Exception, match="lock"):
            await other.execute(update(items).values(qty=0))
        await other.rollback()
    release.set()
    await task
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(items.c.qty))).scalar_one() == 11


async def test_a_savepoint_inside_a_lazy_unit_of_work_rolls_back_only_its_part(db: Database) -> None:
    async with db.transaction() as uow:
        uow.insert(items, {"id": "kept", "qty": 1})
        with pytest.raises(IntegrityError):
            async with uow.savepoint():
                await uow.conn.execute(items.insert().values(id="a", qty=5))
    async with db.engine.connect() as conn:
        assert sorted((await conn.execute(select(items.c.id))).scalars()) == ["a", "kept"]


async def test_the_connection_goes_back_to_the_pool_transactional(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.conn.execute(select(items.c.qty))  # stays lazy: a plain read
    async with db.engine.connect() as conn:  # an ordinary connection from the same pool
        await conn.execute(update(items).values(qty=7))
        await conn.rollback()
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(items.c.qty))).scalar_one() == 1


def test_what_counts_as_a_plain_read() -> None:
    assert reads_only("SELECT id FROM items WHERE id = $1")
    assert reads_only("  select nextval('t_seq') FROM generate_series(1, 20)")
    assert not reads_only("SELECT id FROM items WHERE id = $1 FOR UPDATE SKIP LOCKED")
    assert not reads_only("SELECT id FROM items FOR NO KEY UPDATE")
    assert not reads_only("SELECT pg_try_advisory_xact_lock(1)")
    assert not reads_only("SELECT pg_notify($1, '')")
    assert not reads_only("WITH w AS (INSERT INTO items VALUES (1)) SELECT 1")
    assert not reads_only("UPDATE items SET qty = 1")
    assert not reads_only("SAVEPOINT sa_savepoint_1")
    assert not reads_only("SELECT * INTO copy FROM items")
