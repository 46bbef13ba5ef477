"""Events produced by the webhooks service: the health of partner endpoints and deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from contracts.common import Actor, Id, ShortText, UtcDateTime
from contracts.envelope import EventPayload
from contracts.registry import event

EventType = Annotated[str, Field(max_length=200, pattern=r"^[a-z_]+\.[a-z_]+\.[a-z_]+\.v[0-9]+$")]


@event("webhooks.endpoint.disabled.v1", subject="endpoint_id")
class EndpointDisabled(EventPayload):
    """A partner endpoint stopped receiving deliveries.

    Emitted by webhooks after too many consecutive failures, or when an operator or the partner
    disables it. Operators and the partner's contact are told; deliveries wait until re-enabled.
    """

    endpoint_id: Id
    partner_id: Id
    dealer_id: Id | None = None
    url_host: Annotated[str, Field(max_length=253)] = Field(description="Host only; never the full URL")
    reason: Literal["consecutive_failures", "operator", "partner_request", "address_not_allowed", "gone"]
    detail: ShortText | None = None
    consecutive_failures: int = Field(default=0, ge=0)
    last_status_code: int | None = Field(default=None, ge=100, le=599)
    last_failure_at: UtcDateTime | None = None
    disabled_at: UtcDateTime
    disabled_by: Actor


@event("webhooks.delivery.exhausted.v1", subject="delivery_id")
class DeliveryExhausted(EventPayload):
    """A delivery to a partner failed on every attempt and was given up (it can still be replayed).

    Emitted by webhooks when the retry schedule runs out. Operators see it on the delivery
    board and can replay it.
    """

    delivery_id: Id
    endpoint_id: Id
    partner_id: Id
    dealer_id: Id | None = None
    cloudevent_id: Id = Field(description="The id of the event that was not delivered")
    cloudevent_type: EventType
    attempts: int = Field(ge=1)
    last_status_code: int | None = Field(default=None, ge=100, le=599)
    last_error: ShortText | None = None
    first_attempt_at: UtcDateTime
    gave_up_at: UtcDateTime
