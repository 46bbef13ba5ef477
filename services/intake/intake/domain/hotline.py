"""Hotline calls from telephony (CTI) events, the three-ring answer target, and the call-back list.

The PBX reports each call as ``newCall``, ``answer`` and ``hangup`` events in the generic CTI shape
helpdesks accept (``event``, ``callId``, ``from``, ``to``, ``direction`` in/out, ``user[]``,
``queue``, ``cause`` such as ``normalClearing``, ``busy``, ``cancel``, ``noAnswer``, ``forwarded``,
``answeringNumber``). Webhooks are retried and race each other, so a :class:`Call` takes its events
in any order and any number of times: a replayed event changes nothing, a hangup that overtakes the
answer is reconciled when the answer arrives, and a late ``newCall`` still dates the ring.

An inbound call answered within the target (default 15 s, about three rings) meets it. A call the
caller gave up on (``cancel``) is abandoned; one nobody took (``noAnswer``, ``busy`` …) is missed;
both put a call-back task with an owner and a due time on the list (:mod:`callbacks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from intake.domain.common import Aggregate, DomainEvent, utc
from intake.domain.contact_points import try_normalise_phone
from intake.domain.cti import CallDirection, CtiEvent, CtiEventKind, HangupCause
from kit.calendar import BusinessCalendar
from kit.domain import Conflict

__all__ = [
    "NEEDS_CALL_BACK",
    "Call",
    "CallAnswered",
    "CallDirection",
    "CallEnded",
    "CallMissed",
    "CallOutcome",
    "CallStarted",
    "CtiEvent",
    "CtiEventKind",
    "HangupCause",
    "HotlineSettings",
]


class CallOutcome(StrEnum):
    RINGING = "ringing"
    CONNECTED = "connected"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    MISSED = "missed"
    OUT_OF_HOURS = "out_of_hours"
    FORWARDED = "forwarded"


NEEDS_CALL_BACK = frozenset({CallOutcome.ABANDONED, CallOutcome.MISSED, CallOutcome.OUT_OF_HOURS})


@dataclass(frozen=True)
class HotlineSettings:
    """The answer target and how call-backs are owned and timed (all configuration)."""

    answer_target: timedelta = timedelta(seconds=15)
    default_region: str = "DE"
    callback_within: timedelta = timedelta(hours=1)
    callback_retry_after: timedelta = timedelta(hours=1)
    default_callback_owner: str = "hotline"
    callback_owner_by_queue: Mapping[str, str] = field(default_factory=dict)
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.always_open)


# --- the call ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CallStarted(DomainEvent):
    call_id: str
    direction: CallDirection
    customer_number: str | None


@dataclass(frozen=True, kw_only=True)
class CallAnswered(DomainEvent):
    call_id: str
    agent: str | None
    started_at: datetime | None
    answered_at: datetime
    ring_time: timedelta | None
    within_target: bool | None


@dataclass(frozen=True, kw_only=True)
class CallMissed(DomainEvent):
    """Nobody took the call: the store opens the call-back task (unless the number was withheld)."""

    call_id: str
    outcome: CallOutcome
    caller_number: str | None
    customer_number: str | None
    queue: str | None
    started_at: datetime
    ended_at: datetime
    ring_time: timedelta
    callback_owner: str
    callback_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class CallEnded(DomainEvent):
    call_id: str
    outcome: CallOutcome


@dataclass(kw_only=True)
class Call(Aggregate):
    """One telephone call, built from its CTI events in whatever order they arrive."""

    call_id: str
    direction: CallDirection
    from_number: str | None = None
    to_number: str | None = None
    customer_number: str | None = None
    queue: str | None = None
    users: tuple[str, ...] = ()
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    answered_by: str | None = None
    cause: HangupCause | None = None
    customer_id: str | None = None
    ticket_id: str | None = None
    seen: set[CtiEventKind] = field(default_factory=set)
    out_of_hours: bool = False
    answer_reported: bool = False
    miss_reported: bool = False
    end_reported: bool = False

    @classmethod
    def from_event(cls, event: CtiEvent, settings: HotlineSettings) -> Call:
        call = cls(call_id=event.call_id, direction=event.direction)
        call.apply(event, settings)
        return call

    # --- facts ----------------------------------------------------------------------------------

    @property
    def outcome(self) -> CallOutcome:
        """A hangup with ``normalClearing`` means someone talked, even before the answer event arrives."""
        if self.answered_at is not None or self.cause is HangupCause.NORMAL_CLEARING:
            return CallOutcome.CONNECTED if self.ended_at is None else CallOutcome.ANSWERED
        if self.ended_at is None:
            return CallOutcome.RINGING
        if self.cause is HangupCause.FORWARDED:
            return CallOutcome.FORWARDED
        if self.out_of_hours:
            return CallOutcome.OUT_OF_HOURS
        return CallOutcome.ABANDONED if self.cause is HangupCause.CANCEL else CallOutcome.MISSED

    @property
    def ring_time(self) -> timedelta | None:
        """From the first ring to the answer, or to the hangup of an unanswered call."""
        end = self.answered_at or self.ended_at
        if self.started_at is None or end is None:
            return None
        return max(end - self.started_at, timedelta(0))

    def answered_within_target(self, settings: HotlineSettings) -> bool | None:
        """True: answered within the target. False: answered late, or left ringing past it.
        None: not an inbound call, still ringing, or the caller hung up before the target passed."""
        ring = self.ring_time
        if self.direction is not CallDirection.IN or ring is None:
            return None
        if self.answered_at is not None:
            return ring <= settings.answer_target
        outcome = self.outcome
        if outcome is CallOutcome.MISSED:
            return False
        if outcome is CallOutcome.ABANDONED:
            return False if ring > settings.answer_target else None
        return None

    # --- events ---------------------------------------------------------------------------------

    def apply(self, event: CtiEvent, settings: HotlineSettings) -> bool:
        """Take one CTI event; False when it changed nothing (a replay, or an answer that a
        "nobody answered" hangup already contradicted)."""
        if event.call_id != self.call_id:
            raise ValueError(f"event of call {event.call_id} given to call {self.call_id}")
        if event.kind in self.seen:
            return False
        at = utc(event.at, "at")
        self._fill_parties(event, settings)
        if event.kind is CtiEventKind.NEW_CALL:
            # Received out of order, a newCall can carry a later time than the answer it preceded.
            self.started_at = min(t for t in (at, self.started_at, self.answered_at, self.ended_at) if t)
            self._record(
                CallStarted(
                    at=at,
                    call_id=self.call_id,
                    direction=self.direction,
                    customer_number=self.customer_number,
                )
            )
        elif event.kind is CtiEventKind.ANSWER:
            if self.ended_at is not None and self.cause not in (HangupCause.NORMAL_CLEARING, None):
                return False
            answered = min(at, self.ended_at) if self.ended_at else at
            self.answered_at = answered
            self.answered_by = event.answering_number or (event.users[0] if event.users else None)
            self.started_at = min(self.started_at, answered) if self.started_at else None
        else:
            self.ended_at = at
            self.cause = event.cause or HangupCause.UNKNOWN
            if self.started_at is not None and self.started_at > at:
                self.started_at = at
        self.seen.add(event.kind)
        self._settle(settings)
        self._bump()
        return True

    def link_ticket(self, ticket_id: str) -> None:
        """The agent opened a ticket while on this call."""
        if self.ticket_id not in (None, ticket_id):
            raise Conflict(f"call {self.call_id} already has ticket {self.ticket_id}", code="call-has-ticket")
        if self.ticket_id is None:
            self.ticket_id = ticket_id
            self._bump()

    def _fill_parties(self, event: CtiEvent, settings: HotlineSettings) -> None:
        self.direction = event.direction
        self.from_number = self.from_number or event.from_number
        self.to_number = self.to_number or event.to_number
        self.queue = self.queue or event.queue
        self.users = self.users or event.users
        customer_side = self.from_number if self.direction is CallDirection.IN else self.to_number
        self.customer_number = try_normalise_phone(customer_side, default_region=settings.default_region)

    def _settle(self, settings: HotlineSettings) -> None:
        """Raise what the events so far establish, once each: answered, missed, ended."""
        # An answer that overtook its newCall waits for it (or the hangup) so the ring time is known.
        known_start_or_end = self.started_at is not None or self.ended_at is not None
        if self.answered_at is not None and not self.answer_reported and known_start_or_end:
            self.answer_reported = True
            self._record(
                CallAnswered(
                    at=self.answered_at,
                    call_id=self.call_id,
                    agent=self.answered_by,
                    started_at=self.started_at,
                    answered_at=self.answered_at,
                    ring_time=self.ring_time,
                    within_target=self.answered_within_target(settings),
                )
            )
        if self.ended_at is None:
            return
        if self.direction is CallDirection.IN and self.outcome in NEEDS_CALL_BACK and not self.miss_reported:
            started = self.started_at or self.ended_at
            self.out_of_hours = not settings.calendar.is_working(started)
            self.miss_reported = True
            self._record(
                CallMissed(
                    at=self.ended_at,
                    call_id=self.call_id,
                    outcome=self.outcome,
                    caller_number=self.from_number,
                    customer_number=self.customer_number,
                    queue=self.queue,
                    started_at=started,
                    ended_at=self.ended_at,
                    ring_time=self.ended_at - started,
                    callback_owner=self._callback_owner(settings),
                    callback_due_at=settings.calendar.add_working_time(
                        self.ended_at, settings.callback_within
                    ),
                )
            )
        if not self.end_reported:
            self.end_reported = True
            self._record(CallEnded(at=self.ended_at, call_id=self.call_id, outcome=self.outcome))

    def _callback_owner(self, settings: HotlineSettings) -> str:
        if self.queue and self.queue in settings.callback_owner_by_queue:
            return settings.callback_owner_by_queue[self.queue]
        if len(self.users) == 1:
            return self.users[0]
        return settings.default_callback_owner
