"""Operator access to a service's dead-letter queue: list, inspect, replay, discard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from messaging.topology import ServiceTopology
from messaging.transport import ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, Delivery, Transport

SCAN_LIMIT = 10_000


@dataclass(frozen=True)
class DeadLetter:
    event_id: str
    event_type: str
    attempts: int
    error: str
    failed_at: str | None
    event: dict[str, Any] | None
    raw: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeadLetter:
        try:
            event: dict[str, Any] | None = json.loads(delivery.body)
            raw = None
        except ValueError:
            event, raw = None, delivery.body[:4096].decode("utf-8", "replace")
        return cls(
            event_id=delivery.message_id,
            event_type=delivery.routing_key,
            attempts=delivery.attempt,
            error=str(delivery.headers.get(ERROR_HEADER, "")),
            failed_at=str(delivery.headers[FAILED_AT_HEADER])
            if FAILED_AT_HEADER in delivery.headers
            else None,
            event=event,
            raw=raw,
        )


DeadLetterList = list[DeadLetter]
IdList = list[str]


class DeadLetters:
    def __init__(
        self, transport: Transport, topology: ServiceTopology, *, send_timeout: float = 10.0
    ) -> None:
        self._transport = transport
        self._topology = topology
        self._timeout = send_timeout

    async def list(self, limit: int = 100) -> DeadLetterList:
        deliveries = await self._transport.peek(self._topology.dead_letter_queue, limit)
        try:
            return [DeadLetter.of(d) for d in deliveries]
        finally:
            await self._transport.release(deliveries)

    async def get(self, event_id: str) -> DeadLetter | None:
        deliveries = await self._transport.peek(self._topology.dead_letter_queue, SCAN_LIMIT)
        try:
            return next((DeadLetter.of(d) for d in deliveries if d.message_id == event_id), None)
        finally:
            await self._transport.release(deliveries)

    async def replay(self, event_ids: set[str] | None = None, *, limit: int = SCAN_LIMIT) -> IdList:
        """Send dead letters (all, or those named) back to the service's queue as first attempts."""
        deliveries = await self._transport.peek(self._topology.dead_letter_queue, limit)
        replayed: list[str] = []
        try:
            for d in deliveries:
                if event_ids is not None and d.message_id not in event_ids:
                    continue
                await self._transport.send_to_queue(
                    self._topology.queue,
                    d.as_outbound(**{ATTEMPT_HEADER: 1, "x-replayed-at": datetime.now(UTC).isoformat()}),
                    timeout=self._timeout,
                )
                await d.ack()
                replayed.append(d.message_id)
        finally:
            await self._transport.release(deliveries)
        return replayed

    async def discard(self, event_id: str) -> bool:
        deliveries = await self._transport.peek(self._topology.dead_letter_queue, SCAN_LIMIT)
        found = False
        try:
            for d in deliveries:
                if d.message_id == event_id and not found:
                    await d.ack()
                    found = True
        finally:
            await self._transport.release(deliveries)
        return found

    async def count(self) -> int | None:
        return await self._transport.queue_depth(self._topology.dead_letter_queue)
