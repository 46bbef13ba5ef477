"""Durable timers of a work order and what firing each one means.

``timers_for(order)`` lists the timers that should be pending for the order as it stands; the store keeps
one pending timer per ``(work order, kind)`` and replaces it whenever the order changes. When a timer
fires, ``decide`` looks at the order *as it is now*: a timer whose condition no longer holds (the job was
arranged, the technician arrived, the deadline moved later) decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dispatch.domain.appointments import late_check
from dispatch.domain.events import EscalationKind
from dispatch.domain.values import Actor, WorkOrderType, ensure_utc
from dispatch.domain.work_orders import WorkOrder, WorkOrderState

S = WorkOrderState
_UNARRANGED = frozenset({S.NEW, S.SCHEDULED})
_NOT_ON_SITE_YET = frozenset({S.NEW, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE})
_BEING_WORKED = frozenset({S.NEW, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})


class TimerKind(StrEnum):
    ARRANGE_DUE = "arrange_due"
    SUPERVISOR_CHECK = "supervisor_check"
    REMOTE_SUPPORT_DUE = "remote_support_due"
    ON_SITE_AT_RISK = "on_site_at_risk"
    PREMIUM_FIX_DUE = "premium_fix_due"
    APPOINTMENT_START = "appointment_start"
    DEALER_ACCEPT_DUE = "dealer_accept_due"


@dataclass(frozen=True)
class Timer:
    work_order_id: str
    kind: TimerKind
    due_at: datetime

    @property
    def key(self) -> str:
        """At most one pending timer per key: a newer due time replaces the older."""
        return f"{self.work_order_id}:{self.kind.value}"


class Outcome(StrEnum):
    NOTHING = "nothing"
    ESCALATE = "escalate"
    GO_ON_SITE = "go_on_site"
    LOANER = "loaner"
    APPOINTMENT_LATE = "appointment_late"
    BACK_TO_DISPATCHER = "back_to_dispatcher"


@dataclass(frozen=True)
class Decision:
    """What a fired timer means now. ``escalation`` is recorded (once per kind and deadline);
    ``GO_ON_SITE`` also turns a remote case into an on-site job; ``LOANER`` also requests a loaner;
    ``APPOINTMENT_LATE`` also reports the late appointment; ``BACK_TO_DISPATCHER`` takes the job back
    from a dealer who did not accept it in time."""

    outcome: Outcome
    reason: str
    escalation: EscalationKind | None = None
    due_at: datetime | None = None
    minutes_late: int = 0

    @classmethod
    def nothing(cls, reason: str) -> Decision:
        return cls(Outcome.NOTHING, reason)


def timers_for(order: WorkOrder) -> list[Timer]:
    """The timers that should be pending for ``order`` now (none once it is finished)."""
    d = order.deadlines
    timers: list[Timer] = []

    def add(kind: TimerKind, due_at: datetime | None) -> None:
        if due_at is not None:
            timers.append(Timer(order.id, kind, due_at))

    if order.state in _UNARRANGED and order.technician_id is None:
        # a dealer who has not accepted yet is watched by its own timer: accepted in time, or it comes back
        add(TimerKind.DEALER_ACCEPT_DUE if order.awaiting_dealer else TimerKind.ARRANGE_DUE, d.arrange_by)
        add(TimerKind.SUPERVISOR_CHECK, d.supervisor_check_at)
    if (
        order.state is S.NEW and order.type is WorkOrderType.REMOTE_SUPPORT
    ) or order.state is S.REMOTE_SUPPORT:
        add(TimerKind.REMOTE_SUPPORT_DUE, d.remote_escalation_at)
    if order.state in _NOT_ON_SITE_YET and d.on_site_by is not None:
        add(TimerKind.ON_SITE_AT_RISK, d.on_site_by - order.policy.on_site_at_risk_margin)
    if _loaner_applies(order):
        add(TimerKind.PREMIUM_FIX_DUE, d.fix_by)
    if order.awaiting_visit and order.appointment is not None:
        add(TimerKind.APPOINTMENT_START, order.appointment.start)
    return sorted(timers, key=lambda t: (t.due_at, t.kind.value))


def decide(order: WorkOrder, timer: Timer, now: datetime) -> Decision:
    """What ``timer`` firing at ``now`` means for ``order`` as it is now."""
    now = ensure_utc(now)
    current = next((t for t in timers_for(order) if t.kind is timer.kind), None)
    if current is None:
        return Decision.nothing(f"{timer.kind.value} no longer applies in state {order.state.value}")
    if current.due_at > now:
        return Decision.nothing(f"{timer.kind.value} moved to {current.due_at.isoformat()}")
    due = current.due_at
    kind = timer.kind
    if kind is TimerKind.DEALER_ACCEPT_DUE:
        return Decision(
            Outcome.BACK_TO_DISPATCHER,
            f"dealer {order.dealer_id} did not accept in time: back to the dispatcher, supervisor informed",
            EscalationKind.DEALER_NOT_ARRANGED,
            due,
        )
    if kind is TimerKind.ARRANGE_DUE:
        if order.dealer_id is not None:
            return _escalate(
                EscalationKind.DEALER_NOT_ARRANGED,
                due,
                f"dealer {order.dealer_id} accepted but has not arranged a visit in time",
            )
        if any(e.kind is EscalationKind.DEALER_NOT_ARRANGED and e.at >= due for e in order.escalations):
            return Decision.nothing("the supervisor was told when the dealer gave the job back")
        return _escalate(EscalationKind.NOT_ARRANGED, due, "not arranged in time: supervisor to arrange it")
    if kind is TimerKind.SUPERVISOR_CHECK:
        return _escalate(EscalationKind.SUPERVISOR_CHECK, due, "still not arranged: supervisor check")
    if kind is TimerKind.ON_SITE_AT_RISK:
        return _escalate(EscalationKind.ON_SITE_AT_RISK, due, "on-site deadline at risk: nobody on site yet")
    if kind is TimerKind.REMOTE_SUPPORT_DUE:
        return Decision(
            Outcome.GO_ON_SITE,
            "not solved remotely in time: supervisor informed, a technician goes on site",
            EscalationKind.REMOTE_NOT_SOLVED,
            due,
        )
    if kind is TimerKind.PREMIUM_FIX_DUE:
        return Decision(
            Outcome.LOANER,
            "premium repair not fixed in time: loaner unit of the same grade, free of charge",
            EscalationKind.PREMIUM_FIX_OVERDUE,
            due,
        )
    late = late_check(order, now)
    if late is None:
        return Decision.nothing("appointment kept or moved")
    return Decision(
        Outcome.APPOINTMENT_LATE,
        f"appointment not kept: {late.minutes_late} min late, not moved before",
        EscalationKind.APPOINTMENT_LATE,
        due,
        minutes_late=late.minutes_late,
    )


def apply_decision(order: WorkOrder, decision: Decision, *, at: datetime, actor: Actor | None = None) -> None:
    """Carry out ``decision`` on the aggregate (raising its events). Applying it twice changes nothing."""
    if decision.outcome is Outcome.NOTHING or decision.escalation is None or decision.due_at is None:
        return
    actor = actor or Actor.system("dispatch-timers")
    if order.has_escalated(decision.escalation, decision.due_at):
        return
    order.escalate(decision.escalation, due_at=decision.due_at, reason=decision.reason, at=at, actor=actor)
    if decision.outcome is Outcome.GO_ON_SITE and order.state is S.REMOTE_SUPPORT:
        order.escalate_to_on_site(reason=decision.reason, at=at, actor=actor)
    if decision.outcome is Outcome.LOANER:
        order.request_loaner(at=at, actor=actor)
    if decision.outcome is Outcome.APPOINTMENT_LATE:
        order.report_appointment_late(minutes_late=decision.minutes_late, at=at, actor=actor)
    if decision.outcome is Outcome.BACK_TO_DISPATCHER:
        order.return_from_dealer(reason="not accepted in time", at=at, actor=actor)


def fire(order: WorkOrder, timer: Timer, now: datetime) -> Decision:
    """Decide and apply in one step: what the scheduler calls when ``timer`` is due."""
    decision = decide(order, timer, now)
    apply_decision(order, decision, at=now)
    return decision


def _escalate(kind: EscalationKind, due_at: datetime, reason: str) -> Decision:
    return Decision(Outcome.ESCALATE, reason, kind, due_at)


def _loaner_applies(order: WorkOrder) -> bool:
    return (
        order.premium
        and order.type is WorkOrderType.REPAIR
        and order.state in _BEING_WORKED
        and order.loaner_requested_at is None
        and order.unit is not None
        and bool(order.unit.model_grade)
    )
