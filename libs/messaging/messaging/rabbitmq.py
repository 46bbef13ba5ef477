"""RabbitMQ transport on aio-pika: robust connection, publisher confirms, manual acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError

from messaging.topology import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, ServiceTopology
from messaging.transport import Delivery, DeliveryCallback, OutboundMessage, Transport, TransportUnavailable

log = logging.getLogger(__name__)

_BROKER_ERRORS = (AMQPError, ConnectionError, OSError, asyncio.TimeoutError, RuntimeError)


class _RabbitDelivery(Delivery):
    def __init__(self, message: AbstractIncomingMessage) -> None:
        self._message = message
        self.message_id = message.message_id or ""
        self.routing_key = message.routing_key or ""
        self.body = message.body
        self.headers: dict[str, Any] = dict(message.headers or {})
        self.redelivered = bool(message.redelivered)

    async def ack(self) -> None:
        await self._message.ack()

    async def nack(self, *, requeue: bool) -> None:
        await self._message.nack(requeue=requeue)

    @property
    def settled(self) -> bool:
        return bool(self._message.processed)


class RabbitMQTransport(Transport):
    """One robust connection: a confirming channel for publishing, one channel per consumed queue."""

    def __init__(self, url: str, *, connection_name: str, reconnect_interval: float = 1.0) -> None:
        self._url = url
        self._name = connection_name
        self._reconnect_interval = reconnect_interval
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._events: AbstractExchange | None = None
        self._dead_letters: AbstractExchange | None = None
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._lock = asyncio.Lock()
        self._inflight: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        conn = self._connection
        return conn is not None and not conn.is_closed and conn.connected.is_set()

    async def connect(self) -> None:
        async with self._lock:
            if self._connection is not None:
                return
            try:
                self._connection = await aio_pika.connect_robust(
                    self._url,
                    client_properties={"connection_name": self._name},
                    reconnect_interval=self._reconnect_interval,
                )
                self._publish_channel = await self._connection.channel(publisher_confirms=True)
                self._events = await self._publish_channel.declare_exchange(
                    EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
                )
                self._dead_letters = await self._publish_channel.declare_exchange(
                    DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
                )
            except _BROKER_ERRORS as exc:
                if self._connection is not None:
                    with contextlib.suppress(Exception):
                        await self._connection.close()
                self._connection = None
                raise TransportUnavailable(f"cannot connect to RabbitMQ: {exc}") from exc

    async def close(self) -> None:
        await self.stop_consuming()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None

    def _channel(self) -> AbstractChannel:
        if self._publish_channel is None or not self.connected:
            raise TransportUnavailable("RabbitMQ is not connected")
        return self._publish_channel

    async def declare(self, topology: ServiceTopology) -> None:
        channel = self._channel()
        try:
            events = await channel.get_exchange(EVENTS_EXCHANGE)
            dead = await channel.get_exchange(DEAD_LETTER_EXCHANGE)
            queue = await channel.declare_queue(
                topology.queue, durable=True, arguments=topology.queue_arguments()
            )
            for pattern in topology.bindings:
                await queue.bind(events, routing_key=pattern)
            for name, delay in topology.retry_queues():
                await channel.declare_queue(
                    name, durable=True, arguments=topology.retry_queue_arguments(delay)
                )
            dlq = await channel.declare_queue(
                topology.dead_letter_queue, durable=True, arguments=topology.dead_letter_queue_arguments()
            )
            await dlq.bind(dead, routing_key=topology.dead_letter_routing_key)
        except _BROKER_ERRORS as exc:
            raise TransportUnavailable(f"cannot declare topology: {exc}") from exc

    @staticmethod
    def _message(message: OutboundMessage) -> aio_pika.Message:
        return aio_pika.Message(
            body=message.body,
            message_id=message.message_id,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=message.headers,
            type=message.routing_key,
            correlation_id=message.headers.get("correlationid"),
        )

    async def publish(self, messages: Sequence[OutboundMessage], *, timeout: float) -> set[str]:
        self._channel()
        exchange = self._events
        assert exchange is not None

        async def one(m: OutboundMessage) -> str | None:
            try:
                await exchange.publish(
                    self._message(m), routing_key=m.routing_key, timeout=timeout, mandatory=False
                )
                return m.message_id
            except _BROKER_ERRORS as exc:
                log.warning("publish not confirmed", extra={"event_id": m.message_id, "error": str(exc)})
                return None

        results = await asyncio.gather(*(one(m) for m in messages))
        confirmed = {r for r in results if r is not None}
        if not confirmed and messages:
            raise TransportUnavailable("no publish was confirmed")
        return confirmed

    async def send_to_queue(self, queue: str, message: OutboundMessage, *, timeout: float) -> None:
        channel = self._channel()
        try:
            await channel.default_exchange.publish(self._message(message), routing_key=queue, timeout=timeout)
        except _BROKER_ERRORS as exc:
            raise TransportUnavailable(f"cannot send to {queue}: {exc}") from exc

    async def send_dead_letter(self, routing_key: str, message: OutboundMessage, *, timeout: float) -> None:
        self._channel()
        assert self._dead_letters is not None
        try:
            await self._dead_letters.publish(self._message(message), routing_key=routing_key, timeout=timeout)
        except _BROKER_ERRORS as exc:
            raise TransportUnavailable(f"cannot dead-letter: {exc}") from exc

    async def consume(self, queue: str, callback: DeliveryCallback, *, prefetch: int) -> None:
        if self._connection is None:
            raise TransportUnavailable("RabbitMQ is not connected")
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        q = await channel.get_queue(queue, ensure=True)

        # aio-pika awaits this callback before dispatching the next delivery; handing each delivery to
        # its own task lets up to ``prefetch`` events be handled at once.
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.create_task(callback(_RabbitDelivery(message)))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

        tag = await q.consume(on_message, no_ack=False)
        self._consumers.append((q, tag))

    async def stop_consuming(self) -> None:
        consumers, self._consumers = self._consumers, []
        for queue, tag in consumers:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
            with contextlib.suppress(Exception):
                await queue.channel.close()

    async def peek(self, queue: str, limit: int) -> list[Delivery]:
        if self._connection is None or not self.connected:
            raise TransportUnavailable("RabbitMQ is not connected")
        channel = await self._connection.channel()
        q = await channel.get_queue(queue, ensure=True)
        deliveries: list[Delivery] = []
        while len(deliveries) < limit:
            message = await q.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            deliveries.append(_PeekDelivery(message, channel))
        if not deliveries:
            await channel.close()
        return deliveries

    async def release(self, deliveries: Sequence[Delivery]) -> None:
        # Closing the channel returns every un-acked message to its queue.
        channels = {id(d.channel): d.channel for d in deliveries if isinstance(d, _PeekDelivery)}
        for channel in channels.values():
            with contextlib.suppress(Exception):
                await channel.close()

    async def queue_depth(self, queue: str) -> int | None:
        if not self.connected or self._connection is None:
            return None
        try:
            channel = await self._connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
                return declared.declaration_result.message_count
            finally:
                await channel.close()
        except _BROKER_ERRORS:
            return None


class _PeekDelivery(_RabbitDelivery):
    def __init__(self, message: AbstractIncomingMessage, channel: AbstractChannel) -> None:
        super().__init__(message)
        self.channel = channel
