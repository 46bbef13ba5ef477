"""RabbitMQ transport on aio-pika: robust connection, publisher confirms, manual acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.abc import AbstractChannel as AbstractAmqpChannel
from aiormq.exceptions import AMQPError
from pamqp.commands import Basic

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


class _AckWindow:
    """Acks one consuming channel's deliveries with as few frames as possible, and never early.

    Delivery tags on a channel count up from 1. An ack is held until every lower tag is settled,
    then one ``basic.ack(multiple=True)`` covers the whole contiguous run: a batch of events costs
    one frame instead of one each, and no delivery is acked before its own commit. A nack goes
    out at once, before any multiple ack that spans it. Acks held for ``hold`` seconds behind a
    delivery that is still being handled are sent one by one.
    """

    def __init__(self, channel: AbstractAmqpChannel, *, hold: float = 0.5) -> None:
        self.channel = channel
        self._floor = 1  # the lowest tag not settled yet
        self._held: set[int] = set()  # acked by the consumer, not yet sent
        self._sent: set[int] = set()  # above the floor, already settled with the broker
        self._lock = asyncio.Lock()
        self._hold = hold
        self._timer: asyncio.TimerHandle | None = None
        self._flush_scheduled = False

    async def ack(self, tag: int) -> None:
        self._held.add(tag)
        if not self._flush_scheduled:
            # The other acks of the same batch follow without yielding: send once they are all in.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_soon)

    async def nack(self, tag: int, *, requeue: bool) -> None:
        async with self._lock:
            await self._send(tag, nack=True, requeue=requeue)
            self._sent.add(tag)
        await self._advance()

    def _flush_soon(self) -> None:
        self._flush_scheduled = False
        _background(self._advance())

    async def _advance(self) -> None:
        async with self._lock:
            top = 0
            while True:
                if self._floor in self._held:
                    self._held.discard(self._floor)
                    top = self._floor
                elif self._floor in self._sent:
                    self._sent.discard(self._floor)
                else:
                    break
                self._floor += 1
            if top:
                await self._send(top, multiple=True)
        if self._held and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._hold, self._release_held)

    def _release_held(self) -> None:
        self._timer = None
        _background(self._ack_held_one_by_one())

    async def _ack_held_one_by_one(self) -> None:
        async with self._lock:
            held, self._held = sorted(self._held), set()
            for tag in held:
                await self._send(tag)
                self._sent.add(tag)

    async def _send(
        self, tag: int, *, multiple: bool = False, nack: bool = False, requeue: bool = False
    ) -> None:
        # Called under the lock and without waiting for the socket: the frames keep their order in
        # the connection's write queue. If the channel is gone, the broker has requeued them anyway.
        try:
            if nack:
                await self.channel.basic_nack(tag, requeue=requeue, wait=False)
            else:
                await self.channel.basic_ack(tag, multiple=multiple, wait=False)
        except _BROKER_ERRORS as exc:
            log.info("delivery not settled, the channel is gone: %s", exc.__class__.__name__)


_tasks: set[asyncio.Task[None]] = set()


def _background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(work)
    _tasks.add(task)  # keep a reference until it is done
    task.add_done_callback(_tasks.discard)


def _properties(message: OutboundMessage) -> Basic.Properties:
    """The same properties :meth:`RabbitMQTransport._message` gives an aio-pika message."""
    return Basic.Properties(
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT.value,
        headers=message.headers,
        message_id=message.message_id,
        message_type=message.routing_key,
        correlation_id=message.headers.get("correlationid"),
    )


class _ConsumedDelivery(_RabbitDelivery):
    """A delivery from a consumer: settled through its channel's ack window."""

    def __init__(self, message: AbstractIncomingMessage, window: _AckWindow) -> None:
        super().__init__(message)
        self._window = window
        self._tag = message.delivery_tag or 0

    async def ack(self) -> None:
        await self._window.ack(self._tag)

    async def nack(self, *, requeue: bool) -> None:
        await self._window.nack(self._tag, requeue=requeue)


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
        channel = self._channel()
        try:
            if channel.is_closed:
                raise TransportUnavailable("the publishing channel is closed")
            amqp = await asyncio.wait_for(channel.get_underlay_channel(), timeout)
        except _BROKER_ERRORS as exc:
            raise TransportUnavailable(f"cannot publish: {exc}") from exc

        # Straight to aiormq: the relay publishes hundreds of messages per batch, and an aio-pika
        # Message and a timeout scope for each cost more than the frame itself. Confirms are the same.
        async def one(m: OutboundMessage) -> str | None:
            try:
                await amqp.basic_publish(
                    m.body,
                    exchange=EVENTS_EXCHANGE,
                    routing_key=m.routing_key,
                    properties=_properties(m),
                    mandatory=False,
                )
                return m.message_id
            except _BROKER_ERRORS as exc:
                log.warning("publish not confirmed", extra={"event_id": m.message_id, "error": str(exc)})
                return None

        if not messages:
            return set()
        publishes = [asyncio.ensure_future(one(m)) for m in messages]
        try:
            finished, late = await asyncio.wait(publishes, timeout=timeout)  # one timeout per batch
        finally:
            for publish in publishes:
                if not publish.done():
                    publish.cancel()
        if late:
            log.warning("%d publishes not confirmed within %.1f s", len(late), timeout)
        confirmed = {r for p in finished if (r := p.result()) is not None}
        if not confirmed:
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
        window: _AckWindow | None = None

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal window
            try:
                # After a reconnect the deliveries come on a new channel, with tags from 1 again.
                amqp_channel = message.channel
                if window is None or window.channel is not amqp_channel:
                    window = _AckWindow(amqp_channel)
                callback(_ConsumedDelivery(message, window))
            except Exception:
                # The broker redelivers whatever is not acked; nothing is lost by dropping it here.
                log.exception("delivery callback failed")

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
