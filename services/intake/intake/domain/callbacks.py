"""The call-back list: one task per missed or abandoned call, with an owner, a due time and attempts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from intake.domain.common import Actor, Aggregate, DomainEvent, require_text, utc
from intake.domain.cti import MAX_FIELD
from intake.domain.hotline import Call, CallMissed, CallOutcome, HotlineSettings
from kit.domain import Conflict, Forbidden


class CallBackStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CallBackOutcome(StrEnum):
    """What an attempt to call back came to: reached closes the task, the next three keep it open
    and due again later, the last two close it without a conversation."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    NOT_NEEDED = "not_needed"


_CLOSES_WITHOUT_TALKING = frozenset({CallBackOutcome.WRONG_NUMBER, CallBackOutcome.NOT_NEEDED})


@dataclass(frozen=True)
class CallBackAttempt:
    at: datetime
    actor_ref: str
    reached: bool
    note: str


@dataclass(frozen=True, kw_only=True)
class CallBackCompleted(DomainEvent):
    task_id: str
    call_id: str
    how: str


@dataclass(frozen=True, kw_only=True)
class CallBackEscalated(DomainEvent):
    task_id: str
    call_id: str
    level: int
    to_owner: str


@dataclass(kw_only=True)
class CallBackTask(Aggregate):
    """Call the customer back: one task per missed call, owned by a person or a queue, due by a time."""

    id: str
    call_id: str
    number: str
    owner: str
    due_at: datetime
    created_at: datetime
    customer_id: str | None = None
    status: CallBackStatus = CallBackStatus.OPEN
    outcome: CallBackOutcome | None = None
    taken_by: str | None = None
    escalation_level: int = 0
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    attempts: list[CallBackAttempt] = field(default_factory=list)

    @classmethod
    def for_missed_call(cls, missed: CallMissed, *, task_id: str | None = None) -> CallBackTask | None:
        """The task for a missed call, or None when the caller withheld the number (nobody to call)."""
        if missed.customer_number is None:
            return None
        return cls(
            id=task_id or str(uuid.uuid4()),
            call_id=missed.call_id,
            number=missed.customer_number,
            owner=missed.callback_owner,
            due_at=missed.callback_due_at,
            created_at=missed.at,
        )

    def record_attempt(
        self, *, actor: Actor, at: datetime, reached: bool, note: str, settings: HotlineSettings
    ) -> None:
        """An attempt to call back; not reaching the customer keeps the task open and due again later."""
        self._require_open("record_attempt")
        at = utc(at, "at")
        self.attempts.append(CallBackAttempt(at, actor.ref, reached, note[:MAX_FIELD]))
        if reached:
            self._complete(at, "reached")
        else:
            self.due_at = settings.calendar.add_working_time(at, settings.callback_retry_after)
        self._bump()

    def take(self, *, actor: Actor, at: datetime) -> None:
        """A member of staff takes the task for themselves; one taken by a colleague only a supervisor
        hands on."""
        self._require_open("take")
        if not actor.is_person:
            raise Forbidden("only a member of staff takes a call-back", code="callback-not-staff")
        if self.taken_by not in (None, actor.id) and not actor.is_supervisor:
            raise Conflict(f"the call-back is taken by {self.taken_by}", code="callback-taken")
        if self.taken_by == actor.id and self.owner == actor.id:
            return
        self.taken_by = actor.id
        self.owner = actor.id
        self._bump()

    def record_outcome(
        self, outcome: CallBackOutcome, *, actor: Actor, at: datetime, note: str, settings: HotlineSettings
    ) -> None:
        """The result of calling back: reached closes it, no answer keeps it open and due again later,
        a wrong number or a call no longer needed closes it without a conversation."""
        self._require_open("record_outcome")
        if not actor.is_person:
            raise Forbidden("only a member of staff calls back", code="callback-not-staff")
        if self.taken_by not in (None, actor.id) and not actor.is_supervisor:
            raise Conflict(f"the call-back is taken by {self.taken_by}", code="callback-taken")
        if outcome in _CLOSES_WITHOUT_TALKING:
            self.cancel(actor=actor, at=at, reason=f"{outcome.value}: {note}".strip().rstrip(":"))
        else:
            self.record_attempt(
                actor=actor,
                at=at,
                reached=outcome is CallBackOutcome.REACHED,
                note=f"{outcome.value}: {note}".strip().rstrip(":"),
                settings=settings,
            )
        self.outcome = outcome

    def overdue(self, at: datetime) -> bool:
        return self.status is CallBackStatus.OPEN and self.due_at <= utc(at, "at")

    def escalate(self, *, to_owner: str, at: datetime) -> bool:
        """Past its due time and still open: it goes to ``to_owner`` (the supervisors); False when
        nothing is overdue (done meanwhile, or due later after a failed attempt)."""
        at = utc(at, "at")
        if not self.overdue(at):
            return False
        self.escalation_level += 1
        self.escalated_at = at
        self.owner = require_text(to_owner, "to_owner", max_length=MAX_FIELD)
        self.taken_by = None
        self._record(
            CallBackEscalated(
                at=at, task_id=self.id, call_id=self.call_id, level=self.escalation_level, to_owner=self.owner
            )
        )
        self._bump()
        return True

    def satisfied_by(self, call: Call) -> bool:
        """A later connected call with the same number (they called again, or we called them)."""
        return (
            self.status is CallBackStatus.OPEN
            and call.call_id != self.call_id
            and call.customer_number == self.number
            and call.outcome in (CallOutcome.CONNECTED, CallOutcome.ANSWERED)
            and (call.answered_at or call.ended_at or self.created_at) >= self.created_at
        )

    def close_by_call(self, call: Call, at: datetime) -> bool:
        if not self.satisfied_by(call):
            return False
        self._complete(utc(at, "at"), f"call {call.call_id}")
        self.outcome = CallBackOutcome.REACHED
        self._bump()
        return True

    def reassign(self, *, to_owner: str, actor: Actor, at: datetime) -> None:
        self._require_open("reassign")
        if not actor.is_supervisor and actor.id != self.owner:
            raise Forbidden("only the owner or a supervisor hands a call-back on", code="callback-not-owner")
        self.owner = require_text(to_owner, "to_owner", max_length=MAX_FIELD)
        self._bump()

    def cancel(self, *, actor: Actor, at: datetime, reason: str) -> None:
        self._require_open("cancel")
        self.status = CallBackStatus.CANCELLED
        self.closed_at = utc(at, "at")
        self.attempts.append(
            CallBackAttempt(utc(at, "at"), actor.ref, False, f"cancelled: {reason[:MAX_FIELD]}")
        )
        self._bump()

    def _complete(self, at: datetime, how: str) -> None:
        self.status = CallBackStatus.DONE
        self.closed_at = at
        self._record(CallBackCompleted(at=at, task_id=self.id, call_id=self.call_id, how=how))

    def _require_open(self, action: str) -> None:
        if self.status is not CallBackStatus.OPEN:
            raise Conflict(f"the call-back is {self.status.value}; cannot {action}", code="callback-closed")
