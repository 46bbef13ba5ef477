"""What dispatch needs from a business calendar.

The service network's calendars are ``kit.calendar.BusinessCalendar`` values; dispatch depends only on
this protocol, so any calendar with these three methods can be passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from kit.calendar import BusinessCalendar


class WorkingCalendar(Protocol):
    def is_working(self, at: datetime) -> bool: ...

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime: ...

    def working_time_between(self, start: datetime, end: datetime) -> timedelta: ...


# every minute counts: service levels run on the wall clock
ALWAYS_OPEN: WorkingCalendar = BusinessCalendar.always_open()
