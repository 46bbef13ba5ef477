"""Business calendars: working hours, holidays and a time zone, for targets counted in working time.

A target such as "acknowledge a fax within 5 working minutes" falls due later than the same target in
calendar time when the clock crosses a night, a weekend or a holiday. Working hours are local wall
times in the calendar's IANA time zone, so a working day is 8 hours long on the day clocks change too.
Every input and output instant is a timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kit.domain import DomainError

MIDNIGHT = time(0, 0)
_ALL_DAY = (MIDNIGHT, MIDNIGHT)
# Far more days than any real target spans; stops a loop on a calendar that never opens again.
_MAX_DAYS_SCANNED = 366 * 20


def _as_utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """When work happens: opening hours per weekday in one time zone, minus holidays.

    ``working_hours`` maps a weekday (0 = Monday … 6 = Sunday) to its local opening and closing
    time; a weekday that is missing is closed. A closing time of ``00:00`` means midnight at the
    end of the day, so ``(time(0), time(0))`` is open all day. ``holidays`` are local dates that
    are closed whatever their weekday.
    """

    timezone: str
    working_hours: Mapping[int, tuple[time, time]]
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError(f"unknown time zone {self.timezone!r}", code="bad-timezone") from None
        hours = dict(self.working_hours)
        for weekday, (opening, closing) in hours.items():
            if weekday not in range(7):
                raise DomainError(
                    f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}", code="bad-calendar"
                )
            if opening.tzinfo is not None or closing.tzinfo is not None:
                raise DomainError(
                    "working hours are local wall times without a time zone", code="bad-calendar"
                )
            if closing != MIDNIGHT and closing <= opening:
                raise DomainError(
                    f"weekday {weekday} closes ({closing}) before it opens ({opening})", code="bad-calendar"
                )
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "working_hours", MappingProxyType(hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    def __hash__(self) -> int:
        return hash((self.timezone, tuple(sorted(self.working_hours.items())), self.holidays))

    def to_json(self) -> dict[str, Any]:
        """The calendar as JSON (how services store it): zone, hours per ISO weekday key, holidays."""
        return {
            "timezone": self.timezone,
            "working_hours": {
                str(day): [opening.isoformat("minutes"), closing.isoformat("minutes")]
                for day, (opening, closing) in sorted(self.working_hours.items())
            },
            "holidays": sorted(day.isoformat() for day in self.holidays),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """The calendar ``to_json`` wrote."""
        return cls(
            timezone=str(data["timezone"]),
            working_hours={
                int(day): (time.fromisoformat(span[0]), time.fromisoformat(span[1]))
                for day, span in data["working_hours"].items()
            },
            holidays=frozenset(date.fromisoformat(day) for day in data.get("holidays", [])),
        )

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """Open around the clock every day (UTC): working time equals elapsed time."""
        return cls(timezone="UTC", working_hours=dict.fromkeys(range(7), _ALL_DAY), holidays=frozenset())

    @property
    def _never_closes(self) -> bool:
        return not self.holidays and all(self.working_hours.get(day) == _ALL_DAY for day in range(7))

    def is_working(self, at: datetime) -> bool:
        """Whether ``at`` falls inside working hours (opening inclusive, closing exclusive)."""
        at = _as_utc(at, "at")
        local_day = at.astimezone(self._zone).date()
        return any(opening <= at < closing for opening, closing in self._day_intervals(local_day))

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant by which ``duration`` of working time has passed after ``start``.

        Time outside working hours does not count: a target started in the evening runs from the
        next opening. A target used up exactly at closing time falls due at closing, not at the next
        opening. A zero duration is due at ``start``.
        """
        start = _as_utc(start, "start")
        if duration < timedelta(0):
            raise DomainError("a working-time duration cannot be negative", code="bad-duration")
        if duration == timedelta(0) or self._never_closes:
            return start + duration
        remaining = duration
        for opening, closing in self._intervals_from(start):
            begin = max(opening, start)
            available = closing - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise DomainError("the calendar has no working time left to count", code="calendar-never-opens")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much working time lies in ``[start, end)``; zero when ``end`` is not after ``start``."""
        start = _as_utc(start, "start")
        end = _as_utc(end, "end")
        if end <= start:
            return timedelta(0)
        if self._never_closes:
            return end - start
        total = timedelta(0)
        for opening, closing in self._intervals_from(start):
            if opening >= end:
                break
            total += min(closing, end) - max(opening, start)
        return total

    # --- intervals ------------------------------------------------------------------------------

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in UTC, in order, from the one that contains or follows ``start``."""
        day = start.astimezone(self._zone).date()
        if not self.working_hours:
            return
        for offset in range(_MAX_DAYS_SCANNED):
            for opening, closing in self._day_intervals(day + timedelta(days=offset)):
                if closing > start:
                    yield opening, closing

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        hours = self.working_hours.get(day.weekday())
        if hours is None or day in self.holidays:
            return []
        opening, closing = hours
        opens_at = self._utc(day, opening)
        closes_at = (
            self._utc(day + timedelta(days=1), MIDNIGHT) if closing == MIDNIGHT else self._utc(day, closing)
        )
        return [(opens_at, closes_at)] if closes_at > opens_at else []

    def _utc(self, day: date, wall: time) -> datetime:
        # A wall time inside a spring-forward gap takes the offset before the change (fold=0), so it
        # lands as far after the gap as it was into it; a repeated autumn time is its first occurrence.
        return datetime.combine(day, wall, tzinfo=self._zone).astimezone(UTC)
