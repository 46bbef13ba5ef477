"""Technicians: what they can do, where and when they work, what they are doing, and where they are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from dispatch.domain.events import (
    TechnicianArrived,
    TravelStarted,
    WorkOrderCancelled,
    WorkOrderCompleted,
    WorkOrderEvent,
    WorkOrderIncomplete,
)
from dispatch.domain.values import GeoPoint, Skill, TimeWindow, ensure_utc
from kit.calendar import MIDNIGHT, BusinessCalendar
from kit.domain import Conflict, DomainError


class TechnicianStatus(StrEnum):
    """What a technician is doing now, as the dispatcher board shows it."""

    AVAILABLE = "available"  # on duty and free for the next job
    TRAVELLING = "travelling"  # on the way to a visit (from the visit's start of travel)
    ON_SITE = "on_site"  # working a visit (from arrival until it is completed or reported incomplete)
    ON_BREAK = "on_break"
    OFF_DUTY = "off_duty"  # finished for the day
    INACTIVE = "inactive"  # not planned at all (a dispatcher deactivated the technician)


# what the technician sets from the app (or a dispatcher for them); the others follow the visits or the
# dispatcher's activation of the technician
SELF_REPORTED = frozenset({TechnicianStatus.AVAILABLE, TechnicianStatus.ON_BREAK, TechnicianStatus.OFF_DUTY})
ON_A_VISIT = frozenset({TechnicianStatus.TRAVELLING, TechnicianStatus.ON_SITE})


class VisitStepKind(StrEnum):
    STARTED_TRAVEL = "started_travel"
    ARRIVED = "arrived"
    ENDED = "ended"  # completed, reported incomplete, or cancelled under way


@dataclass(frozen=True)
class VisitStep:
    """A step of a visit that changes what its technician is doing."""

    technician_id: str
    work_order_id: str
    kind: VisitStepKind
    at: datetime
    actor_id: str


def visit_steps(events: Iterable[WorkOrderEvent], *, technician_id: str | None) -> list[VisitStep]:
    """The visit steps among a work order's raised ``events`` (``technician_id``: the order's technician,
    for the events that do not name one)."""
    steps = []
    for event in events:
        kind: VisitStepKind | None = None
        who: str | None = None
        match event:
            case TravelStarted():
                kind, who = VisitStepKind.STARTED_TRAVEL, event.technician_id
            case TechnicianArrived():
                kind, who = VisitStepKind.ARRIVED, event.technician_id
            case WorkOrderCompleted(remote=False) | WorkOrderIncomplete():
                kind, who = VisitStepKind.ENDED, event.technician_id
            case WorkOrderCancelled():
                kind, who = VisitStepKind.ENDED, technician_id
        if kind is not None and who:
            steps.append(VisitStep(who, event.work_order_id, kind, ensure_utc(event.at), event.actor.id))
    return steps


@dataclass(frozen=True)
class WorkingStatus:
    """What the technician is doing, since when, and the visit it belongs to (travelling to or on site
    at). Whether the technician is planned at all is not part of it: ``inactive`` is the dispatcher's.

    Reports arrive out of order (the app sends its queue after a spell offline): a report older than the
    status held changes nothing, so a replayed queue cannot move the status back."""

    status: TechnicianStatus = TechnicianStatus.AVAILABLE
    since: datetime | None = None
    work_order_id: str | None = None

    def __post_init__(self) -> None:
        if self.status is TechnicianStatus.INACTIVE:
            raise DomainError("inactive is set by deactivating the technician", code="bad-status")
        if (self.status in ON_A_VISIT) != (self.work_order_id is not None):
            raise DomainError("travelling and on site belong to a visit, and only they do", code="bad-status")

    @property
    def visit_under_way(self) -> bool:
        return self.status in ON_A_VISIT

    def reported(self, status: TechnicianStatus, *, at: datetime) -> WorkingStatus:
        """The technician sets their own status (available, on break, off duty). While a visit is under
        way the status follows the visit: its next step (arrival, completion, incomplete) changes it."""
        _require_self_reported(status)
        if self._older(at):
            return self
        if self.visit_under_way:
            raise Conflict(
                f"visit {self.work_order_id} is under way ({self.status.value}): complete it or report it "
                "incomplete first",
                code="visit-under-way",
                work_order_id=self.work_order_id,
            )
        return self._to(status, at, None)

    def overridden(self, status: TechnicianStatus, *, at: datetime) -> WorkingStatus:
        """A dispatcher sets the status for the technician, even during a visit (a phone call from the
        field, a status left behind by a cancelled job)."""
        _require_self_reported(status)
        if self._older(at):
            return self
        return self._to(status, at, None)

    def after(self, step: VisitStep) -> WorkingStatus:
        """The status after a step of one of the technician's visits. A visit's end ends only that visit's
        status: a late completion of an earlier job does not free a technician travelling to the next."""
        if self._older(step.at):
            return self
        if step.kind is VisitStepKind.STARTED_TRAVEL:
            return self._to(TechnicianStatus.TRAVELLING, step.at, step.work_order_id)
        if step.kind is VisitStepKind.ARRIVED:
            return self._to(TechnicianStatus.ON_SITE, step.at, step.work_order_id)
        if self.work_order_id == step.work_order_id:
            return self._to(TechnicianStatus.AVAILABLE, step.at, None)
        return self

    def _older(self, at: datetime) -> bool:
        return self.since is not None and ensure_utc(at) < self.since

    def _to(self, status: TechnicianStatus, at: datetime, work_order_id: str | None) -> WorkingStatus:
        if (status, work_order_id) == (self.status, self.work_order_id):
            return self  # unchanged: it keeps the time it began
        return WorkingStatus(status, ensure_utc(at), work_order_id)


def _require_self_reported(status: TechnicianStatus) -> None:
    if status not in SELF_REPORTED:
        raise DomainError(
            f"{status.value} cannot be set: travelling and on site follow the visit's steps, inactive is "
            "set by deactivating the technician",
            code="status-not-settable",
        )


@dataclass(frozen=True)
class ShiftSpan:
    """Working hours on one weekday in the technician's time zone; ``end`` is after ``start``, and an
    ``end`` of 00:00 means midnight at the end of the day."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end != MIDNIGHT and self.end <= self.start:
            raise DomainError(
                "a shift ends after it starts (split a night shift over two days)", code="bad-shift"
            )


@dataclass(frozen=True)
class Absence:
    window: TimeWindow
    reason: str = "leave"


@dataclass(frozen=True)
class Certification:
    """A named certification for a product line (``None``: every line), e.g. refrigerant handling for air
    conditioners, valid from ``valid_from`` to ``valid_until`` inclusive (``None``: open-ended)."""

    name: str
    product_line: str | None
    valid_until: date | None = None
    valid_from: date | None = None

    def __post_init__(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise DomainError(
                f"certification {self.name} expires before it becomes valid", code="bad-certification"
            )

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def covers(self, product_line: str) -> bool:
        return self.product_line is None or self.product_line == product_line


def certifications_required(
    product_line: str, listed: Iterable[str], by_line: Mapping[str, Iterable[str]]
) -> frozenset[str]:
    """The certifications a job on ``product_line`` requires: those every job on the line requires
    (``by_line``, the operator's setting) and those ``listed`` for this job."""
    return frozenset(by_line.get(product_line, ())) | frozenset(listed)


def weekday_shifts(days: Iterable[int], start: time, end: time) -> Mapping[int, tuple[ShiftSpan, ...]]:
    """The same shift on each of ``days`` (0 = Monday)."""
    span = (ShiftSpan(start, end),)
    return MappingProxyType({d: span for d in days})


STANDARD_WEEK = weekday_shifts(range(5), time(8), time(17))


def calendar_week(calendar: BusinessCalendar) -> Mapping[int, tuple[ShiftSpan, ...]]:
    """A business calendar's weekly working hours as shifts (in the calendar's time zone)."""
    return MappingProxyType(
        {day: (ShiftSpan(opens, closes),) for day, (opens, closes) in calendar.working_hours.items()}
    )


@dataclass(frozen=True)
class Technician:
    """A field technician. ``location`` is the last position the app reported; ``home`` where the working
    day starts when no position is known. ``installed_serials`` are the units this technician installed.
    ``holidays`` are local dates without work whatever the shifts (those of the centre's calendar, for a
    technician working to it); ``status_since`` is when ``status`` began."""

    id: str
    name: str
    home_centre_id: str
    region_ids: frozenset[str]
    skills: frozenset[Skill]
    shifts: Mapping[int, tuple[ShiftSpan, ...]] = field(default_factory=lambda: STANDARD_WEEK)
    timezone: str = "UTC"
    certifications: tuple[Certification, ...] = ()
    absences: tuple[Absence, ...] = ()
    holidays: frozenset[date] = frozenset()
    daily_capacity_minutes: int = 480
    status: TechnicianStatus = TechnicianStatus.AVAILABLE
    status_since: datetime | None = None
    home: GeoPoint | None = None
    location: GeoPoint | None = None
    location_reported_at: datetime | None = None
    van_location_id: str | None = None
    installed_serials: frozenset[str] = frozenset()
    dealer_id: str | None = None

    def __post_init__(self) -> None:
        if self.daily_capacity_minutes < 0:
            raise DomainError("daily capacity cannot be negative", code="bad-capacity")
        if any(not 0 <= d <= 6 for d in self.shifts):
            raise DomainError("shift weekdays run from 0 (Monday) to 6 (Sunday)", code="bad-shift")
        ZoneInfo(self.timezone)  # an unknown zone fails here, not in the middle of planning

    # --- what they can do -------------------------------------------------------------------------------

    def missing_skills(self, required: Iterable[Skill]) -> frozenset[Skill]:
        return frozenset(required) - self.skills

    def missing_certifications(self, required: Iterable[str], product_line: str, on: date) -> frozenset[str]:
        """The ``required`` certifications the technician does not hold for ``product_line`` on ``on``."""
        held = {c.name for c in self.certifications if c.covers(product_line) and c.valid_on(on)}
        return frozenset(required) - held

    def covers_region(self, region_id: str) -> bool:
        return region_id in self.region_ids

    def installed(self, serial: str | None) -> bool:
        return serial is not None and serial in self.installed_serials

    @property
    def assignable(self) -> bool:
        """Whether the technician is planned at all."""
        return self.status is not TechnicianStatus.INACTIVE

    @property
    def off_duty(self) -> bool:
        return self.status is TechnicianStatus.OFF_DUTY

    @property
    def position(self) -> GeoPoint | None:
        """Where travel to the next job starts: the last reported position, else home."""
        return self.location or self.home

    # --- when they work ---------------------------------------------------------------------------------

    def working_to(self, calendar: BusinessCalendar) -> Technician:
        """The technician working to a centre's business calendar: its working hours as shifts, its time
        zone and its holidays."""
        return replace(
            self, shifts=calendar_week(calendar), timezone=calendar.timezone, holidays=calendar.holidays
        )

    def shift_windows(self, within: TimeWindow) -> list[TimeWindow]:
        """The shift hours that fall inside ``within``, in UTC, ignoring absences (but not holidays)."""
        zone = ZoneInfo(self.timezone)
        first = within.start.astimezone(zone).date() - timedelta(days=1)
        last = within.end.astimezone(zone).date()
        windows: list[TimeWindow] = []
        day = first
        while day <= last:
            for span in () if day in self.holidays else self.shifts.get(day.weekday(), ()):
                start = datetime.combine(day, span.start, zone).astimezone(UTC)
                end_day = day + timedelta(days=1) if span.end == MIDNIGHT else day
                end = datetime.combine(end_day, span.end, zone).astimezone(UTC)
                start, end = max(start, within.start), min(end, within.end)
                if start < end:
                    windows.append(TimeWindow(start, end))
            day += timedelta(days=1)
        return _merge(windows)

    def working_windows(self, within: TimeWindow, busy: Iterable[TimeWindow] = ()) -> list[TimeWindow]:
        """Shift hours inside ``within`` less absences, the rest of a day the technician went off duty,
        and any ``busy`` periods (existing bookings)."""
        blocked = [a.window for a in self.absences] + list(busy)
        if self.off_duty and self.status_since is not None:
            blocked.append(self._rest_of_day(self.status_since))
        return _subtract(self.shift_windows(within), blocked)

    def is_available(self, start: datetime, end: datetime, busy: Iterable[TimeWindow] = ()) -> bool:
        """Whether the whole of ``[start, end)`` is working time, free of absences and ``busy`` periods."""
        start, end = ensure_utc(start), ensure_utc(end)
        if end <= start:
            return False
        return any(w.covers(start, end) for w in self.working_windows(TimeWindow(start, end), busy))

    def absent_during(self, window: TimeWindow) -> Absence | None:
        return next((a for a in self.absences if a.window.overlaps(window)), None)

    def local_date(self, at: datetime) -> date:
        return ensure_utc(at).astimezone(ZoneInfo(self.timezone)).date()

    def local_day(self, day: date) -> TimeWindow:
        """The whole of ``day`` in the technician's time zone."""
        zone = ZoneInfo(self.timezone)
        start = datetime.combine(day, MIDNIGHT, zone)
        end = datetime.combine(day + timedelta(days=1), MIDNIGHT, zone)
        return TimeWindow(start.astimezone(UTC), end.astimezone(UTC))

    def _rest_of_day(self, at: datetime) -> TimeWindow:
        return TimeWindow(ensure_utc(at), self.local_day(self.local_date(at)).end)

    # --- what the app and the back office change ---------------------------------------------------------

    def reported_at(self, position: GeoPoint, at: datetime) -> Technician:
        """The technician with a newer position; an older report than the one held changes nothing."""
        at = ensure_utc(at)
        if self.location_reported_at is not None and at <= self.location_reported_at:
            return self
        return replace(self, location=position, location_reported_at=at)

    def with_status(self, status: TechnicianStatus, since: datetime | None = None) -> Technician:
        return replace(self, status=status, status_since=since)

    def with_absence(self, absence: Absence) -> Technician:
        return replace(self, absences=(*self.absences, absence))

    def with_installed(self, serial: str) -> Technician:
        return replace(self, installed_serials=self.installed_serials | {serial})


def _merge(windows: list[TimeWindow]) -> list[TimeWindow]:
    merged: list[TimeWindow] = []
    for w in sorted(windows):
        if merged and w.start <= merged[-1].end:
            if w.end > merged[-1].end:
                merged[-1] = TimeWindow(merged[-1].start, w.end)
        else:
            merged.append(w)
    return merged


def _subtract(windows: list[TimeWindow], blocked: Iterable[TimeWindow]) -> list[TimeWindow]:
    pieces = list(windows)
    for b in sorted(blocked):
        next_pieces: list[TimeWindow] = []
        for w in pieces:
            if not w.overlaps(b):
                next_pieces.append(w)
                continue
            if w.start < b.start:
                next_pieces.append(TimeWindow(w.start, b.start))
            if b.end < w.end:
                next_pieces.append(TimeWindow(b.end, w.end))
        pieces = next_pieces
    return pieces
