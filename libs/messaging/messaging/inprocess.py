"""An in-process broker with RabbitMQ's semantics, for the embedded mode and fast unit tests.

It routes by topic pattern, delivers with manual acks and prefetch, requeues on nack, delays
through retry queues and keeps dead letters — in memory, so it never replaces RabbitMQ where
durability across a crash matters (integration, end-to-end, benchmarks, fault tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from messaging.topology import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, ServiceTopology, topic_matches
from messaging.transport import Delivery, DeliveryCallback, OutboundMessage, Transport, TransportUnavailable

log = logging.getLogger(__name__)


@dataclass
class _Queue:
    name: str
    ttl: float | None = None
    dead_letter_to: str | None = None
    messages: deque[OutboundMessage] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class InProcessBroker:
    """The shared in-memory broker; each service gets its own :class:`InProcessTransport` on it."""

    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.bindings: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.available = True
        self._tag = itertools.count(1)

    def declare_queue(
        self, name: str, *, ttl: float | None = None, dead_letter_to: str | None = None
    ) -> _Queue:
        if name not in self.queues:
            self.queues[name] = _Queue(name, ttl, dead_letter_to)
        return self.queues[name]

    def bind(self, exchange: str, queue: str, pattern: str) -> None:
        if (queue, pattern) not in self.bindings[exchange]:
            self.bindings[exchange].append((queue, pattern))

    def route(self, exchange: str, message: OutboundMessage) -> None:
        if not self.available:
            raise TransportUnavailable("in-process broker is stopped")
        seen: set[str] = set()
        for queue, pattern in self.bindings.get(exchange, []):
            matched = (
                pattern == message.routing_key
                if exchange == DEAD_LETTER_EXCHANGE
                else topic_matches(pattern, message.routing_key)
            )
            if matched and queue not in seen:
                seen.add(queue)
                self.enqueue(queue, message)

    def enqueue(self, queue_name: str, message: OutboundMessage) -> None:
        if not self.available:
            raise TransportUnavailable("in-process broker is stopped")
        queue = self.queues[queue_name]
        if queue.ttl is not None and queue.dead_letter_to:
            target = queue.dead_letter_to
            asyncio.get_running_loop().call_later(queue.ttl, self._expire, target, message)
            return
        queue.messages.append(message)
        queue.ready.set()

    def _expire(self, target: str, message: OutboundMessage) -> None:
        queue = self.queues[target]
        queue.messages.append(message)
        queue.ready.set()

    def depth(self, name: str) -> int:
        return len(self.queues[name].messages) if name in self.queues else 0


class _InProcessDelivery(Delivery):
    def __init__(
        self, transport: InProcessTransport, queue: str, message: OutboundMessage, redelivered: bool
    ):
        self._transport = transport
        self._queue = queue
        self._message = message
        self._settled = False
        self.message_id = message.message_id
        self.routing_key = message.routing_key
        self.body = message.body
        self.headers: dict[str, Any] = dict(message.headers)
        self.redelivered = redelivered

    async def ack(self) -> None:
        self._settle()

    async def nack(self, *, requeue: bool) -> None:
        self._settle()
        if requeue:
            queue = self._transport.broker.queues[self._queue]
            queue.messages.appendleft(self._message)
            queue.ready.set()
            self._transport.redelivered.add(self._message.message_id)

    def _settle(self) -> None:
        if self._settled:
            raise RuntimeError("delivery already acknowledged")
        self._settled = True
        self._transport.release_slot(self._queue)


class InProcessTransport(Transport):
    def __init__(self, broker: InProcessBroker) -> None:
        self.broker = broker
        self._consumers: list[asyncio.Task[None]] = []
        self._slots: dict[str, asyncio.Semaphore] = {}
        self.redelivered: set[str] = set()

    @property
    def connected(self) -> bool:
        return self.broker.available

    async def connect(self) -> None:
        if not self.broker.available:
            raise TransportUnavailable("in-process broker is stopped")

    async def close(self) -> None:
        await self.stop_consuming()

    async def declare(self, topology: ServiceTopology) -> None:
        self.broker.declare_queue(topology.queue)
        for pattern in topology.bindings:
            self.broker.bind(EVENTS_EXCHANGE, topology.queue, pattern)
        for name, delay in topology.retry_queues():
            self.broker.declare_queue(name, ttl=delay, dead_letter_to=topology.queue)
        self.broker.declare_queue(topology.dead_letter_queue)
        self.broker.bind(DEAD_LETTER_EXCHANGE, topology.dead_letter_queue, topology.dead_letter_routing_key)

    async def publish(self, messages: Sequence[OutboundMessage], *, timeout: float) -> set[str]:
        for message in messages:
            self.broker.route(EVENTS_EXCHANGE, message)
        return {m.message_id for m in messages}

    async def send_to_queue(self, queue: str, message: OutboundMessage, *, timeout: float) -> None:
        self.broker.enqueue(queue, message)

    async def send_dead_letter(self, routing_key: str, message: OutboundMessage, *, timeout: float) -> None:
        self.broker.route(
            DEAD_LETTER_EXCHANGE,
            OutboundMessage(
                message.message_id, routing_key, message.body, message.headers, message.content_type
            ),
        )

    def release_slot(self, queue: str) -> None:
        if queue in self._slots:
            self._slots[queue].release()

    async def consume(self, queue: str, callback: DeliveryCallback, *, prefetch: int) -> None:
        self._slots[queue] = asyncio.Semaphore(prefetch)
        self._consumers.append(asyncio.create_task(self._pump(queue, callback), name=f"consume:{queue}"))

    async def _pump(self, queue_name: str, callback: DeliveryCallback) -> None:
        queue = self.broker.queues[queue_name]
        slots = self._slots[queue_name]
        while True:
            await slots.acquire()
            while not queue.messages or not self.broker.available:
                queue.ready.clear()
                await queue.ready.wait()
            message = queue.messages.popleft()
            redelivered = message.message_id in self.redelivered
            try:
                callback(_InProcessDelivery(self, queue_name, message, redelivered))
            except Exception:
                log.exception("delivery callback failed")

    async def stop_consuming(self) -> None:
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()

    async def peek(self, queue: str, limit: int) -> list[Delivery]:
        q = self.broker.queues.get(queue)
        if q is None:
            return []
        taken = [q.messages.popleft() for _ in range(min(limit, len(q.messages)))]
        return [_PeekedDelivery(self, queue, m) for m in taken]

    async def release(self, deliveries: Sequence[Delivery]) -> None:
        for d in reversed(deliveries):
            if isinstance(d, _PeekedDelivery) and not d.settled:
                await d.nack(requeue=True)

    async def queue_depth(self, queue: str) -> int | None:
        return self.broker.depth(queue)


class _PeekedDelivery(_InProcessDelivery):
    def __init__(self, transport: InProcessTransport, queue: str, message: OutboundMessage) -> None:
        super().__init__(transport, queue, message, redelivered=False)

    @property
    def settled(self) -> bool:
        return self._settled

    def _settle(self) -> None:
        if self._settled:
            raise RuntimeError("delivery already acknowledged")
        self._settled = True
