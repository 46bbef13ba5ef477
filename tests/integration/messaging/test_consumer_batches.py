"""Batched consuming on real PostgreSQL and RabbitMQ: every delivery acked once, duplicates absorbed."""

import asyncio

import pytest
from infra import AMQP_URL, wait_until
from ledger.app import record_entry, tables
from ledger_harness import Ledger
from sqlalchemy import select

from messaging.rabbitmq import RabbitMQTransport
from messaging.transport import OutboundMessage

pytestmark = pytest.mark.integration


async def test_many_small_parallel_batches_leave_no_delivery_unacked(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSUMER_BATCH_SIZE", "7")
    monkeypatch.setenv("CONSUMER_CONCURRENCY", "4")
    monkeypatch.setenv("CONSUMER_PREFETCH", "50")
    assert ledger.db is not None
    async with ledger.running({"consumer", "relay"}):
        async with ledger.db.transaction() as uow:
            for i in range(500):
                await record_entry(uow, amount=i)
        await ledger.wait_effects(500)
        await asyncio.sleep(1.0)  # any ack still held back would be sent by now
    # The consumer's channel is closed: anything it had not acked is back in the queue.
    assert await _ready_messages(ledger) == 0
    assert await ledger.counts() == (500, 500, 500)


async def test_events_published_again_are_skipped_by_the_inbox(ledger: Ledger) -> None:
    assert ledger.db is not None
    async with ledger.running({"consumer", "relay"}) as client:
        await ledger.commit_entries(30)
        await ledger.wait_effects(30)
        async with ledger.db.engine.connect() as conn:
            rows = (await conn.execute(select(tables.outbox.c.event_id, tables.outbox.c.body))).all()
        again = [OutboundMessage(r.event_id, "ledger.entry.recorded.v1", bytes(r.body)) for r in rows]
        publisher = RabbitMQTransport(AMQP_URL, connection_name="duplicate-publisher")
        await publisher.connect()
        try:
            await publisher.publish(again + again[:10], timeout=10)  # some twice in one burst
        finally:
            await publisher.close()

        async def all_skipped() -> bool:
            metrics = (await client.get(f"/{ledger.name}/metrics")).text
            return _sample(metrics, ledger.name, "duplicate") >= 40

        await wait_until(all_skipped, timeout=30, what="the duplicates to be skipped")
        assert await ledger.counts() == (30, 30, 30)


async def _ready_messages(ledger: Ledger) -> int | None:
    transport = RabbitMQTransport(AMQP_URL, connection_name="depth-probe")
    await transport.connect()
    try:
        return await transport.queue_depth(f"{ledger.name}.events")
    finally:
        await transport.close()


def _sample(metrics: str, service: str, outcome: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if (
            line.startswith("aftersales_events_consumed_total{")
            and f'service="{service}"' in line
            and f'outcome="{outcome}"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total
