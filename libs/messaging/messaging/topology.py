"""Exchanges, queues and bindings: declared idempotently at start-up and exported for operators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

EVENTS_EXCHANGE = "aftersales.events"
DEAD_LETTER_EXCHANGE = "aftersales.dead-letter"
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 10.0, 60.0)


def _delay_label(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


@dataclass(frozen=True)
class ServiceTopology:
    """What one consuming service declares: its queue, bindings, retry ladder and dead-letter queue.

    ``bindings`` are routing-key patterns (event types, or ``#`` for every event). A handler that
    fails is retried after each delay in ``retry_delays`` in turn; after the last one the event is
    dead-lettered, so ``max_attempts = len(retry_delays) + 1``.
    """

    service: str
    bindings: tuple[str, ...]
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    extra_queue_arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def queue(self) -> str:
        return f"{self.service}.events"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.service}.dead-letter"

    @property
    def dead_letter_routing_key(self) -> str:
        return self.service

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    def retry_queue(self, attempt: int) -> str:
        """The delay queue an event waits in after failing its ``attempt``-th time (1-based)."""
        return f"{self.service}.retry.{_delay_label(self.retry_delays[attempt - 1])}"

    def retry_queues(self) -> list[tuple[str, float]]:
        return [(self.retry_queue(i + 1), d) for i, d in enumerate(self.retry_delays)]

    def queue_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum", **self.extra_queue_arguments}

    def retry_queue_arguments(self, delay: float) -> dict[str, Any]:
        # Expired messages go back to this service's queue only, not to every subscriber of the type.
        return {
            "x-queue-type": "quorum",
            "x-message-ttl": round(delay * 1000),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    @staticmethod
    def dead_letter_queue_arguments() -> dict[str, Any]:
        return {"x-queue-type": "quorum"}


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more words."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: Sequence[str], words: Sequence[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


def rabbitmq_definitions(topologies: Iterable[ServiceTopology], vhost: str = "/") -> dict[str, Any]:
    """The same topology as a RabbitMQ definitions document (``rabbitmqctl import_definitions``)."""
    exchanges = [
        {
            "name": name,
            "vhost": vhost,
            "type": kind,
            "durable": True,
            "auto_delete": False,
            "internal": False,
            "arguments": {},
        }
        for name, kind in ((EVENTS_EXCHANGE, "topic"), (DEAD_LETTER_EXCHANGE, "direct"))
    ]
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    for t in sorted(topologies, key=lambda t: t.service):
        queues.append(
            {
                "name": t.queue,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": t.queue_arguments(),
            }
        )
        for key in t.bindings:
            bindings.append(
                {
                    "source": EVENTS_EXCHANGE,
                    "vhost": vhost,
                    "destination": t.queue,
                    "destination_type": "queue",
                    "routing_key": key,
                    "arguments": {},
                }
            )
        for name, delay in t.retry_queues():
            queues.append(
                {
                    "name": name,
                    "vhost": vhost,
                    "durable": True,
                    "auto_delete": False,
                    "arguments": t.retry_queue_arguments(delay),
                }
            )
        queues.append(
            {
                "name": t.dead_letter_queue,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": t.dead_letter_queue_arguments(),
            }
        )
        bindings.append(
            {
                "source": DEAD_LETTER_EXCHANGE,
                "vhost": vhost,
                "destination": t.dead_letter_queue,
                "destination_type": "queue",
                "routing_key": t.dead_letter_routing_key,
                "arguments": {},
            }
        )
    return {
        "rabbit_version": "3.10",
        "vhosts": [{"name": vhost}],
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    }
