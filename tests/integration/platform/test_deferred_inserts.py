"""Rows a transaction defers with ``uow.insert`` are written at commit, in one round trip on PostgreSQL,
and read back exactly as rows written with ``table.insert()`` — or not at all on rollback."""

from __future__ import annotations

import asyncio
import enum
import uuid
from decimal import Decimal

import asyncpg
import pytest
from infra import PG_ADMIN_DSN, create_database, drop_database, pg_url
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Integer,
    Numeric,
    String,
    Table,
    event,
    func,
    select,
    update,
)

from kit import bulk
from kit.db import Database
from kit.tables import define_platform_tables, new_metadata
from messaging.outbox import notify_channel

pytestmark = pytest.mark.integration


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


metadata = new_metadata()
platform = define_platform_tables(metadata)
things = Table(
    "things",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("doc", JSON, nullable=False),
    Column("colour", Enum(Colour, native_enum=False), nullable=False),
    Column("amount", Numeric(12, 2), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("tag", String(20), nullable=False, default=lambda: "tagged"),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


@pytest.fixture
async def db() -> Database:
    name = await create_database()
    database = Database(pg_url(name), service="bulk-test", tables=platform)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()
    await drop_database(name)


def _row(i: int) -> dict[str, object]:
    return {
        "id": f"T-{i}",
        "doc": {"n": i, "tags": ["a", "b"]},
        "colour": Colour.BLUE,
        "amount": Decimal("9.50"),
    }


async def test_deferred_rows_read_back_like_ordinary_inserts(db: Database) -> None:
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    async with db.transaction() as uow:
        uow.insert(things, [_row(1), {**_row(2), "amount": None, "active": False}])
        uow.audit(actor="agent:1", action="thing.made", entity_type="thing", entity_id="T-1")
    written = [s for s in statements if "INSERT" in s]
    async with db.engine.begin() as conn:
        await conn.execute(things.insert(), {**_row(3)})
        rows = {r.id: r for r in (await conn.execute(select(things))).all()}

    assert len(written) == 1, "the things and the audit row went in one statement"
    one, two, three = rows["T-1"], rows["T-2"], rows["T-3"]
    for deferred in (one, two):
        assert deferred.doc == {"n": int(deferred.id[-1]), "tags": ["a", "b"]}
        assert deferred.colour is Colour.BLUE
        assert deferred.tag == "tagged"  # the Python-side default applied
        assert deferred.at is not None  # the server default applied
    assert one.amount == Decimal("9.50") and one.active is True
    assert two.amount is None and two.active is False
    assert (three.tag, three.active, three.colour) == (one.tag, one.active, one.colour)
    assert one.seq < two.seq  # in the order they were given


async def test_a_rollback_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as uow:
            uow.insert(things, _row(1))
            raise RuntimeError("the business rule said no")
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(things))).scalar() == 0


async def test_a_later_statement_in_the_transaction_sees_and_changes_deferred_rows(db: Database) -> None:
    async with db.transaction() as uow:
        uow.insert(things, [_row(1), _row(2)])
        assert (await uow.conn.execute(select(func.count()).select_from(things))).scalar() == 2
        uow.insert(things, _row(3))
        await uow.conn.execute(update(things).values(active=False))  # written first, then changed
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(things.c.active))).scalars().all() == [False, False, False]


async def test_more_rows_than_one_statement_may_carry_are_split(db: Database) -> None:
    n = bulk.MAX_PARAMETERS // 5 + 500  # ~6,500 rows of 5 values: more than one statement's limit
    async with db.transaction() as uow:
        uow.insert(things, [_row(i) for i in range(n)])
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(things))).scalar() == n


async def test_events_wake_relays_only_when_the_transaction_commits(db: Database) -> None:
    from contracts.envelope import EventPayload
    from contracts.registry import event as event_type

    @event_type("tests.bulk.made.v1", subject="thing_id")
    class Made(EventPayload):
        thing_id: str

    woken: asyncio.Queue[str] = asyncio.Queue()
    name = db.engine.url.database
    listener = await asyncpg.connect(f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}")
    await listener.add_listener(notify_channel("bulk-test"), lambda *a: woken.put_nowait(a[2]))
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as uow:
                uow.insert(things, _row(1))
                uow.emit(Made(thing_id="T-1"))
                raise RuntimeError("rolled back")
        async with db.transaction() as uow:
            uow.insert(things, _row(2))
            uow.emit(Made(thing_id="T-2"))
            uow.emit(Made(thing_id=str(uuid.uuid4())))
        channel = await asyncio.wait_for(woken.get(), timeout=5)
        assert channel == notify_channel("bulk-test")
        assert woken.empty(), "one wake-up per commit, none for the rollback"
        async with db.engine.connect() as conn:
            types = (await conn.execute(select(platform.outbox.c.event_type))).scalars().all()
            assert types == ["tests.bulk.made.v1", "tests.bulk.made.v1"]
    finally:
        await listener.close()
