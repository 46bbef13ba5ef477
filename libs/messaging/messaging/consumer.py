"""The consumer runner: inbox-deduplicated handling, ack after commit, retries, dead letters.

Deliveries are parsed and queued; a worker takes whatever has arrived (up to a batch) and applies
it as one transaction: one statement records every event id in the inbox (a duplicate is
skipped), the handlers run (a batch handler takes a run of consecutive events of its type at
once), the transaction commits, then the deliveries are acked. If a handler raises, the batch is
applied again with a savepoint per event, so the failing event is retried alone through the
service's delay queues with growing back-off; after the last attempt it goes to the service's
dead-letter queue with the error. An event that cannot be parsed is dead-lettered at once (no
retry can fix it). When the database itself is unreachable the failure is not the event's fault:
the deliveries are returned to the queue after a pause and no attempt is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from prometheus_client import Counter as CounterMetric
from prometheus_client import Histogram
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

    def savepoint(self) -> AbstractAsyncContextManager[Any]:
        """A nested transaction whose changes (and staged events) are undone if the block raises."""
        ...


Tx = TypeVar("Tx", bound=Transaction)
Handler = Callable[[Tx, Any, CloudEvent], Awaitable[None]]
#: Takes ``(payload, envelope)`` pairs: consecutive events of one type, in delivery order.
BatchHandler = Callable[[Tx, Sequence[tuple[Any, CloudEvent]]], Awaitable[None]]


@dataclass(frozen=True)
class _EachEvent(Generic[Tx]):
    fn: Handler[Tx]


@dataclass(frozen=True)
class _Batch(Generic[Tx]):
    fn: BatchHandler[Tx]


_Registration = _EachEvent[Tx] | _Batch[Tx]
_Received = tuple[Delivery, CloudEvent, EventPayload]


class EventHandlers(Generic[Tx]):
    """The explicit map of event type -> handlers for one service."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[_Registration[Tx]]] = defaultdict(list)

    @staticmethod
    def _type_of(payload: type[EventPayload] | str) -> str:
        event_type = payload if isinstance(payload, str) else payload.event_type
        if not event_type:
            raise ValueError("handlers are registered for registered event payloads")
        return event_type

    def on(self, payload: type[EventPayload] | str) -> Callable[[Handler[Tx]], Handler[Tx]]:
        """Register ``fn(tx, payload, envelope)`` for every event of a type."""
        event_type = self._type_of(payload)

        def register(fn: Handler[Tx]) -> Handler[Tx]:
            self._handlers[event_type].append(_EachEvent(fn))
            return fn

        return register

    def on_batch(self, payload: type[EventPayload] | str) -> Callable[[BatchHandler[Tx]], BatchHandler[Tx]]:
        """Register ``fn(tx, [(payload, envelope), ...])`` to apply many events of a type at once.

        For handlers whose effects can be written in bulk (one statement for the run instead of one
        per event). It gets consecutive events of its type from one consumer transaction. If it
        raises, the run is applied again one event at a time (each alone, in a savepoint) to find
        the event at fault, which is then retried and dead-lettered alone like any other. The
        correlation context is bound only for a run of one event: a batch handler that emits events
        binds each one with :func:`messaging.context.consuming`.
        """
        event_type = self._type_of(payload)

        def register(fn: BatchHandler[Tx]) -> BatchHandler[Tx]:
            self._handlers[event_type].append(_Batch(fn))
            return fn

        return register

    def registered(self, event_type: str) -> Sequence[_Registration[Tx]]:
        return self._handlers.get(event_type, ())

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
        self._pending: asyncio.Queue[_Received] = asyncio.Queue()
        # One worker at a time takes from the queue, so a batch is a run of consecutive deliveries
        # (their acks collapse into one) and a burst is not dealt out one event per worker.
        self._taking = asyncio.Lock()
        self._workers: list[asyncio.Task[None]] = []
        self._send_timeout = send_timeout
        self._transient_pause = transient_pause
        self._settling: set[asyncio.Future[None]] = set()
        # Label children bound once: resolving labels per event costs more than the increment.
        self._consumed: dict[tuple[str, str], CounterMetric] = {}
        self._handler_seconds: dict[str, Histogram] = {}

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

    def on_delivery(self, delivery: Delivery) -> None:
        """Parse and queue one delivery for the next batch; unparseable ones are dead-lettered."""
        try:
            event = CloudEvent.from_json(delivery.body)
            payload = registry.parse(event)
        except (ValidationError, registry.UnknownEventType, ValueError) as exc:
            self._spawn(
                self._dead_letter(delivery, f"unparseable event: {exc}"[:2000], attempt=delivery.attempt)
            )
            return
        if not self._handlers.registered(event.type):
            self._count(event.type, "ignored")
            self._spawn(delivery.ack())
            return
        self._pending.put_nowait((delivery, event, payload))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._settling.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Future[None]) -> None:
        self._settling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("settling a delivery failed", exc_info=task.exception())

    def _count(self, event_type: str, outcome: str, n: int = 1) -> None:
        key = (event_type, outcome)
        child = self._consumed.get(key)
        if child is None:
            child = self._consumed[key] = EVENTS_CONSUMED.labels(self.service, event_type, outcome)
        child.inc(n)

    def _observe(self, event_type: str, seconds: float) -> None:
        child = self._handler_seconds.get(event_type)
        if child is None:
            child = self._handler_seconds[event_type] = HANDLER_SECONDS.labels(self.service, event_type)
        child.observe(seconds)

    async def _work(self) -> None:
        while True:
            async with self._taking:
                batch = await self._take()
            try:
                await self._apply(batch)
            except Exception:  # never let one batch kill the worker
                log.exception("batch processing failed")

    async def _take(self) -> list[_Received]:
        pending = self._pending
        batch = [await pending.get()]
        # Linger briefly so a burst shares one commit instead of paying one each.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._linger
        while len(batch) < self._batch_size:
            if pending.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:  # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                    async with asyncio.timeout(remaining):
                        batch.append(await pending.get())
                except TimeoutError:
                    break
            else:
                batch.append(pending.get_nowait())
        return batch

    async def _apply(self, batch: list[_Received]) -> None:
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
        per_event = (time.perf_counter() - started) / len(batch)
        counts: Counter[tuple[str, str]] = Counter()
        for i, (_, event, _) in enumerate(batch):
            if i not in failures:
                self._observe(event.type, per_event)
                counts[event.type, outcomes[i]] += 1
        for (event_type, outcome), n in counts.items():
            self._count(event_type, outcome, n)
        for i, (delivery, event, _) in enumerate(batch):
            if i in failures:
                await self._retry_or_dead_letter(delivery, event, failures[i])
            else:
                await delivery.ack()

    async def _apply_fast(self, batch: list[_Received]) -> tuple[list[str], dict[int, Exception]]:
        outcomes = ["duplicate"] * len(batch)
        async with self._begin() as tx:
            fresh = await inbox.record_many(tx.conn, self._inbox, [(e.id, e.type) for _, e, _ in batch])
            todo: list[tuple[int, CloudEvent, EventPayload]] = []
            for i, (_, event, payload) in enumerate(batch):
                if event.id in fresh:
                    fresh.discard(event.id)  # a second copy in the same batch is a duplicate
                    outcomes[i] = "handled"
                    todo.append((i, event, payload))
            start = 0
            while start < len(todo):
                event_type = todo[start][1].type
                registrations = self._handlers.registered(event_type)
                end = start + 1
                if any(isinstance(r, _Batch) for r in registrations):
                    while end < len(todo) and todo[end][1].type == event_type:
                        end += 1
                await self._run_handlers(tx, registrations, todo[start:end])
                start = end
        return outcomes, {}

    async def _apply_isolated(
        self, batch: list[_Received], failed: int | None, error: Exception
    ) -> tuple[list[str], dict[int, Exception]]:
        """Apply the batch again, each event in its own savepoint.

        ``failed`` is the event that already failed this attempt (its handlers are not run twice);
        None when a batch handler failed for a run and the culprit is not known yet.
        """
        outcomes: list[str] = []
        failures: dict[int, Exception] = {} if failed is None else {failed: error}
        async with self._begin() as tx:
            for i, (_, event, payload) in enumerate(batch):
                if i == failed:
                    outcomes.append("failed")
                    continue
                try:
                    async with tx.savepoint():
                        fresh = await inbox.record(
                            tx.conn, self._inbox, event_id=event.id, event_type=event.type
                        )
                        if fresh:
                            await self._run_handlers(
                                tx, self._handlers.registered(event.type), [(i, event, payload)]
                            )
                    outcomes.append("handled" if fresh else "duplicate")
                except _HandlerFailed as exc:
                    failures[i] = exc.error
                    outcomes.append("failed")
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    failures[i] = exc
                    outcomes.append("failed")
        return outcomes, failures

    async def _run_handlers(
        self,
        tx: Tx,
        registrations: Sequence[_Registration[Tx]],
        run: Sequence[tuple[int, CloudEvent, EventPayload]],
    ) -> None:
        """Run a type's handlers for a run of its events; a failure raises :class:`_HandlerFailed`.

        A run of one event is handled with its context bound, every handler in turn. A longer run
        (only types with a batch handler have them) goes to each handler in turn: a batch handler
        takes the whole run, an ordinary one each event.
        """
        if len(run) == 1:
            index, event, payload = run[0]
            with context.consuming(event):
                for registration in registrations:
                    try:
                        if isinstance(registration, _Batch):
                            await registration.fn(tx, [(payload, event)])
                        else:
                            await registration.fn(tx, payload, event)
                    except Exception as exc:
                        if is_transient(exc):
                            raise
                        raise _HandlerFailed(index, exc) from exc
            return
        for registration in registrations:
            if isinstance(registration, _Batch):
                try:
                    await registration.fn(tx, [(payload, event) for _, event, payload in run])
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    raise _HandlerFailed(None, exc) from exc
                continue
            for index, event, payload in run:
                with context.consuming(event):
                    try:
                        await registration.fn(tx, payload, event)
                    except Exception as exc:
                        if is_transient(exc):
                            raise
                        raise _HandlerFailed(index, exc) from exc

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
            self._count(event.type, "retried")
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
        self._count(event_type, "dead_lettered")
        await delivery.ack()


class _HandlerFailed(Exception):
    """A handler raised on the fast path; the batch is re-applied event by event.

    ``index`` is the failing event's place in the batch, None when a batch handler failed for a
    run of several events.
    """

    def __init__(self, index: int | None, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def bindings_for(handlers: EventHandlers[Any], extra: Iterable[str] = ()) -> tuple[str, ...]:
    return tuple(sorted({*handlers.types(), *extra}))
