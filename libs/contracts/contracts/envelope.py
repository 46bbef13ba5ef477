"""The CloudEvents 1.0 envelope (structured JSON mode) every event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SOURCE_PREFIX = "/aftersales/"
CONTENT_TYPE = "application/cloudevents+json"


class EventPayload(BaseModel):
    """Base of every event's ``data``.

    Subclasses are registered with :func:`contracts.registry.event`, which sets ``event_type``
    and the name of the field that becomes the envelope ``subject``. Consumers are tolerant
    readers: unknown fields are ignored, so adding an optional field is a compatible change.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str] = ""
    subject_field: ClassVar[str | None] = None

    def subject(self) -> str | None:
        if not self.subject_field:
            return None
        value = getattr(self, self.subject_field)
        return None if value is None else str(value)

    def dealer(self) -> str | None:
        """The dealer this event concerns, for partner scoping (``dealerid`` extension)."""
        value = getattr(self, "dealer_id", None)
        return None if value is None else str(value)


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 document with this platform's extensions."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+\.[a-z_]+\.v[0-9]+$", max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    correlationid: str | None = Field(default=None, max_length=200)
    causationid: str | None = Field(default=None, max_length=200)
    traceparent: str | None = Field(default=None, max_length=200)
    dealerid: str | None = Field(default=None, max_length=200)

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def service(self) -> str:
        """The producing service, taken from ``source``."""
        return self.source.removeprefix(SOURCE_PREFIX)

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, body: bytes | str) -> CloudEvent:
        return cls.model_validate_json(body)


def new_event(
    payload: EventPayload,
    *,
    service: str,
    time: datetime,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    traceparent: str | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    """Wrap a registered payload in an envelope ready for the outbox."""
    if not payload.event_type:
        raise ValueError(f"{type(payload).__name__} is not a registered event payload")
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=SOURCE_PREFIX + service,
        type=payload.event_type,
        subject=payload.subject(),
        time=time,
        data=payload.model_dump(mode="json"),
        correlationid=correlation_id,
        causationid=causation_id,
        traceparent=traceparent,
        dealerid=payload.dealer(),
    )
