"""The consumer runner: inbox-deduplicated handling, ack after commit, retries, dead letters.

For each delivery: parse the CloudEvent, open the service's transaction, record the event id in
the inbox (a duplicate is acked and skipped), run the handlers, commit, then ack. A handler that
raises is retried through the service's delay queues with growing back-off; after the last
attempt the event goes to the service's dead-letter queue with the error. An event that cannot be
parsed is dead-lettered at once (no retry can fix it). When the database itself is unreachable the
failure is not the event's fault: the delivery is returned to the queue after a pause and no
attempt is counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from contracts import registry
from contracts.envelope import CloudEvent, EventPayload
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from messaging import context, inbox
from messaging.metrics import EVENTS_CONSUMED, HANDLER_SECONDS
from messaging.topology import ServiceTopology
from messaging.transport import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    ORIGINAL_QUEUE_HEADER,
    Delivery,
    Transport,
    TransportUnavailable,
)

log = logging.getLogger(__name__)


class Transaction(Protocol):
    conn: AsyncConnection


Tx = TypeVar("Tx", bound=Transaction)
Handler = Callable[[Tx, Any, CloudEvent], Awaitable[None]]


class EventHandlers(Generic[Tx]):
    """The explicit map of event type -> handlers for one service."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler[Tx]]] = defaultdict(list)

    def on(self, payload: type[EventPayload] | str) -> Callable[[Handler[Tx]], Handler[Tx]]:
        event_type = payload if isinstance(payload, str) else payload.event_type
        if not event_type:
            raise ValueError("handlers are registered for registered event payloads")

        def register(fn: Handler[Tx]) -> Handler[Tx]:
            self._handlers[event_type].append(fn)
            return fn

        return register

    def for_type(self, event_type: str) -> list[Handler[Tx]]:
        return self._handlers.get(event_type, [])

    def types(self) -> list[str]:
        return sorted(self._handlers)


def is_transient(exc: BaseException) -> bool:
    """True when the failure is the infrastructure's (database unreachable), not the event's."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | ConnectionError | OSError | TimeoutError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("connection was closed", "connection is closed", "shutting down",
                                   "cannot connect now", "connection refused", "terminating connection"))


class ConsumerRunner(Generic[Tx]):
    def __init__(
        self,
        *,
        service: str,
        topology: ServiceTopology,
        transport: Transport,
        handlers: EventHandlers[Tx],
        begin: Callable[[], AbstractAsyncContextManager[Tx]],
        inbox_table: Table,
        prefetch: int = 200,
        concurrency: int = 32,
        send_timeout: float = 10.0,
        transient_pause: float = 1.0,
    ) -> None:
        self.service = service
        self.topology = topology
        self._transport = transport
        self._handlers = handlers
        self._begin = begin
        self._inbox = inbox_table
        self._prefetch = prefetch
        self._slots = asyncio.Semaphore(concurrency)
        self._send_timeout = send_timeout
        self._transient_pause = transient_pause

    async def start(self) -> None:
        await self._transport.declare(self.topology)
        await self._transport.consume(self.topology.queue, self.on_delivery, prefetch=self._prefetch)

    async def stop(self) -> None:
        await self._transport.stop_consuming()

    async def on_delivery(self, delivery: Delivery) -> None:
        async with self._slots:
            try:
                await self._process(delivery)
            except Exception:  # never let one delivery kill the consumer
                log.exception("delivery processing failed", extra={"event_id": delivery.message_id})

    async def _process(self, delivery: Delivery) -> None:
        try:
            event = CloudEvent.from_json(delivery.body)
            payload = registry.parse(event)
        except (ValidationError, registry.UnknownEventType, ValueError) as exc:
            await self._dead_letter(delivery, f"unparseable event: {exc}"[:2000], attempt=delivery.attempt)
            return
        handlers = self._handlers.for_type(event.type)
        if not handlers:
            EVENTS_CONSUMED.labels(self.service, event.type, "ignored").inc()
            await delivery.ack()
            return
        started = time.perf_counter()
        try:
            with context.bind(
                correlation_id=event.correlationid or event.id,
                causation_id=event.id,
                traceparent=event.traceparent,
            ):
                async with self._begin() as tx:
                    fresh = await inbox.record(tx.conn, self._inbox, event_id=event.id, event_type=event.type)
                    if fresh:
                        for handler in handlers:
                            await handler(tx, payload, event)
        except Exception as exc:
            if is_transient(exc):
                log.warning("database unavailable; event returned to queue", extra={"event_id": event.id})
                await asyncio.sleep(self._transient_pause)
                await delivery.nack(requeue=True)
                return
            await self._retry_or_dead_letter(delivery, event, exc)
            return
        HANDLER_SECONDS.labels(self.service, event.type).observe(time.perf_counter() - started)
        EVENTS_CONSUMED.labels(self.service, event.type, "handled" if fresh else "duplicate").inc()
        await delivery.ack()

    async def _retry_or_dead_letter(self, delivery: Delivery, event: CloudEvent, exc: Exception) -> None:
        attempt = delivery.attempt
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        if attempt < self.topology.max_attempts:
            log.warning(
                "handler failed; retrying",
                extra={"event_id": event.id, "event_type": event.type, "attempt": attempt, "error": error},
            )
            try:
                await self._transport.send_to_queue(
                    self.topology.retry_queue(attempt),
                    delivery.as_outbound(**{ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error}),
                    timeout=self._send_timeout,
                )
            except TransportUnavailable:
                await delivery.nack(requeue=True)
                return
            EVENTS_CONSUMED.labels(self.service, event.type, "retried").inc()
            await delivery.ack()
            return
        log.error(
            "handler failed for the last time; dead-lettered",
            extra={"event_id": event.id, "event_type": event.type, "attempt": attempt, "error": error},
        )
        await self._dead_letter(delivery, error, attempt=attempt, event_type=event.type)

    async def _dead_letter(self, delivery: Delivery, error: str, *, attempt: int, event_type: str = "?") -> None:
        try:
            await self._transport.send_dead_letter(
                self.topology.dead_letter_routing_key,
                delivery.as_outbound(
                    **{
                        ATTEMPT_HEADER: attempt,
                        ERROR_HEADER: error,
                        FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
                        ORIGINAL_QUEUE_HEADER: self.topology.queue,
                    }
                ),
                timeout=self._send_timeout,
            )
        except TransportUnavailable:
            await delivery.nack(requeue=True)
            return
        EVENTS_CONSUMED.labels(self.service, event_type, "dead_lettered").inc()
        await delivery.ack()


def bindings_for(handlers: EventHandlers[Any], extra: Iterable[str] = ()) -> tuple[str, ...]:
    return tuple(sorted({*handlers.types(), *extra}))
