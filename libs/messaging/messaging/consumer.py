"""The consumer runner: inbox-deduplicated handling, ack after commit, retries, dead letters.

Deliveries are parsed and queued; workers apply whatever has arrived as one transaction with a
savepoint per event: record the event id in the inbox (a duplicate is skipped), run the handlers,
commit, then ack. A handler that
raises is retried through the service's delay queues with growing back-off; after the last
attempt the event goes to the service's dead-letter queue with the error. An event that cannot be
parsed is dead-lettered at once (no retry can fix it). When the database itself is unreachable the
failure is not the event's fault: the delivery is returned to the queue after a pause and no
attempt is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import registry
from contracts.envelope import CloudEvent, EventPayload
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
    return any(
        s in text
        for s in (
            "connection was closed",
            "connection is closed",
            "shutting down",
            "cannot connect now",
            "connection refused",
            "terminating connection",
        )
    )


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
        concurrency: int = 4,
        batch_size: int = 100,
        linger: float = 0.005,
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
        self._worker_count = concurrency
        self._batch_size = batch_size
        self._linger = linger
        self._pending: asyncio.Queue[tuple[Delivery, CloudEvent, EventPayload]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._send_timeout = send_timeout
        self._transient_pause = transient_pause

    async def start(self) -> None:
        await self._transport.declare(self.topology)
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"consumer:{self.service}:{i}")
                for i in range(self._worker_count)
            ]
        await self._transport.consume(self.topology.queue, self.on_delivery, prefetch=self._prefetch)

    async def stop(self) -> None:
        await self._transport.stop_consuming()
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []

    async def on_delivery(self, delivery: Delivery) -> None:
        """Parse and queue one delivery for the next batch; unparseable ones are dead-lettered now."""
        try:
            event = CloudEvent.from_json(delivery.body)
            payload = registry.parse(event)
        except (ValidationError, registry.UnknownEventType, ValueError) as exc:
            await self._dead_letter(delivery, f"unparseable event: {exc}"[:2000], attempt=delivery.attempt)
            return
        if not self._handlers.for_type(event.type):
            EVENTS_CONSUMED.labels(self.service, event.type, "ignored").inc()
            await delivery.ack()
            return
        await self._pending.put((delivery, event, payload))

    async def _work(self) -> None:
        while True:
            batch = [await self._pending.get()]
            # Linger briefly so a burst shares one commit instead of paying one each.
            deadline = asyncio.get_running_loop().time() + self._linger
            while len(batch) < self._batch_size:
                if self._pending.empty():
                    remaining = deadline - asyncio.get_running_loop().time()
                    if remaining <= 0:
                        break
                    try:
                        batch.append(await asyncio.wait_for(self._pending.get(), remaining))
                    except TimeoutError:
                        break
                else:
                    batch.append(self._pending.get_nowait())
            try:
                await self._apply(batch)
            except Exception:  # never let one batch kill the worker
                log.exception("batch processing failed")

    async def _apply(self, batch: list[tuple[Delivery, CloudEvent, EventPayload]]) -> None:
        """Apply a batch in one transaction and ack after the commit.

        The fast path records every inbox row in one statement and runs the handlers. If a handler
        raises, the transaction is rolled back and the batch is applied again with a savepoint per
        event, so the failing event is retried or dead-lettered alone and the others commit. If the
        database is unreachable, the whole batch goes back to the queue after a pause, with no
        attempt counted.
        """
        started = time.perf_counter()
        try:
            try:
                outcomes, failures = await self._apply_fast(batch)
            except _HandlerFailed as failed:
                outcomes, failures = await self._apply_isolated(batch, failed.index, failed.error)
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("database unavailable; %d events returned to the queue", len(batch))
            await asyncio.sleep(self._transient_pause)
            for delivery, _, _ in batch:
                with contextlib.suppress(Exception):
                    await delivery.nack(requeue=True)
            return
        elapsed = time.perf_counter() - started
        for i, (delivery, event, _) in enumerate(batch):
            if i in failures:
                await self._retry_or_dead_letter(delivery, event, failures[i])
                continue
            HANDLER_SECONDS.labels(self.service, event.type).observe(elapsed / len(batch))
            EVENTS_CONSUMED.labels(self.service, event.type, outcomes[i]).inc()
            await delivery.ack()

    async def _apply_fast(
        self, batch: list[tuple[Delivery, CloudEvent, EventPayload]]
    ) -> tuple[list[str], dict[int, Exception]]:
        outcomes: list[str] = []
        async with self._begin() as tx:
            fresh = await inbox.record_many(tx.conn, self._inbox, [(e.id, e.type) for _, e, _ in batch])
            applied: set[str] = set()
            for i, (_, event, payload) in enumerate(batch):
                if event.id not in fresh or event.id in applied:
                    outcomes.append("duplicate")
                    continue
                applied.add(event.id)
                try:
                    await self._run_handlers(tx, event, payload)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    raise _HandlerFailed(i, exc) from exc
                outcomes.append("handled")
        return outcomes, {}

    async def _apply_isolated(
        self, batch: list[tuple[Delivery, CloudEvent, EventPayload]], failed: int, error: Exception
    ) -> tuple[list[str], dict[int, Exception]]:
        outcomes: list[str] = []
        failures: dict[int, Exception] = {failed: error}
        async with self._begin() as tx:
            for i, (_, event, payload) in enumerate(batch):
                if i == failed:  # it already failed this attempt; don't run its handlers twice
                    outcomes.append("failed")
                    continue
                try:
                    async with tx.conn.begin_nested():
                        fresh = await inbox.record(
                            tx.conn, self._inbox, event_id=event.id, event_type=event.type
                        )
                        if fresh:
                            await self._run_handlers(tx, event, payload)
                    outcomes.append("handled" if fresh else "duplicate")
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    failures[i] = exc
                    outcomes.append("failed")
        return outcomes, failures

    async def _run_handlers(self, tx: Tx, event: CloudEvent, payload: EventPayload) -> None:
        with context.bind(
            correlation_id=event.correlationid or event.id,
            causation_id=event.id,
            traceparent=event.traceparent,
        ):
            for handler in self._handlers.for_type(event.type):
                await handler(tx, payload, event)

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

    async def _dead_letter(
        self, delivery: Delivery, error: str, *, attempt: int, event_type: str = "?"
    ) -> None:
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


class _HandlerFailed(Exception):
    """A handler raised on the fast path; the batch is re-applied event by event."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def bindings_for(handlers: EventHandlers[Any], extra: Iterable[str] = ()) -> tuple[str, ...]:
    return tuple(sorted({*handlers.types(), *extra}))
