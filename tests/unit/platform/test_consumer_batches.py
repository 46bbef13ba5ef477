"""Batch handlers: many events in one call, and a failing one still retried and dead-lettered alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, func, select

from contracts.envelope import CloudEvent, EventPayload, new_event
from contracts.registry import event
from kit.db import Database, UnitOfWork
from kit.tables import define_platform_tables, new_metadata
from messaging.consumer import ConsumerRunner, EventHandlers, bindings_for
from messaging.inprocess import InProcessBroker, InProcessTransport
from messaging.topology import ServiceTopology
from messaging.transport import OutboundMessage


@event("stocktest.part.counted.v1", subject="part")
class PartCounted(EventPayload):
    part: str
    qty: int


@event("stocktest.part.moved.v1", subject="part")
class PartMoved(EventPayload):
    part: str


metadata = new_metadata()
tables = define_platform_tables(metadata)
applied = Table(
    "applied",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False),
    Column("part", String(50), nullable=False),
)


@dataclass
class Stock:
    db: Database
    broker: InProcessBroker
    runner: ConsumerRunner[UnitOfWork]
    batch_calls: list[list[str]]
    poison: set[str]

    async def deliver(self, *payloads: EventPayload) -> list[CloudEvent]:
        events = [new_event(p, service="stocktest", time=self.db.clock.now()) for p in payloads]
        transport = InProcessTransport(self.broker)
        await transport.publish([OutboundMessage(e.id, e.type, e.to_json()) for e in events], timeout=1)
        return events

    async def applied_parts(self) -> list[str]:
        async with self.db.engine.connect() as conn:
            return list((await conn.execute(select(applied.c.part).order_by(applied.c.seq))).scalars())

    async def wait_applied(self, n: int) -> list[str]:
        for _ in range(200):
            parts = await self.applied_parts()
            if len(parts) >= n:
                return parts
            await asyncio.sleep(0.02)
        raise AssertionError(f"only {await self.applied_parts()} applied")

    def dead_letters(self) -> int:
        return self.broker.depth(self.runner.topology.dead_letter_queue)


@pytest.fixture
async def stock(tmp_path: Path) -> AsyncIterator[Stock]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}", service="stocktest", tables=tables)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    handlers: EventHandlers[UnitOfWork] = EventHandlers()
    batch_calls: list[list[str]] = []
    poison: set[str] = set()

    @handlers.on_batch(PartCounted)
    async def count_parts(uow: UnitOfWork, received: Sequence[tuple[PartCounted, CloudEvent]]) -> None:
        batch_calls.append([p.part for p, _ in received])
        if any(p.part in poison for p, _ in received):
            raise ValueError("a part nobody stocks")
        await uow.conn.execute(applied.insert(), [{"event_id": e.id, "part": p.part} for p, e in received])

    @handlers.on(PartMoved)
    async def move_part(uow: UnitOfWork, payload: PartMoved, envelope: CloudEvent) -> None:
        await uow.conn.execute(applied.insert().values(event_id=envelope.id, part="moved:" + payload.part))

    broker = InProcessBroker()
    runner: ConsumerRunner[UnitOfWork] = ConsumerRunner(
        service="stocktest",
        topology=ServiceTopology("stocktest", bindings_for(handlers), (0.05, 0.05)),
        transport=InProcessTransport(broker),
        handlers=handlers,
        begin=db.transaction,
        inbox_table=tables.inbox,
        concurrency=2,
        linger=0.05,
    )
    await runner.start()
    try:
        yield Stock(db, broker, runner, batch_calls, poison)
    finally:
        await runner.stop()
        await db.dispose()


async def test_a_batch_handler_applies_many_events_in_one_call_in_delivery_order(stock: Stock) -> None:
    await stock.deliver(*(PartCounted(part=f"p{i}", qty=1) for i in range(20)))
    assert await stock.wait_applied(20) == [f"p{i}" for i in range(20)]
    assert len(stock.batch_calls) < 20
    assert [p for call in stock.batch_calls for p in call] == [f"p{i}" for i in range(20)]


async def test_events_of_another_type_between_them_keep_their_place(stock: Stock) -> None:
    await stock.deliver(
        PartCounted(part="a", qty=1),
        PartCounted(part="b", qty=1),
        PartMoved(part="b"),
        PartCounted(part="c", qty=1),
    )
    assert await stock.wait_applied(4) == ["a", "b", "moved:b", "c"]


async def test_a_redelivered_event_is_applied_once(stock: Stock) -> None:
    (first,) = await stock.deliver(PartCounted(part="a", qty=1))
    await stock.wait_applied(1)
    again = InProcessTransport(stock.broker)
    await again.publish([OutboundMessage(first.id, first.type, first.to_json())] * 2, timeout=1)
    await stock.deliver(PartCounted(part="b", qty=1))
    assert await stock.wait_applied(2) == ["a", "b"]
    await asyncio.sleep(0.2)
    assert await stock.applied_parts() == ["a", "b"]


async def test_one_bad_event_in_a_batch_is_retried_alone_then_dead_lettered_and_the_rest_commit(
    stock: Stock,
) -> None:
    stock.poison.add("bad")
    await stock.deliver(*(PartCounted(part=p, qty=1) for p in ["a", "b", "bad", "c", "d"]))
    assert await stock.wait_applied(4) == ["a", "b", "c", "d"]
    for _ in range(100):
        if stock.dead_letters() == 1:
            break
        await asyncio.sleep(0.02)
    assert stock.dead_letters() == 1
    alone = [call for call in stock.batch_calls if call == ["bad"]]
    assert len(alone) == 3  # each of the three attempts handles it by itself
    async with stock.db.engine.connect() as conn:
        recorded = (await conn.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
    assert recorded == 4  # the dead-lettered event is not marked as applied


async def test_a_failed_savepoint_drops_the_events_its_handler_staged(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'sp.db'}", service="stocktest", tables=tables)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        async with db.transaction() as uow:
            uow.emit(PartMoved(part="kept"))
            with pytest.raises(ValueError):
                async with uow.savepoint():
                    uow.emit(PartMoved(part="dropped"))
                    uow.audit(actor="t", action="move", entity_type="part", entity_id="dropped")
                    raise ValueError("handler failed")
        async with db.engine.connect() as conn:
            staged = (await conn.execute(select(tables.outbox.c.body))).scalars().all()
            audited = (await conn.execute(select(func.count()).select_from(tables.audit))).scalar_one()
        assert len(staged) == 1 and b"kept" in staged[0]
        assert audited == 0
    finally:
        await db.dispose()
