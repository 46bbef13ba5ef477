"""The calendar conventions every warranty rule shares.

One convention for the whole service, so an agent, a dealer and a test all count the same way:

- **Day 0 is the start date.** "Within N days" means days 0..N inclusive: the last open day is the
  start date plus N days. A 15-day refund window that starts on 1 March is open on 16 March
  (day 15) and closed on 17 March (day 16).
- **Months are calendar months.** "N months" ends on the same day of the month N months later, or
  on that month's last day when the month is shorter: 31 January + 1 month is 28 (or 29) February,
  and 29 February 2024 + 24 months is 28 February 2026.
- **Every until-date is inclusive**: a remedy is open on its until-date and closed the day after.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from kit.domain import DomainError

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months, clamped to the last day of a shorter month."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))


def last_day_within_days(start: date, days: int) -> date:
    """The last open day of a window of ``days`` days starting on ``start`` (day 0)."""
    return start + timedelta(days=days)


def last_day_within_months(start: date, months: int) -> date:
    """The last open day of a window of ``months`` calendar months starting on ``start``."""
    return add_months(start, months)


def day_number(start: date, on: date) -> int:
    """Which day of a period ``on`` is: 0 on the start date, negative before it."""
    return (on - start).days


def spoken_date(on: date) -> str:
    """A date as an agent reads it out: ``10 March 2026`` (independent of the machine's locale)."""
    return f"{on.day} {_MONTH_NAMES[on.month - 1]} {on.year}"


def require_utc(at: datetime) -> datetime:
    """``at`` as a UTC datetime; a naive datetime is refused because its moment is unknown."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError("timestamps must be timezone-aware", code="naive-datetime")
    return at.astimezone(UTC)
