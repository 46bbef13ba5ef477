"""Appointments are kept to the minute; one that cannot be kept is moved, with the customer told, before
it starts. One neither started nor moved by its start time is late and escalates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, get_args

from contracts.dispatch import RescheduleReason
from dispatch.domain.values import Actor, TimeWindow, ensure_utc
from kit.domain import DomainError

if TYPE_CHECKING:
    from dispatch.domain.work_orders import WorkOrder

# Why an appointment moves, as the rescheduled event (``dispatch.work_order.rescheduled.v1``) names it.
RESCHEDULE_REASONS: frozenset[str] = frozenset(get_args(RescheduleReason))


def _whole_minute(at: datetime) -> bool:
    return at.second == 0 and at.microsecond == 0


@dataclass(frozen=True)
class Appointment:
    """A visit agreed with the customer, to the minute."""

    window: TimeWindow
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    times_moved: int = 0

    def __post_init__(self) -> None:
        if not (_whole_minute(self.window.start) and _whole_minute(self.window.end)):
            raise DomainError("appointments are agreed to the minute", code="appointment-not-whole-minute")

    @classmethod
    def at(cls, start: datetime, minutes: int) -> Appointment:
        return cls(TimeWindow(start, start + timedelta(minutes=minutes)))

    @property
    def start(self) -> datetime:
        return self.window.start

    @property
    def end(self) -> datetime:
        return self.window.end

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    def confirm(self, *, at: datetime, actor: Actor) -> Appointment:
        return replace(self, confirmed_at=ensure_utc(at), confirmed_by=actor.id)


@dataclass(frozen=True)
class Rescheduling:
    """The outcome of moving an appointment: the new one, and whether the customer heard in time."""

    appointment: Appointment
    moved_before_start: bool
    notice: timedelta | None


def reschedule(
    current: Appointment | None, new_window: TimeWindow, *, reason: str, at: datetime
) -> Rescheduling:
    """Move ``current`` to ``new_window``. The new time still needs the customer's confirmation; a move
    made at or after the old start is recorded as not made in time."""
    at = ensure_utc(at)
    if not reason.strip():
        raise DomainError("a rescheduled appointment needs a reason", code="reschedule-reason-required")
    if new_window.start < at:
        raise DomainError("an appointment cannot be moved into the past", code="appointment-in-past")
    moved = (current.times_moved + 1) if current else 0
    appointment = Appointment(new_window, times_moved=moved)
    if current is None:
        return Rescheduling(appointment, moved_before_start=True, notice=None)
    in_time = at < current.start
    return Rescheduling(
        appointment, moved_before_start=in_time, notice=(current.start - at) if in_time else None
    )


@dataclass(frozen=True)
class AppointmentLate:
    """An appointment whose start passed with nobody on site and no move agreed before it."""

    work_order_id: str
    appointment_start: datetime
    minutes_late: int


def late_check(order: WorkOrder, now: datetime) -> AppointmentLate | None:
    """Whether ``order``'s appointment is late at ``now``: its start has passed, the technician has not
    arrived, and the order is still waiting for the visit (not cancelled or finished)."""
    now = ensure_utc(now)
    appointment = order.appointment
    if appointment is None or now < appointment.start or not order.awaiting_visit:
        return None
    return AppointmentLate(order.id, appointment.start, int((now - appointment.start).total_seconds() // 60))
