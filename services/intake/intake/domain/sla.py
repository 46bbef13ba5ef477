"""SLA clocks of tickets: one per target, started, paused, met, warned and breached.

:class:`TicketSla` runs one clock per target the ticket's policy (:mod:`sla_policy`) sets. A clock
starts when the ticket opens, pauses while the ticket waits on the customer (the due time moves out
by the pause), stops when the target is met, and reports on track / at risk / breached / met.
Timers are rows the store schedules from :meth:`TicketSla.timers`; when one fires,
:meth:`TicketSla.on_timer` re-checks the clock, so a timer made stale by a pause or a met target does
nothing, and a replayed one does nothing twice. A breach escalates to the supervisor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from intake.domain.common import Aggregate, DomainEvent, utc
from intake.domain.contact_points import ServiceTier
from intake.domain.sla_policy import (
    ClockKind,
    PolicyKey,
    SlaPolicyBook,
    SlaTarget,
    describe_duration,
)
from intake.domain.ticket_events import (
    TicketAcknowledged,
    TicketCancelled,
    TicketEvent,
    TicketFirstResponse,
    TicketMerged,
    TicketOwnerChanged,
    TicketReopened,
    TicketResolved,
    TicketStatusChanged,
)
from intake.domain.ticket_values import Channel, Priority, TicketStatus, TicketType
from intake.domain.tickets import Ticket
from kit.calendar import BusinessCalendar
from kit.domain import DomainError

__all__ = [
    "ClockFact",
    "ClockKind",
    "ClockOutcome",
    "ClockReport",
    "ClockState",
    "EscalatedToSupervisor",
    "PolicyKey",
    "SlaAtRisk",
    "SlaBreached",
    "SlaClock",
    "SlaPolicyBook",
    "SlaTarget",
    "SlaTimer",
    "TicketSla",
    "TimerDecision",
    "TimerPurpose",
]

# --- clocks ------------------------------------------------------------------------------------


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    CANCELLED = "cancelled"


class ClockOutcome(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"


@dataclass
class SlaClock:
    """One target of one ticket. ``consumed`` is the counted time before ``running_since``."""

    kind: ClockKind
    target: SlaTarget
    started_at: datetime
    due_at: datetime
    state: ClockState = ClockState.RUNNING
    consumed: timedelta = timedelta(0)
    running_since: datetime | None = None
    stopped_at: datetime | None = None
    at_risk_at: datetime | None = None
    warned: bool = False
    breach_reported: bool = False

    def counted(self, at: datetime, calendar: BusinessCalendar) -> timedelta:
        """Time counted against the target up to ``at`` (frozen while paused or stopped)."""
        if self.running_since is None:
            return self.consumed
        return self.consumed + self.target.measure(self.running_since, at, calendar)

    def is_breached(self, at: datetime, calendar: BusinessCalendar) -> bool:
        """Missed: still open when the due time comes, or met after it (met exactly at it is on time)."""
        return self._breached(self.counted(at, calendar))

    def _breached(self, counted: timedelta) -> bool:
        if self.state is ClockState.CANCELLED:
            return False
        if self.state is ClockState.MET:
            return counted > self.target.duration
        return counted >= self.target.duration

    def _schedule(self, calendar: BusinessCalendar, at_risk_ratio: float) -> None:
        assert self.running_since is not None
        remaining = self.target.duration - self.consumed
        if remaining > timedelta(0):
            self.due_at = self.target.add(self.running_since, remaining, calendar)
        warn_after = self.target.duration * at_risk_ratio - self.consumed
        self.at_risk_at = (
            self.target.add(self.running_since, warn_after, calendar) if warn_after > timedelta(0) else None
        )

    def _freeze(self, at: datetime, calendar: BusinessCalendar) -> None:
        self.consumed = self.counted(at, calendar)
        self.running_since = None


class TimerPurpose(StrEnum):
    AT_RISK = "at_risk"
    BREACH = "breach"


@dataclass(frozen=True)
class SlaTimer:
    """A row the store keeps in its timer table: fire ``purpose`` for ``kind`` at ``due_at``."""

    ticket_id: str
    kind: ClockKind
    purpose: TimerPurpose
    due_at: datetime


class TimerDecision(StrEnum):
    WARNED = "warned"
    BREACHED = "breached"
    STALE = "stale"


@dataclass(frozen=True, kw_only=True)
class SlaAtRisk(DomainEvent):
    ticket_id: str
    kind: ClockKind
    due_at: datetime
    remaining: timedelta


@dataclass(frozen=True, kw_only=True)
class SlaBreached(DomainEvent):
    ticket_id: str
    kind: ClockKind
    due_at: datetime
    overdue: timedelta


@dataclass(frozen=True, kw_only=True)
class EscalatedToSupervisor(DomainEvent):
    ticket_id: str
    kind: ClockKind
    to: str
    reason: str


@dataclass(frozen=True)
class ClockReport:
    """Where one target stands at a moment. ``due_at`` is None while the clock is paused."""

    kind: ClockKind
    state: ClockState
    outcome: ClockOutcome
    due_at: datetime | None
    counted: timedelta
    remaining: timedelta
    stopped_at: datetime | None


@dataclass(frozen=True)
class ClockFact:
    """One clock as the compliance report counts it."""

    ticket_id: str
    kind: ClockKind
    channel: Channel
    type: TicketType
    priority: Priority
    tier: ServiceTier | None
    agent_id: str | None
    started_at: datetime
    due_at: datetime
    state: ClockState
    stopped_at: datetime | None
    breached: bool


_RESPONSE_KINDS = (ClockKind.ACKNOWLEDGE, ClockKind.FIRST_RESPONSE)


@dataclass(kw_only=True)
class TicketSla(Aggregate):
    """The SLA clocks of one ticket, fed by the ticket's own events."""

    ticket_id: str
    key: PolicyKey
    calendar: BusinessCalendar
    at_risk_ratio: float
    escalate_to: str
    owner_id: str | None = None
    clocks: dict[ClockKind, SlaClock] = field(default_factory=dict)

    @classmethod
    def start(cls, ticket: Ticket, book: SlaPolicyBook, calendar: BusinessCalendar) -> TicketSla:
        """Start the ticket's clocks at its opening; targets it already met (a hotline ticket is
        acknowledged and answered as it opens) stop at once. The technician-contact clock runs only
        for a ticket that needs someone on site."""
        key = PolicyKey.of(ticket)
        sla = cls(
            ticket_id=ticket.id,
            key=key,
            calendar=calendar,
            at_risk_ratio=book.at_risk_ratio,
            escalate_to=book.escalate_to,
            owner_id=ticket.owner_id,
        )
        for kind, target in book.policy_for(key).targets.items():
            if kind is ClockKind.TECHNICIAN_CONTACT and not ticket.needs_on_site:
                continue
            clock = SlaClock(kind, target, ticket.opened_at, ticket.opened_at, running_since=ticket.opened_at)
            clock._schedule(calendar, sla.at_risk_ratio)
            sla.clocks[kind] = clock
        if ticket.acknowledged_at is not None:
            sla._meet((ClockKind.ACKNOWLEDGE,), ticket.acknowledged_at)
        if ticket.first_response_at is not None:
            sla._meet(_RESPONSE_KINDS, ticket.first_response_at)
        return sla

    # --- following the ticket -------------------------------------------------------------------

    def observe(self, event: DomainEvent) -> None:
        """Apply a ticket event: met targets stop, waiting on the customer pauses, reopening resumes.
        Events that are not about this ticket's progress are ignored."""
        if not isinstance(event, TicketEvent):
            return
        if event.ticket_id != self.ticket_id:
            raise ValueError(f"event of ticket {event.ticket_id} given to the SLA of {self.ticket_id}")
        at = utc(event.at)
        if isinstance(event, TicketAcknowledged):
            self._meet((ClockKind.ACKNOWLEDGE,), at)
        elif isinstance(event, TicketFirstResponse):
            self._meet(_RESPONSE_KINDS, at)
        elif isinstance(event, TicketOwnerChanged):
            self.owner_id = event.owner_id
        elif isinstance(event, TicketResolved):
            self._meet(tuple(self.clocks), at)
        elif isinstance(event, TicketReopened):
            self._reopen(at)
        elif isinstance(event, TicketCancelled | TicketMerged):
            self._cancel(at)
        elif isinstance(event, TicketStatusChanged):
            if event.to_status is TicketStatus.WAITING_CUSTOMER:
                self._pause(at)
            elif event.from_status is TicketStatus.WAITING_CUSTOMER:
                self._resume(at)

    def technician_contacted(self, at: datetime) -> None:
        self._meet((ClockKind.TECHNICIAN_CONTACT,), utc(at))

    def retarget(self, book: SlaPolicyBook, key: PolicyKey, at: datetime) -> None:
        """The ticket's priority, type or tier changed: unfinished clocks take the new targets,
        keeping the time already counted."""
        at = utc(at)
        self.key = key
        policy = book.policy_for(key)
        for kind, clock in self.clocks.items():
            target = policy.targets.get(kind)
            if (
                target is None
                or target == clock.target
                or clock.state in (ClockState.MET, ClockState.CANCELLED)
            ):
                continue
            running = clock.state is ClockState.RUNNING
            if running:
                clock._freeze(at, self.calendar)
            clock.target = target
            clock.warned = clock.warned and clock.consumed >= target.duration * self.at_risk_ratio
            clock.breach_reported = clock.breach_reported and clock.consumed > target.duration
            if running:
                clock.running_since = at
                clock._schedule(self.calendar, self.at_risk_ratio)
        self._bump()

    def _meet(self, kinds: Iterable[ClockKind], at: datetime) -> None:
        for kind in kinds:
            clock = self.clocks.get(kind)
            if clock is None or clock.state not in (ClockState.RUNNING, ClockState.PAUSED):
                continue
            clock._freeze(at, self.calendar)
            clock.state = ClockState.MET
            clock.stopped_at = at
            self._bump()

    def _pause(self, at: datetime) -> None:
        for clock in self.clocks.values():
            if clock.state is ClockState.RUNNING and clock.target.pauses_while_waiting_customer:
                clock._freeze(at, self.calendar)
                clock.state = ClockState.PAUSED
                self._bump()

    def _resume(self, at: datetime) -> None:
        for clock in self.clocks.values():
            if clock.state is ClockState.PAUSED:
                clock.state = ClockState.RUNNING
                clock.running_since = at
                clock._schedule(self.calendar, self.at_risk_ratio)
                self._bump()

    def _reopen(self, at: datetime) -> None:
        # The problem was not solved after all: the resolution clocks count on from where they stopped.
        for kind in (ClockKind.RESOLVE, ClockKind.SUPERVISOR_REVIEW):
            clock = self.clocks.get(kind)
            if clock is not None and clock.state is ClockState.MET:
                clock.state = ClockState.RUNNING
                clock.stopped_at = None
                clock.running_since = at
                clock._schedule(self.calendar, self.at_risk_ratio)
                self._bump()

    def _cancel(self, at: datetime) -> None:
        for clock in self.clocks.values():
            if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
                clock._freeze(at, self.calendar)
                clock.state = ClockState.CANCELLED
                clock.stopped_at = at
                self._bump()

    # --- timers ---------------------------------------------------------------------------------

    def timers(self) -> list[SlaTimer]:
        """The timers that should exist now; the store replaces the ticket's timer rows with these."""
        result: list[SlaTimer] = []
        for kind, clock in self.clocks.items():
            if clock.state is not ClockState.RUNNING:
                continue
            if clock.at_risk_at is not None and not clock.warned and not clock.breach_reported:
                result.append(SlaTimer(self.ticket_id, kind, TimerPurpose.AT_RISK, clock.at_risk_at))
            if not clock.breach_reported:
                result.append(SlaTimer(self.ticket_id, kind, TimerPurpose.BREACH, clock.due_at))
        return sorted(result, key=lambda timer: (timer.due_at, timer.kind, timer.purpose))

    def on_timer(self, timer: SlaTimer, at: datetime) -> TimerDecision:
        """A timer fired at ``at``: warn or breach if the clock really is there now, else do nothing.

        A replayed or stale timer (the clock was paused, met, moved out or already reported) is a
        no-op, so the scheduler may fire at least once without double events.
        """
        at = utc(at)
        clock = self.clocks.get(timer.kind)
        if timer.ticket_id != self.ticket_id or clock is None or clock.state is not ClockState.RUNNING:
            return TimerDecision.STALE
        if clock.breach_reported:
            return TimerDecision.STALE
        counted = clock.counted(at, self.calendar)
        if clock._breached(counted):
            clock.breach_reported = True
            clock.warned = True
            self._record(
                SlaBreached(
                    at=at,
                    ticket_id=self.ticket_id,
                    kind=clock.kind,
                    due_at=clock.due_at,
                    overdue=max(at - clock.due_at, timedelta(0)),
                )
            )
            self._record(
                EscalatedToSupervisor(
                    at=at,
                    ticket_id=self.ticket_id,
                    kind=clock.kind,
                    to=self.escalate_to,
                    reason=_escalation_reason(clock),
                )
            )
            self._bump()
            return TimerDecision.BREACHED
        if (
            timer.purpose is TimerPurpose.AT_RISK
            and not clock.warned
            and counted >= clock.target.duration * self.at_risk_ratio
        ):
            clock.warned = True
            self._record(
                SlaAtRisk(
                    at=at,
                    ticket_id=self.ticket_id,
                    kind=clock.kind,
                    due_at=clock.due_at,
                    remaining=clock.target.duration - counted,
                )
            )
            self._bump()
            return TimerDecision.WARNED
        return TimerDecision.STALE

    # --- reporting ------------------------------------------------------------------------------

    def report(self, at: datetime) -> list[ClockReport]:
        at = utc(at)
        return [self._report(clock, at) for clock in self.clocks.values()]

    def clock_report(self, kind: ClockKind, at: datetime) -> ClockReport:
        clock = self.clocks.get(kind)
        if clock is None:
            raise DomainError(f"ticket {self.ticket_id} has no {kind.value} target", code="no-such-target")
        return self._report(clock, utc(at))

    def _report(self, clock: SlaClock, at: datetime) -> ClockReport:
        counted = clock.counted(at, self.calendar)
        remaining = clock.target.duration - counted
        if clock.state is ClockState.CANCELLED:
            outcome = ClockOutcome.CANCELLED
        elif clock._breached(counted):
            outcome = ClockOutcome.BREACHED
        elif clock.state is ClockState.MET:
            outcome = ClockOutcome.MET
        elif counted >= clock.target.duration * self.at_risk_ratio:
            outcome = ClockOutcome.AT_RISK
        else:
            outcome = ClockOutcome.ON_TRACK
        due_at = None if clock.state is ClockState.PAUSED else clock.due_at
        return ClockReport(clock.kind, clock.state, outcome, due_at, counted, remaining, clock.stopped_at)

    def facts(self, at: datetime) -> list[ClockFact]:
        """The clocks as facts for :func:`compliance_report`, breaches judged as of ``at``."""
        at = utc(at)
        return [
            ClockFact(
                ticket_id=self.ticket_id,
                kind=clock.kind,
                channel=self.key.channel,
                type=self.key.type,
                priority=self.key.priority,
                tier=self.key.tier,
                agent_id=self.owner_id,
                started_at=clock.started_at,
                due_at=clock.due_at,
                state=clock.state,
                stopped_at=clock.stopped_at,
                breached=clock.is_breached(at, self.calendar),
            )
            for clock in self.clocks.values()
        ]


_ESCALATION_REASONS = {
    ClockKind.SUPERVISOR_REVIEW: "unresolved after {target}",
    ClockKind.RESOLVE: "not resolved within {target}",
    ClockKind.FIRST_RESPONSE: "no first response within {target}",
    ClockKind.ACKNOWLEDGE: "not acknowledged within {target}",
    ClockKind.TECHNICIAN_CONTACT: "technician did not contact the customer within {target}",
}


def _escalation_reason(clock: SlaClock) -> str:
    return _ESCALATION_REASONS[clock.kind].format(target=describe_duration(clock.target))
