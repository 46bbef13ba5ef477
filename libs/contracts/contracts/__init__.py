"""Contracts shared between the after-sales services: the envelope and every event payload.

Importing this package registers every payload module, so ``registry.payload_model(type)`` works
for the whole catalogue.
"""

from contracts import dispatch, intake, inventory, surveys, warranty, webhooks  # noqa: F401
from contracts.common import MoneyAmount
from contracts.envelope import CONTENT_TYPE, CloudEvent, EventPayload, new_event
from contracts.registry import event, event_types, parse, payload_model, producer

__all__ = [
    "CONTENT_TYPE",
    "CloudEvent",
    "EventPayload",
    "MoneyAmount",
    "event",
    "event_types",
    "new_event",
    "parse",
    "payload_model",
    "producer",
]
