"""The transport interface the relay and consumers use, whatever carries the messages."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.envelope import CONTENT_TYPE
from messaging.topology import ServiceTopology

ATTEMPT_HEADER = "x-attempt"
ERROR_HEADER = "x-error"
FAILED_AT_HEADER = "x-failed-at"
ORIGINAL_QUEUE_HEADER = "x-original-queue"


class TransportUnavailable(ConnectionError):
    """The broker cannot be reached now; the caller keeps its work and tries again later."""


@dataclass(frozen=True)
class OutboundMessage:
    message_id: str
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str = CONTENT_TYPE


class Delivery(abc.ABC):
    """One message handed to a consumer; it must be acked or nacked exactly once."""

    message_id: str
    routing_key: str
    body: bytes
    headers: dict[str, Any]
    redelivered: bool

    @property
    def attempt(self) -> int:
        raw = self.headers.get(ATTEMPT_HEADER, 1)
        try:
            return max(1, int(raw))
        except (TypeError, ValueError):
            return 1

    def as_outbound(self, **extra_headers: Any) -> OutboundMessage:
        return OutboundMessage(
            message_id=self.message_id,
            routing_key=self.routing_key,
            body=self.body,
            headers={**self.headers, **extra_headers},
        )

    @abc.abstractmethod
    async def ack(self) -> None: ...

    @abc.abstractmethod
    async def nack(self, *, requeue: bool) -> None: ...


#: Called on the event loop for each delivery, in delivery order; it must not block and starts any
#: asynchronous work itself (a task per delivery would cost more than most handlers).
DeliveryCallback = Callable[[Delivery], None]


class Transport(abc.ABC):
    """Publishing with confirms, consuming with manual acks, and the queue operations retries need."""

    @property
    @abc.abstractmethod
    def connected(self) -> bool: ...

    @abc.abstractmethod
    async def connect(self) -> None:
        """Connect, retrying in the background after a loss; raises TransportUnavailable if down now."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def declare(self, topology: ServiceTopology) -> None:
        """Declare the exchanges and the service's queues and bindings (idempotent)."""

    @abc.abstractmethod
    async def publish(self, messages: Sequence[OutboundMessage], *, timeout: float) -> set[str]:
        """Publish persistent events to the events exchange; return the ids the broker confirmed."""

    @abc.abstractmethod
    async def send_to_queue(self, queue: str, message: OutboundMessage, *, timeout: float) -> None:
        """Put one message straight into a queue (retry ladder, replay); raises unless confirmed."""

    @abc.abstractmethod
    async def send_dead_letter(self, routing_key: str, message: OutboundMessage, *, timeout: float) -> None:
        """Publish to the dead-letter exchange; raises unless confirmed."""

    @abc.abstractmethod
    async def consume(self, queue: str, callback: DeliveryCallback, *, prefetch: int) -> None:
        """Start delivering ``queue``'s messages to ``callback``; resumes by itself after reconnects."""

    @abc.abstractmethod
    async def stop_consuming(self) -> None: ...

    @abc.abstractmethod
    async def peek(self, queue: str, limit: int) -> list[Delivery]:
        """Take up to ``limit`` messages without acking; un-acked ones return to the queue on release."""

    @abc.abstractmethod
    async def release(self, deliveries: Sequence[Delivery]) -> None:
        """End a peek: every peeked message not acked goes back to its queue."""

    @abc.abstractmethod
    async def queue_depth(self, queue: str) -> int | None: ...
