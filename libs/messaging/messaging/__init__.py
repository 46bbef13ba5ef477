"""Reliable messaging: transactional outbox, relay, inbox, consumer runner, topology, transports."""

from messaging.consumer import ConsumerRunner, EventHandlers
from messaging.deadletters import DeadLetter, DeadLetters
from messaging.relay import OutboxRelay
from messaging.tables import MessagingTables, define_messaging_tables
from messaging.topology import ServiceTopology
from messaging.transport import Delivery, OutboundMessage, Transport, TransportUnavailable

__all__ = [
    "ConsumerRunner",
    "DeadLetter",
    "DeadLetters",
    "Delivery",
    "EventHandlers",
    "MessagingTables",
    "OutboundMessage",
    "OutboxRelay",
    "ServiceTopology",
    "Transport",
    "TransportUnavailable",
    "define_messaging_tables",
]
