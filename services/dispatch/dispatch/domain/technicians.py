"""Technicians: what they can do, where and when they work, and where they are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from dispatch.domain.values import GeoPoint, Skill, TimeWindow, ensure_utc
from kit.domain import DomainError


class TechnicianStatus(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    OFF_DUTY = "off_duty"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class ShiftSpan:
    """Working hours on one weekday in the technician's time zone; ``end`` is after ``start``."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise DomainError(
                "a shift ends after it starts (split a night shift over two days)", code="bad-shift"
            )


@dataclass(frozen=True)
class Absence:
    window: TimeWindow
    reason: str = "leave"


@dataclass(frozen=True)
class Certification:
    """A named certification for a product line, e.g. refrigerant handling for air conditioners."""

    name: str
    product_line: str
    valid_until: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_until is None or day <= self.valid_until


def weekday_shifts(days: Iterable[int], start: time, end: time) -> Mapping[int, tuple[ShiftSpan, ...]]:
    """The same shift on each of ``days`` (0 = Monday)."""
    span = (ShiftSpan(start, end),)
    return MappingProxyType({d: span for d in days})


STANDARD_WEEK = weekday_shifts(range(5), time(8), time(17))


@dataclass(frozen=True)
class Technician:
    """A field technician. ``location`` is the last position the app reported; ``home`` where the working
    day starts when no position is known. ``installed_serials`` are the units this technician installed."""

    id: str
    name: str
    home_centre_id: str
    region_ids: frozenset[str]
    skills: frozenset[Skill]
    shifts: Mapping[int, tuple[ShiftSpan, ...]] = field(default_factory=lambda: STANDARD_WEEK)
    timezone: str = "UTC"
    certifications: tuple[Certification, ...] = ()
    absences: tuple[Absence, ...] = ()
    daily_capacity_minutes: int = 480
    status: TechnicianStatus = TechnicianStatus.AVAILABLE
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
        held = {c.name for c in self.certifications if c.product_line == product_line and c.valid_on(on)}
        return frozenset(required) - held

    def covers_region(self, region_id: str) -> bool:
        return region_id in self.region_ids

    def installed(self, serial: str | None) -> bool:
        return serial is not None and serial in self.installed_serials

    @property
    def assignable(self) -> bool:
        return self.status is not TechnicianStatus.INACTIVE

    @property
    def position(self) -> GeoPoint | None:
        """Where travel to the next job starts: the last reported position, else home."""
        return self.location or self.home

    # --- when they work ---------------------------------------------------------------------------------

    def shift_windows(self, within: TimeWindow) -> list[TimeWindow]:
        """The shift hours that fall inside ``within``, in UTC, ignoring absences."""
        zone = ZoneInfo(self.timezone)
        first = within.start.astimezone(zone).date() - timedelta(days=1)
        last = within.end.astimezone(zone).date()
        windows: list[TimeWindow] = []
        day = first
        while day <= last:
            for span in self.shifts.get(day.weekday(), ()):
                start = datetime.combine(day, span.start, zone).astimezone(UTC)
                end = datetime.combine(day, span.end, zone).astimezone(UTC)
                start, end = max(start, within.start), min(end, within.end)
                if start < end:
                    windows.append(TimeWindow(start, end))
            day += timedelta(days=1)
        return _merge(windows)

    def working_windows(self, within: TimeWindow, busy: Iterable[TimeWindow] = ()) -> list[TimeWindow]:
        """Shift hours inside ``within`` less absences and any ``busy`` periods (existing bookings)."""
        blocked = [a.window for a in self.absences] + list(busy)
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

    # --- what the app and the back office change ---------------------------------------------------------

    def reported_at(self, position: GeoPoint, at: datetime) -> Technician:
        """The technician with a newer position; an older report than the one held changes nothing."""
        at = ensure_utc(at)
        if self.location_reported_at is not None and at <= self.location_reported_at:
            return self
        return replace(self, location=position, location_reported_at=at)

    def with_status(self, status: TechnicianStatus) -> Technician:
        return replace(self, status=status)

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
