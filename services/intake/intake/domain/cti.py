"""Telephony (CTI) events in the generic shape helpdesks accept from a PBX.

Each call is reported as ``newCall``, ``answer`` and ``hangup`` events with ``event``, ``callId``,
``from``, ``to``, ``direction`` (in/out), ``user[]``, ``queue``, ``cause`` (``normalClearing``,
``busy``, ``cancel``, ``noAnswer``, ``congestion``, ``notFound``, ``forwarded``) and
``answeringNumber``, as form fields or JSON. An optional ``timestamp`` (ISO 8601 or Unix seconds)
dates the event; without one, the time it was received does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from intake.domain.common import utc
from kit.domain import DomainError

MAX_CALL_ID = 250
MAX_FIELD = 200


class CtiEventKind(StrEnum):
    NEW_CALL = "newCall"
    ANSWER = "answer"
    HANGUP = "hangup"


class CallDirection(StrEnum):
    IN = "in"
    OUT = "out"


class HangupCause(StrEnum):
    NORMAL_CLEARING = "normalClearing"
    BUSY = "busy"
    CANCEL = "cancel"
    NO_ANSWER = "noAnswer"
    CONGESTION = "congestion"
    NOT_FOUND = "notFound"
    FORWARDED = "forwarded"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CtiEvent:
    """One telephony event. ``at`` is the PBX's own timestamp when it sends one, else receipt time."""

    kind: CtiEventKind
    call_id: str
    direction: CallDirection
    at: datetime
    from_number: str | None = None
    to_number: str | None = None
    users: tuple[str, ...] = ()
    queue: str | None = None
    cause: HangupCause | None = None
    answering_number: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, object], *, received_at: datetime) -> CtiEvent:
        """Read the generic CTI shape (form fields or JSON). ``user`` and ``user[]`` may repeat;
        an unknown hangup cause is kept as ``unknown`` rather than refused."""
        kind = _enum(CtiEventKind, _text(params, "event"), "event")
        call_id = _text(params, "callId", max_length=MAX_CALL_ID)
        if call_id is None:
            raise DomainError("callId is required", code="bad-cti-event", field="callId")
        direction = _enum(CallDirection, _text(params, "direction") or "in", "direction")
        cause_text = _text(params, "cause")
        cause = None
        if cause_text is not None:
            cause = (
                HangupCause(cause_text)
                if cause_text in HangupCause.__members__.values()
                else HangupCause.UNKNOWN
            )
        users = tuple(
            user[:MAX_FIELD] for key in ("user[]", "user") for user in _texts(params.get(key)) if user.strip()
        )
        return cls(
            kind=kind,
            call_id=call_id,
            direction=direction,
            at=_timestamp(params.get("timestamp"), received_at),
            from_number=_text(params, "from"),
            to_number=_text(params, "to"),
            users=users,
            queue=_text(params, "queue"),
            cause=cause,
            answering_number=_text(params, "answeringNumber"),
        )


def _texts(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def _text(params: Mapping[str, object], key: str, *, max_length: int = MAX_FIELD) -> str | None:
    values = _texts(params.get(key))
    if not values or not values[0].strip():
        return None
    value = values[0].strip()
    if len(value) > max_length:
        raise DomainError(f"{key} is longer than {max_length} characters", code="bad-cti-event", field=key)
    return value


E = TypeVar("E", bound=StrEnum)


def _enum(enum: type[E], value: str | None, key: str) -> E:
    try:
        return enum(value or "")
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise DomainError(f"{key} must be one of {allowed}", code="bad-cti-event", field=key) from None


def _timestamp(value: object, received_at: datetime) -> datetime:
    received_at = utc(received_at, "received_at")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return received_at
        return parsed.astimezone(UTC) if parsed.tzinfo else received_at
    return received_at
