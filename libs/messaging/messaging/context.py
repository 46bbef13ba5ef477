"""Correlation, causation and trace context carried across HTTP and AMQP hops."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from contracts.envelope import CloudEvent

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)
_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)
_dealer_id: ContextVar[str | None] = ContextVar("dealer_id", default=None)


@dataclass(frozen=True)
class MessageContext:
    correlation_id: str | None
    causation_id: str | None
    traceparent: str | None


def current() -> MessageContext:
    return MessageContext(_correlation_id.get(), _causation_id.get(), _traceparent.get())


def correlation_id() -> str | None:
    return _correlation_id.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def child_traceparent(parent: str | None) -> str:
    """A W3C traceparent for a new span, continuing ``parent``'s trace when there is one."""
    trace_id = None
    if parent:
        parts = parent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32:
            trace_id = parts[1]
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


@contextlib.contextmanager
def bind(
    *, correlation_id: str | None, causation_id: str | None = None, traceparent: str | None = None
) -> Iterator[MessageContext]:
    """Set the context for the work done inside the block (one request or one consumed event)."""
    tokens = (
        _correlation_id.set(correlation_id or new_correlation_id()),
        _causation_id.set(causation_id),
        _traceparent.set(child_traceparent(traceparent)),
    )
    try:
        yield current()
    finally:
        _correlation_id.reset(tokens[0])
        _causation_id.reset(tokens[1])
        _traceparent.reset(tokens[2])


def consuming(event: CloudEvent) -> contextlib.AbstractContextManager[MessageContext]:
    """The context for handling ``event``: its correlation id, caused by it, its trace continued."""
    return bind(
        correlation_id=event.correlationid or event.id,
        causation_id=event.id,
        traceparent=event.traceparent,
    )
