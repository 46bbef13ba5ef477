"""Events/s through outbox -> RabbitMQ -> inbox + handler on PostgreSQL, beside a bare aio-pika loop.

Both sides use two processes, as deployed: a publisher and a consumer.

Baseline: with both processes connected, the clock starts and a child process publishes N persistent
messages to a quorum queue with publisher confirms (pipelined, 500 in flight); this process
consumes them with manual acks, one per message.
Platform: with both processes running, N events are committed to a service's outbox in one
transaction; the clock starts at that commit. A child process running only the service's relay
publishes them (batched publisher confirms, then marked sent); the service's consumer in this
process applies them in transactions that record the inbox rows and the handler's effects (the
test service checks each event and writes a run of them with one statement, through a batch
handler) and acks after each commit.

The machine is shared, so the two sides are measured in alternating rounds and the median ratio
is the result; the spread of the rounds is printed beside it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from infra import AMQP_URL
from ledger_harness import Ledger

TARGET_RATIO = 0.7


async def bare_loop(n: int) -> float:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        sub = await connection.channel()
        await sub.set_qos(prefetch_count=200)
        name = f"bench.bare.{uuid.uuid4().hex[:8]}"
        queue = await sub.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received >= n:
                done.set()

        await queue.consume(on_message)
        publisher = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.messaging",
            "publish",
            name,
            str(n),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert publisher.stdin is not None and publisher.stdout is not None
        assert await publisher.stdout.readline() == b"ready\n"  # both processes up before the clock starts
        started = time.perf_counter()
        publisher.stdin.write(b"go\n")
        await publisher.stdin.drain()
        await done.wait()
        assert await publisher.wait() == 0
        elapsed = time.perf_counter() - started
        await sub.queue_delete(name)
    return n / elapsed


async def platform_pipeline(n: int) -> float:
    ledger = Ledger()
    await ledger.setup()
    try:
        assert ledger.db is not None
        from ledger.app import record_entry

        async with ledger.running({"consumer"}):
            relay = ledger.spawn("relay,api")
            await ledger.wait_http(relay)  # both processes up before the clock starts
            await asyncio.sleep(1.0)
            async with ledger.db.transaction() as uow:  # N events become visible in one commit
                for i in range(n):
                    await record_entry(uow, amount=i)
            started = time.perf_counter()
            await ledger.wait_effects(n, timeout=600)
            elapsed = time.perf_counter() - started
        counts = await ledger.counts()
        assert counts == (n, n, n), counts
    finally:
        await ledger.teardown()
    return n / elapsed


async def run(quick: bool = False) -> dict[str, object]:
    n, rounds = (3000, 1) if quick else (10000, 3)
    bare_rates: list[float] = []
    our_rates: list[float] = []
    for i in range(rounds):
        bare_rates.append(await bare_loop(n))
        our_rates.append(await platform_pipeline(n))
        print(
            f"round {i + 1}/{rounds}: bare {bare_rates[-1]:6.0f} msg/s, pipeline {our_rates[-1]:6.0f} events/s, "
            f"ratio {our_rates[-1] / bare_rates[-1]:.2f}",
            flush=True,
        )
    ratios = [o / b for o, b in zip(our_rates, bare_rates, strict=True)]
    bare, ours, ratio = (statistics.median(x) for x in (bare_rates, our_rates, ratios))
    print(
        f"bare aio-pika publish(confirm)+consume(ack): {bare:8.0f} msg/s  ({n} messages, median)", flush=True
    )
    print(f"outbox -> RabbitMQ -> inbox+handler (PG):    {ours:8.0f} events/s", flush=True)
    print(
        f"ratio {ratio:.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f}; target >= {TARGET_RATIO})",
        flush=True,
    )
    return {
        "messages": n,
        "rounds": rounds,
        "bare_per_s": bare,
        "platform_per_s": ours,
        "ratio": ratio,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "meets_target": ratio >= TARGET_RATIO,
    }


async def publish(queue: str, n: int) -> None:
    """The baseline's publisher process: N persistent messages with pipelined confirms."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        body = b'{"specversion":"1.0","type":"bench.message.sent.v1","data":{"n":1}}' * 3
        window = 500
        for i in range(0, n, window):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            body, message_id=str(uuid.uuid4()), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                        ),
                        routing_key=queue,
                    )
                    for _ in range(min(window, n - i))
                )
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["publish"]:
        asyncio.run(publish(sys.argv[2], int(sys.argv[3])))
