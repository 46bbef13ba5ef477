"""Event type -> payload model registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from contracts.envelope import CloudEvent, EventPayload

P = TypeVar("P", bound=type[EventPayload])

_REGISTRY: dict[str, type[EventPayload]] = {}


class UnknownEventType(LookupError):
    pass


def event(event_type: str, *, subject: str | None = None) -> Callable[[P], P]:
    """Register a payload model as the ``data`` of ``event_type``.

    ``subject`` names the payload field whose value becomes the envelope subject.
    """
    parts = event_type.split(".")
    if len(parts) != 4 or not parts[3].startswith("v") or not parts[3][1:].isdigit():
        raise ValueError(f"event type must be <service>.<entity>.<verb>.v<N>: {event_type}")

    def register(model: P) -> P:
        if event_type in _REGISTRY and _REGISTRY[event_type] is not model:
            raise ValueError(f"event type registered twice: {event_type}")
        model.event_type = event_type
        model.subject_field = subject
        _REGISTRY[event_type] = model
        return model

    return register


def payload_model(event_type: str) -> type[EventPayload]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def parse(envelope: CloudEvent) -> EventPayload:
    """Validate an envelope's data against its registered payload model."""
    return payload_model(envelope.type).model_validate(envelope.data)


def _in_catalogue(model: type[EventPayload]) -> bool:
    # Test doubles may register their own types; the published catalogue is this package's models.
    return model.__module__.split(".", 1)[0] == "contracts"


def event_types() -> Iterator[str]:
    """The published catalogue's event types."""
    yield from sorted(t for t, m in _REGISTRY.items() if _in_catalogue(m))


def all_models() -> dict[str, type[EventPayload]]:
    """The published catalogue: event type -> payload model."""
    return {t: m for t, m in sorted(_REGISTRY.items()) if _in_catalogue(m)}


def producer(event_type: str) -> str:
    """The service that publishes ``event_type``: its first segment (``intake.ticket.created.v1``: intake)."""
    return event_type.split(".", 1)[0]
